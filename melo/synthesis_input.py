"""The checks on a synthesis request, shared by both runtimes (``melo.api.TTS`` and the torch-free
``melo.onnx.OnnxTTS``): the text, the language, the numbers (speed, noise scales, ...) and the speaker, checked
before any work starts; and the sentence loop both runtimes read a request with. Imports no torch.

``SynthesisError`` is the one error type of bad synthesis input: ``melo.api`` re-exports this class, so callers
(the server) catch one type for either runtime.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from melo.synthesis_args import numbers_problem, text_problem
from melo.text import NothingToPronounceError, validate_language
from melo.text.split import split_sentences

__all__ = ["SynthesisError", "request_sentences", "speaker_index", "spoken_sentences"]

logger = logging.getLogger(__name__)


class SynthesisError(ValueError):
    """Bad input to synthesis (unknown speaker, empty text, ...); the message says what is allowed."""


def request_sentences(text: Any, language: str | None, **numbers: Any) -> list[str]:
    """The sentences ``text`` is read in; a :class:`SynthesisError` for text that is not a str or is empty, or for
    a number (keyword: ``speed=1.0``, ``noise_scale=0.6``, ...) that is not finite or out of its range, and
    ``validate_language``'s error for an unknown language code."""
    problem = text_problem(text) or numbers_problem(**numbers)
    if problem:
        raise SynthesisError(problem)
    if not text.strip():
        raise SynthesisError("text is empty; give at least one word to read")
    validate_language(language)
    sentences = split_sentences(text)
    if not sentences:
        raise SynthesisError("text is empty; give at least one word to read")
    return sentences


def speaker_index(speaker_id: int | str, speakers: Mapping[str, int], n_speakers: int) -> int:
    """The model's id for ``speaker_id`` (a trained name or id); a :class:`SynthesisError` listing the known ones."""
    if isinstance(speaker_id, str):
        if speaker_id not in speakers:
            known = ", ".join(speakers) or "(none stored; use an integer id)"
            raise SynthesisError(f"unknown speaker {speaker_id!r}; known: {known}")
        return speakers[speaker_id]
    if isinstance(speaker_id, bool) or not isinstance(speaker_id, (int, np.integer)):
        raise SynthesisError(f"speaker_id must be an int or a speaker name, got {type(speaker_id).__name__}")
    described = ", ".join(f"{name}={i}" for name, i in speakers.items()) or "(no names stored)"
    if not 0 <= int(speaker_id) < n_speakers:
        raise SynthesisError(f"speaker_id {speaker_id} out of range [0, {n_speakers}); known: {described}")
    if speakers and int(speaker_id) not in speakers.values():
        raise SynthesisError(f"speaker_id {speaker_id} was never trained; known: {described}")
    return int(speaker_id)


def spoken_sentences(text: str, sentences: list[str], read: Callable[[str], np.ndarray],
                     pause_samples: int) -> Iterator[np.ndarray]:
    """``read(sentence)`` for each sentence of ``text``, each followed by ``pause_samples`` of silence but the last.
    A sentence with nothing to pronounce (emoji only, say) is skipped with a warning; a :class:`SynthesisError`
    when no sentence is left. The one sentence loop of ``melo.api.TTS`` and ``melo.onnx.OnnxTTS``."""
    pause = np.zeros(pause_samples, dtype=np.float32)
    spoken = 0
    for i, sentence in enumerate(sentences):
        try:
            audio = read(sentence)
        except NothingToPronounceError as e:
            logger.warning("skipping sentence %d (%r): %s", i + 1, sentence, e)
            continue
        spoken += 1
        yield audio if i == len(sentences) - 1 else np.concatenate([audio, pause])
    if spoken == 0:
        raise SynthesisError(f"nothing pronounceable in {text[:60]!r}")
