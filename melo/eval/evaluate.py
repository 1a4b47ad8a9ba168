"""Scoring synthesised audio against reference recordings: the library entry points.

    from melo.eval import Reference, Evaluator, evaluate_utterances, Utterance

    evaluator = Evaluator(references, speaker_recordings=recordings, metrics=("acoustic", "identification"))
    ceiling = evaluator.evaluate_references()                     # the references scored as if synthesised
    report = evaluator.evaluate(waveforms, sample_rate, system="model")
    print(EvalReport.merge(ceiling, report).table())

    report = evaluate_utterances([Utterance(...), ...])              # one call, reference + synthesis pairs

An :class:`Evaluator` analyses its references once and keeps them, so a trainer can score a fixed
validation subset at every evaluation for the cost of the syntheses alone. Nothing here loads a TTS model
or the text frontend (the asr metric reads English text through :mod:`melo.text.english`'s normaliser).

Metric groups (``metrics=``): ``acoustic`` (MCD, log-F0 error, voicing error, duration ratio) and
``identification`` need only numpy/scipy (:data:`CORE_METRICS`); ``asr``, ``speaker`` and ``dnsmos`` need the
evaluation extra (``requirements-eval.txt``) and raise :class:`melo.eval.extras.MissingExtraError` naming
the install command when it is missing -- at construction, before any work.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from melo.eval.acoustic import Analysis, analyse, compare
from melo.eval.extras import check_extras
from melo.eval.identification import ClosedSet
from melo.eval.report import EvalReport, UtteranceResult

__all__ = [
    "ALL_METRICS",
    "CORE_METRICS",
    "Evaluator",
    "Reference",
    "SpeakerRecordings",
    "Utterance",
    "evaluate_utterances",
    "parse_metrics",
]

logger = logging.getLogger(__name__)

CORE_METRICS = ("acoustic", "identification")
EXTRA_METRICS = ("asr", "speaker", "dnsmos")
ALL_METRICS = CORE_METRICS + EXTRA_METRICS
LANGUAGES = ("KR", "EN", "ZH", "JP")
Candidates = Literal["language", "all"]


@dataclass(frozen=True)
class Reference:
    """One line of the evaluated set: what should be said, by whom, and a recording of it."""

    id: str
    text: str
    language: str  # KR, EN, ZH or JP
    speaker: str
    audio: np.ndarray  # (T,) float, mono
    sample_rate: int


@dataclass(frozen=True)
class Utterance:
    """A reference line and its synthesis (both mono float arrays at ``sample_rate``)."""

    id: str
    text: str
    language: str
    speaker: str
    reference: np.ndarray
    synthesis: np.ndarray
    sample_rate: int


@dataclass(frozen=True)
class SpeakerRecordings:
    """A speaker's own recordings (its training data, say): the speaker-similarity anchor."""

    recordings: Sequence[np.ndarray]  # (T,) float arrays
    sample_rate: int
    languages: frozenset[str]  # languages of those recordings: a line in another language is cross-lingual


def parse_metrics(metrics: str | Sequence[str]) -> tuple[str, ...]:
    """``"acoustic,asr"``, a sequence of names, or ``"all"`` / ``"core"`` -> validated names in canonical order."""
    names = [m.strip() for m in metrics.split(",")] if isinstance(metrics, str) else [str(m).strip() for m in metrics]
    chosen: set[str] = set()
    for name in names:
        if name == "all":
            chosen.update(ALL_METRICS)
        elif name == "core":
            chosen.update(CORE_METRICS)
        elif name in ALL_METRICS:
            chosen.add(name)
        elif name:
            raise ValueError(f"unknown metric {name!r}; known: {', '.join(ALL_METRICS)} (or 'core', 'all')")
    if not chosen:
        raise ValueError(f"no metric chosen; known: {', '.join(ALL_METRICS)} (or 'core', 'all')")
    return tuple(m for m in ALL_METRICS if m in chosen)


