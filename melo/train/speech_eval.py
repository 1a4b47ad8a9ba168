"""Does the generator speak? At every evaluation (rank 0) it synthesises a fixed validation subset from text alone
and :mod:`melo.eval` scores the audio against each line's own recording.

The subset is ``train.eval_utterances`` validation lines taken from each language in turn (different sentences
first), so every language of the validation list is measured. Each line is synthesised as :meth:`melo.api.TTS.synthesize` would
(predicted durations, the API's default noise and duration settings, a fixed seed) from the phones and encoder
features preprocessing cached for it; nothing here runs the text frontend or the encoder. The scores
(``train.eval_metrics``: MCD, log-F0 and voicing errors, the duration ratio and closed-set identification by
default; recogniser WER, speaker similarity and DNSMOS with the evaluation extra) go to the log, to TensorBoard
(``speech/<score>`` overall and ``speech_<LANG>/<score>`` per language), with each line's audio and a mel image of
reference beside synthesis for the first lines. The references are analysed once, when the run starts.

:func:`score_is_better` and :func:`best_value` tell which of two values of ``train.best_metric`` is better; the loop
keeps ``G_best.pth`` by them.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from melo.data.dataset import TextAudioDataset, collate
from melo.monitor import Monitor

if TYPE_CHECKING:
    from melo.config import Config
    from melo.eval import EvalReport

__all__ = ["SYNTHESIS_SETTINGS", "SpeechEvaluation", "best_value", "score_is_better"]

logger = logging.getLogger(__name__)

SYNTHESIS_SETTINGS = {"noise_scale": 0.6, "noise_scale_w": 0.8, "sdp_ratio": 0.2, "length_scale": 1.0}
"""What the evaluation synthesises with: the defaults of :meth:`melo.api.TTS.synthesize` (a test keeps them equal)."""
SYNTHESIS_SEED = 0
IMAGES = 2
"""How many lines get audio and a mel image in TensorBoard at each evaluation."""


@dataclass(frozen=True)
class _Line:
    index: int  # in the validation dataset
    text: str
    language: str
    speaker: str


class SpeechEvaluation:
    """The validation subset and its analysed references; call it with the generator at each evaluation."""

    def __init__(self, dataset: TextAudioDataset, config: "Config") -> None:
        from melo.eval import Evaluator, Reference

        t = config.train
        self.config = config
        self.lines = _choose_lines(dataset, t.eval_utterances)
        self.dataset = dataset
        sr = config.data.sampling_rate
        references = []
        for line in self.lines:
            item = dataset[line.index]
            references.append(Reference(id=item.key, text=line.text, language=line.language, speaker=line.speaker,
                                        audio=item.wav.numpy(), sample_rate=sr))
        self.evaluator = Evaluator(references, metrics=t.eval_metrics)
        started = time.perf_counter()
        self.evaluator.reference_analyses  # analyse the references now, not in the first evaluation
        logger.info("speech evaluation: %d validation lines (%s), metrics %s; references analysed in %.1f s",
                    len(self.lines), ", ".join(f"{k} {v}" for k, v in Counter(x.language for x in self.lines).items()),
                    ", ".join(t.eval_metrics), time.perf_counter() - started)

    @torch.no_grad()
    def __call__(self, generator: torch.nn.Module, step: int, monitor: Monitor, device: torch.device) -> "EvalReport":
        """Synthesise every line with ``generator`` (in eval mode; restored after), score, report; return the report."""
        from melo.eval import mel_comparison_image

        started = time.perf_counter()
        was_training = generator.training
        generator.eval()
        audio: list[np.ndarray] = []
        devices = [device] if device.type == "cuda" else []
        try:
            with torch.random.fork_rng(devices=devices):  # training's random streams are left alone
                torch.manual_seed(SYNTHESIS_SEED)
                for line in self.lines:
                    batch = collate([self.dataset[line.index]]).to(device)
                    out = generator.infer(batch.phone_ids, batch.tone_ids, batch.language_ids, batch.text_features,
                                          batch.speaker_ids, batch.text_lengths, **SYNTHESIS_SETTINGS,
                                          max_len=int(batch.spec_lengths[0]) * 3)
                    audio.append(out.audio[0, 0, : int(out.audio_lengths[0])].float().cpu().numpy())
        finally:
            generator.train(was_training)
        synthesis_seconds = time.perf_counter() - started
        sr = self.config.data.sampling_rate
        report = self.evaluator.evaluate(audio, sr, system="model")
        self._report(report, step, monitor)
        for i in range(min(IMAGES, len(self.lines))):
            ref = self.evaluator.references[i]
            monitor.audio(f"speech/audio_{i}", step, torch.from_numpy(audio[i])[None], sr)
            monitor.image(f"speech/mel_{i}_reference_vs_synthesis", step,
                          mel_comparison_image([(ref.audio, sr), (audio[i], sr)]))
        logger.info("step %d | speech evaluation of %d lines in %.1f s (synthesis %.1f s):\n%s", step, len(audio),
                    time.perf_counter() - started, synthesis_seconds, report.table())
        return report

    @staticmethod
    def _report(report: "EvalReport", step: int, monitor: Monitor) -> None:
        scalars: dict[str, float] = {}
        for language in ["all", *report.languages]:
            prefix = "speech" if language == "all" else f"speech_{language}"
            for name, value in report.summary("model", language).items():
                if math.isfinite(value):
                    scalars[f"{prefix}/{name}"] = value
        monitor.scalars(step, scalars)


def _choose_lines(dataset: TextAudioDataset, count: int) -> list[_Line]:
    """``count`` lines, taking each language in turn and, within a language, the first line of a sentence not
    chosen yet (several readings of one sentence would make closed-set identification trivial) by the speaker
    chosen least so far."""
    by_language: dict[str, list[_Line]] = {}
    manifest = dataset.manifest
    for index, item in enumerate(manifest.items):
        phonemes = json.loads(manifest.phonemes_path(item).read_text(encoding="utf-8"))["phonemes"]
        language = _main_language(phonemes)
        by_language.setdefault(language, []).append(_Line(index, item.text, language, item.speaker))
    chosen: list[_Line] = []
    texts: set[str] = set()
    speakers: Counter[str] = Counter()
    while len(chosen) < count and any(by_language.values()):
        for queue in by_language.values():
            if queue and len(chosen) < count:
                line = min(queue, key=lambda x: (x.text in texts, speakers[x.speaker]))  # first of the best
                queue.remove(line)
                chosen.append(line)
                texts.add(line.text)
                speakers[line.speaker] += 1
    return sorted(chosen, key=lambda line: line.index)


def _main_language(phonemes: dict) -> str:
    """The language that covers most characters of a line (its segments: ``[language, start, end, text]``)."""
    cover: Counter[str] = Counter()
    for language, start, end, *_ in phonemes["segments"]:
        cover[language] += end - start
    return cover.most_common(1)[0][0]


def best_value(report: "EvalReport", metric: str) -> float:
    """The overall value of ``metric`` (an aggregate of :data:`melo.eval.AGGREGATES`) in the model's report."""
    return report.summary("model")[metric]


def score_is_better(metric: str, value: float, best: float | None) -> bool:
    """Is ``value`` of ``metric`` better than the best so far (``None``: there is none yet)? NaN never is."""
    if not math.isfinite(value):
        return False
    if best is None or not math.isfinite(best):
        return True
    if metric == "val_mel_l1":
        return value < best
    from melo.eval import AGGREGATES

    better = AGGREGATES[metric].better
    if better == "lower":
        return value < best
    if better == "higher":
        return value > best
    return abs(math.log(value)) < abs(math.log(best))  # closer to 1 (a ratio)
