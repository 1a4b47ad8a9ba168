"""Objective evaluation of synthesised speech against reference recordings.

Library (no checkpoint, no text frontend needed; see :mod:`melo.eval.evaluate`)::

    from melo.eval import Evaluator, EvalReport, Reference, SpeakerRecordings, Utterance, evaluate_utterances

Command line (synthesises a filelist with a checkpoint, then scores it; see :mod:`melo.eval.__main__`)::

    python -m melo.eval --model checkpoints/melo_bge_m3/G_latest.pth --list data/val_list.txt --out eval/

Metrics: ``acoustic`` (MCD, log-F0 error, voicing error, duration ratio; :mod:`melo.eval.acoustic`),
``identification`` (closed-set sentence identification by DTW; :mod:`melo.eval.identification`) -- numpy
and scipy only -- and, with the evaluation extra (``requirements-eval.txt``): ``asr`` (pocketsphinx WER and
closed-set identification, English; :mod:`melo.eval.asr`), ``speaker`` (resemblyzer cosine;
:mod:`melo.eval.speaker`), ``dnsmos`` (DNSMOS P.835; :mod:`melo.eval.dnsmos`).
"""

from melo.eval.evaluate import (
    ALL_METRICS,
    CORE_METRICS,
    Evaluator,
    Reference,
    SpeakerRecordings,
    Utterance,
    evaluate_utterances,
    parse_metrics,
)
from melo.eval.extras import MissingExtraError
from melo.eval.plots import mel_comparison_image, write_png
from melo.eval.report import AGGREGATES, EvalReport, UtteranceResult

__all__ = [
    "AGGREGATES",
    "ALL_METRICS",
    "CORE_METRICS",
    "EvalReport",
    "Evaluator",
    "MissingExtraError",
    "Reference",
    "SpeakerRecordings",
    "Utterance",
    "UtteranceResult",
    "evaluate_utterances",
    "mel_comparison_image",
    "parse_metrics",
    "write_png",
]
