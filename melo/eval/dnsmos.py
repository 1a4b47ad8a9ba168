"""DNSMOS P.835 (evaluation extra): predicted listener ratings of speech quality, from the ONNX models that
the ``speechmos`` wheel ships, run with onnxruntime.

Microsoft's DNSMOS P.835 network reads 9.01 s of 16 kHz audio (144160 samples) and predicts three mean
opinion scores on the ITU-T P.835 scales, 1 (bad) to 5 (excellent): SIG (the speech signal itself), BAK
(background noise: 5 = none) and OVRL (overall). Shorter audio is repeated to 9.01 s; longer audio is
scored in 9.01 s windows 1 s apart and averaged. The raw outputs are mapped with the published
third-order calibration polynomials of the non-personalised model. Clean read speech scores about
SIG 3.3-4, BAK 3.5-4.2, OVRL 2.8-3.5; white noise scores below 2 (README's table).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from melo.eval.analysis import ANALYSIS_RATE, to_analysis_rate
from melo.eval.extras import import_extra, package_file

__all__ = ["Dnsmos", "DnsmosScores", "get_dnsmos"]

WINDOW_SAMPLES = 144160  # 9.01 s at 16 kHz
HOP_SAMPLES = ANALYSIS_RATE
# P.835 calibration (highest power first), non-personalised model
_SIG = np.poly1d([-0.08397278, 1.22083953, 0.0052439])
_BAK = np.poly1d([-0.13166888, 1.60915514, -0.39604546])
_OVRL = np.poly1d([-0.06766283, 1.11546468, 0.04602535])


@dataclass(frozen=True)
class DnsmosScores:
    sig: float
    bak: float
    ovrl: float


class Dnsmos:
    """The DNSMOS P.835 model in an onnxruntime session (one thread)."""

    def __init__(self) -> None:
        onnxruntime = import_extra("onnxruntime", "dnsmos")
        model = package_file("speechmos", "dnsmos_models/sig_bak_ovr.onnx", "dnsmos")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name

    def score(self, samples: np.ndarray, sample_rate: int) -> DnsmosScores:
        x = np.clip(to_analysis_rate(samples, sample_rate), -1.0, 1.0).astype(np.float32)
        if x.shape[0] == 0:
            raise ValueError("empty audio (0 samples)")
        if x.shape[0] < WINDOW_SAMPLES:
            x = np.resize(x, WINDOW_SAMPLES)  # repeats the audio
        starts = range(0, x.shape[0] - WINDOW_SAMPLES + 1, HOP_SAMPLES)
        windows = np.stack([x[s : s + WINDOW_SAMPLES] for s in starts])
        raw = self._session.run(None, {self._input: windows})[0]  # (windows, 3): SIG, BAK, OVRL
        return DnsmosScores(
            sig=float(np.mean(_SIG(raw[:, 0]))),
            bak=float(np.mean(_BAK(raw[:, 1]))),
            ovrl=float(np.mean(_OVRL(raw[:, 2]))),
        )


@functools.lru_cache(maxsize=1)
def get_dnsmos() -> Dnsmos:
    """The model, loaded once per process."""
    return Dnsmos()
