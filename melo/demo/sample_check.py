"""The demo's listening test, done by a machine: is each sentence of the sample the sentence it should be?

Each sentence the demo synthesises is a held-out sentence of the learning-proof grammar (:mod:`melo.demo.sentences`:
in no line the base voice was trained on). espeak-ng reads that sentence and the other held-out sentences of its
language with the same speaker's voice; the synthesised sentence is *identified* when, among those readings, the
nearest one by DTW over mel cepstra (:mod:`melo.eval`) is its own. Chance is one in the number of candidates. The
table also gives the mel-cepstral distortion and the speech-duration ratio against its own reading.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from melo.demo.corpus import SAMPLE_RATE, Speaker, espeak_executable, espeak_text, speak
from melo.demo.sentences import Sentence

__all__ = ["SentenceCheck", "check_sentences", "format_checks"]


@dataclass(frozen=True)
class SentenceCheck:
    sentence: Sentence
    identified: bool
    rank: int  # of its own reading among the candidates, by DTW distance (1: identified)
    nearest_text: str
    candidates: int
    mcd_db: float
    duration_ratio: float


def check_sentences(syntheses: list[np.ndarray], sample_rate: int, sentences: list[Sentence],
                    candidates: dict[str, list[Sentence]], speaker: Speaker) -> list[SentenceCheck]:
    """Identify ``syntheses[i]`` (the audio of ``sentences[i]``) among espeak-ng readings of ``candidates[language]``
    (which must hold the sentence itself) in ``speaker``'s voice."""
    from melo.eval.acoustic import analyse, compare
    from melo.eval.identification import ClosedSet

    exe = espeak_executable()
    pool = [c for s in sentences for c in candidates[s.language]]
    pool = list({(c.language, c.text): c for c in pool}.values())
    with tempfile.TemporaryDirectory(prefix="melo-demo-check-") as tmp:
        readings = {(c.language, c.text): analyse(speak(exe, c.language, espeak_text(c.language, c.text, c.reading),
                                                        speaker, Path(tmp)), SAMPLE_RATE) for c in pool}
    closed = ClosedSet([text for _, text in readings], [a.normalised_cepstrum for a in readings.values()],
                       [language for language, _ in readings])
    checks = []
    for audio, sentence in zip(syntheses, sentences, strict=True):
        analysis = analyse(audio, sample_rate)
        found = closed.identify(analysis.normalised_cepstrum, sentence.text, sentence.language)
        scores = compare(analysis, readings[(sentence.language, sentence.text)])
        checks.append(SentenceCheck(sentence, found.correct, found.rank, found.nearest_text, found.candidates, scores.mcd_db,
                                    scores.duration_ratio))
    return checks


def format_checks(checks: list[SentenceCheck], speaker: str) -> str:
    lines = [f"Sample check: each sentence against espeak-ng readings (voice {speaker}) of the held-out sentences of its "
             "language; identified = its own reading is the nearest by DTW (rank 1; chance 1 in the number of readings).",
             f"  {'lang':4}  {'identified':>14}  {'MCD dB':>6}  {'duration':>8}  sentence"]
    for c in checks:
        verdict = f"{'yes' if c.identified else 'NO'} ({c.rank} of {c.candidates})"
        lines.append(f"  {c.sentence.language:4}  {verdict:>14}  {c.mcd_db:6.2f}  {c.duration_ratio:8.2f}  {c.sentence.text}"
                     + ("" if c.identified else f"   [nearest: {c.nearest_text}]"))
    return "\n".join(lines)