class Evaluator:
    """Scores syntheses of a fixed set of references (module docstring)."""

    def __init__(
        self,
        references: Sequence[Reference],
        *,
        speaker_recordings: Mapping[str, SpeakerRecordings] | None = None,
        metrics: str | Sequence[str] = CORE_METRICS,
        candidates: Candidates = "language",
    ) -> None:
        """``candidates``: which references compete in the closed-set identifications -- those in the
        utterance's own language (``language``) or all of them (``all``). ``speaker_recordings``: each
        speaker's own recordings for the speaker metric; when None, the references themselves (each then
        compared with a set that holds itself: an optimistic anchor, logged)."""
        if not references:
            raise ValueError("no references to evaluate against")
        if candidates not in ("language", "all"):
            raise ValueError(f"candidates must be 'language' or 'all', got {candidates!r}")
        self.metrics = parse_metrics(metrics)
        check_extras(tuple(m for m in self.metrics if m in EXTRA_METRICS))
        ids = [r.id for r in references]
        if len(set(ids)) != len(ids):
            duplicate = next(i for i in ids if ids.count(i) > 1)
            raise ValueError(f"reference ids must be unique; {duplicate!r} appears more than once")
        for r in references:
            if r.language not in LANGUAGES:
                raise ValueError(f"reference {r.id!r}: language must be one of {', '.join(LANGUAGES)}, got {r.language!r}")
        self.references = list(references)
        self.candidates = candidates
        self._speaker_recordings = speaker_recordings
        self._analyses: list[Analysis] | None = None
        self._closed_set: ClosedSet | None = None
        self._speaker_profiles: dict[str, tuple[np.ndarray, frozenset[str]]] | None = None

    # -- what the references give, computed once ----------------------------------------------
    def _pool(self, reference: Reference) -> str:
        return reference.language if self.candidates == "language" else "all"

    @property
    def reference_analyses(self) -> list[Analysis]:
        if self._analyses is None:
            self._analyses = [analyse(r.audio, r.sample_rate) for r in self.references]
        return self._analyses

    def _closed(self) -> ClosedSet:
        if self._closed_set is None:
            self._closed_set = ClosedSet(
                [r.text for r in self.references],
                [a.normalised_cepstrum for a in self.reference_analyses],
                [self._pool(r) for r in self.references],
            )
        return self._closed_set

    def _english_candidates(self, reference: Reference) -> list[str]:
        pool = self._pool(reference)
        return list(dict.fromkeys(r.text for r in self.references if r.language == "EN" and self._pool(r) == pool))

    def _profiles(self) -> dict[str, tuple[np.ndarray, frozenset[str]]]:
        if self._speaker_profiles is None:
            from melo.eval.speaker import get_speaker_encoder, mean_embedding

            encoder = get_speaker_encoder()
            recordings = self._speaker_recordings
            if recordings is None:
                logger.warning("speaker similarity: no speaker recordings given; each reference's speaker profile "
                               "is built from the evaluated references themselves (including that reference)")
                recordings = _recordings_from_references(self.references)
            self._speaker_profiles = {}
            for speaker, own in recordings.items():
                if not own.recordings:
                    raise ValueError(f"speaker {speaker!r} has no recordings")
                embeddings = [encoder.embed(x, own.sample_rate) for x in own.recordings]
                self._speaker_profiles[speaker] = (mean_embedding(embeddings), frozenset(own.languages))
        return self._speaker_profiles

    # -- scoring -------------------------------------------------------------------------------
    def evaluate(
        self,
        syntheses: Sequence[np.ndarray],
        sample_rate: int | Sequence[int],
        *,
        system: str = "synthesis",
        progress: bool = False,
    ) -> EvalReport:
        """Score ``syntheses[i]`` (mono float audio at ``sample_rate``, one rate or one per synthesis)
        against ``references[i]``."""
        if len(syntheses) != len(self.references):
            raise ValueError(f"got {len(syntheses)} syntheses for {len(self.references)} references")
        rates = [sample_rate] * len(syntheses) if isinstance(sample_rate, (int, np.integer)) else list(sample_rate)
        if len(rates) != len(syntheses):
            raise ValueError(f"got {len(rates)} sample rates for {len(syntheses)} syntheses")
        rows = []
        for index in _progress(range(len(self.references)), progress, f"scoring {system}"):
            rows.append(self._score(index, syntheses[index], int(rates[index]), system))
        return EvalReport(rows)

    def evaluate_references(self, *, system: str = "reference", progress: bool = False) -> EvalReport:
        """Every metric for the references themselves: the ceiling a synthesis can reach."""
        rows = []
        for index in _progress(range(len(self.references)), progress, f"scoring {system}"):
            reference = self.references[index]
            rows.append(self._score(index, reference.audio, reference.sample_rate, system))
        return EvalReport(rows)

    def _score(self, index: int, audio: np.ndarray, sample_rate: int, system: str) -> UtteranceResult:
        reference = self.references[index]
        samples = np.asarray(audio, dtype=np.float64).reshape(-1)
        row = UtteranceResult(system, reference.id, reference.language, reference.speaker, reference.text)
        try:
            analysis = analyse(samples, sample_rate)
        except ValueError as e:
            raise ValueError(f"{system} audio for {reference.id!r}: {e}") from None
        row.scores["speech_seconds"] = analysis.speech_seconds
        if "acoustic" in self.metrics:
            scores = compare(analysis, self.reference_analyses[index])
            row.scores.update(
                mcd_db=scores.mcd_db, f0_rmse_cents=scores.f0_rmse_cents,
                voicing_error=scores.voicing_error, duration_ratio=scores.duration_ratio,
            )
        if "identification" in self.metrics:
            found = self._closed().identify(analysis.normalised_cepstrum, reference.text, self._pool(reference))
            row.scores.update(id_correct=float(found.correct), id_rank=float(found.rank), id_chance=found.chance)
        if "asr" in self.metrics and reference.language == "EN":
            self._score_asr(row, samples, sample_rate, reference)
        if "speaker" in self.metrics:
            self._score_speaker(row, samples, sample_rate, reference)
        if "dnsmos" in self.metrics:
            from melo.eval.dnsmos import get_dnsmos

            quality = get_dnsmos().score(samples, sample_rate)
            row.scores.update(dnsmos_sig=quality.sig, dnsmos_bak=quality.bak, dnsmos_ovrl=quality.ovrl)
        return row

    def _score_asr(self, row: UtteranceResult, samples: np.ndarray, sample_rate: int, reference: Reference) -> None:
        from melo.eval.asr import get_recognizer, word_errors, words_of

        recognizer = get_recognizer()
        transcript = recognizer.transcribe(samples, sample_rate)
        expected = words_of(reference.text)
        errors = word_errors(expected, transcript.split())
        row.transcript = transcript
        row.scores.update(wer=errors / max(len(expected), 1), wer_errors=float(errors), wer_words=float(len(expected)))
        candidates = self._english_candidates(reference)
        chosen = recognizer.choose(samples, sample_rate, candidates)
        row.scores.update(
            asr_id_correct=float(chosen is not None and candidates[chosen] == reference.text),
            asr_id_chance=1.0 / len(candidates),
        )

    def _score_speaker(self, row: UtteranceResult, samples: np.ndarray, sample_rate: int, reference: Reference) -> None:
        from melo.eval.speaker import get_speaker_encoder

        profiles = self._profiles()
        if reference.speaker not in profiles:
            logger.warning("speaker similarity: no recordings of speaker %r; %s left unscored", reference.speaker, reference.id)
            return
        profile, languages = profiles[reference.speaker]
        embedding = get_speaker_encoder().embed(samples, sample_rate)
        row.scores.update(
            speaker_similarity=float(embedding @ profile),
            cross_lingual=float(reference.language not in languages),
        )


