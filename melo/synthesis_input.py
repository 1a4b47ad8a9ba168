"""The checks on a synthesis request for the torch-free runtime (``melo.onnx.OnnxTTS``): the text, the language,
the speed and the speaker, with the messages ``melo.api.TTS`` gives. Imports no torch.

``SynthesisError`` is the one error type of bad synthesis input: ``melo.api`` raises this class too, so callers
(the server) catch one type for either runtime. ``melo.api`` still holds its own copy of the checks; folding them,
together with ``melo.synthesis_args``, into one torch-free module is the next step."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from melo.text import validate_language
from melo.text.split import split_sentences

__all__ = ["SynthesisError", "request_sentences", "speaker_index"]


class SynthesisError(ValueError):
    """Bad input to synthesis (unknown speaker, empty text, ...); the message says what is allowed."""


def request_sentences(text: str, language: str | None, speed: float) -> list[str]:
    """The sentences ``text`` is read in; a :class:`SynthesisError` for empty text or a bad speed (and
    ``validate_language``'s error for an unknown language code)."""
    if not isinstance(text, str) or not text.strip():
        raise SynthesisError("text is empty; give at least one word to read")
    validate_language(language)
    if not speed > 0:
        raise SynthesisError(f"speed must be > 0, got {speed}")
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