def _recordings_from_references(references: Sequence[Reference]) -> dict[str, SpeakerRecordings]:
    by_speaker: dict[str, list[Reference]] = {}
    for r in references:
        by_speaker.setdefault(r.speaker, []).append(r)
    out = {}
    for speaker, own in by_speaker.items():
        rates = {r.sample_rate for r in own}
        if len(rates) != 1:
            raise ValueError(f"speaker {speaker!r}: references at several sample rates ({sorted(rates)}); pass speaker_recordings")
        out[speaker] = SpeakerRecordings([r.audio for r in own], rates.pop(), frozenset(r.language for r in own))
    return out


def _progress(items: range, enabled: bool, description: str) -> Iterable[int]:
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=description, unit="utt")


def evaluate_utterances(
    utterances: Sequence[Utterance],
    *,
    speaker_recordings: Mapping[str, SpeakerRecordings] | None = None,
    metrics: str | Sequence[str] = CORE_METRICS,
    candidates: Candidates = "language",
    system: str = "synthesis",
    progress: bool = False,
) -> EvalReport:
    """Score each utterance's synthesis against its reference (an :class:`Evaluator` used once)."""
    if not utterances:
        raise ValueError("no utterances to evaluate")
    references = [Reference(u.id, u.text, u.language, u.speaker, u.reference, u.sample_rate) for u in utterances]
    evaluator = Evaluator(references, speaker_recordings=speaker_recordings, metrics=metrics, candidates=candidates)
    return evaluator.evaluate(
        [u.synthesis for u in utterances], [u.sample_rate for u in utterances], system=system, progress=progress
    )
