"""A speech request's body: its model (:class:`SpeechBody`), the checks it passes before it takes a queue place
(:class:`RequestChecks`), and pydantic's complaints about it as one sentence (:func:`validation_error`)."""

from __future__ import annotations

import math
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict

from melo.serve.audio_formats import refusal
from melo.serve.errors import ApiError
from melo.serve.scheduler import SpeechInput
from melo.serve.settings import ServeSettings

__all__ = ["MAX_SPEED", "MIN_SPEED", "RequestChecks", "SpeechBody", "validation_error"]

MIN_SPEED, MAX_SPEED = 0.25, 4.0  # OpenAI's range


class SpeechBody(BaseModel):
    """``POST /v1/audio/speech``: OpenAI's fields (``instructions`` is accepted and not used) plus ``stream``
    (per-sentence chunks, wav or pcm) and ``language`` (breaks ties, as in ``TTS.stream``). Unknown fields are
    errors, so a misspelt one is not silently ignored, and types are strict (``"stream": "yes"`` is an error)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    model: str | None = None
    input: str
    voice: int | str | None = None
    instructions: str | None = None
    response_format: str = "mp3"
    speed: float = 1.0
    stream_format: str | None = None
    stream: bool = False
    language: str | None = None



class RequestChecks:
    """Turns a :class:`SpeechBody` into a :class:`SpeechInput` and a format, or raises a 4xx ApiError that
    says what is allowed. Everything here is checked before the request takes a queue place."""

    def __init__(self, tts: Any, settings: ServeSettings) -> None:
        self.speakers: dict[str, int] = tts.speakers
        self.languages: tuple[str, ...] = tuple(tts.languages)
        self.settings = settings
        self.default_voice: int = min(self.speakers.values()) if self.speakers else 0

    def __call__(self, body: SpeechBody) -> tuple[SpeechInput, str]:
        fmt = body.response_format
        why = refusal(fmt, body.stream)
        if why is not None:
            raise ApiError(400, why, code="unsupported_response_format", param="response_format")
        if body.stream_format not in (None, "audio"):
            raise ApiError(400, f"stream_format {body.stream_format!r} is not supported: audio is sent as raw bytes "
                           "('audio'); for sentence-by-sentence chunks send stream=true",
                           code="unsupported_stream_format", param="stream_format")
        if not body.input.strip():
            raise ApiError(400, "input is empty; give at least one word to read", code="empty_input", param="input")
        if len(body.input) > self.settings.max_chars:
            raise ApiError(413, f"input is {len(body.input)} characters; the limit is {self.settings.max_chars} "
                           "(split the text into several requests)", code="input_too_long", param="input")
        if not (math.isfinite(body.speed) and MIN_SPEED <= body.speed <= MAX_SPEED):
            raise ApiError(400, f"speed must be between {MIN_SPEED} and {MAX_SPEED}, got {body.speed}",
                           code="invalid_speed", param="speed")
        language = None if body.language is None else body.language.upper()
        if language is not None and language not in self.languages:
            raise ApiError(400, f"unknown language {body.language!r}; use one of {', '.join(self.languages)}, or leave "
                           "it out to detect each stretch of text", code="unknown_language", param="language")
        return SpeechInput(body.input, self._voice(body.voice), body.speed, language), fmt

    def _voice(self, voice: int | str | None) -> int | str:
        if voice is None:
            return self.default_voice
        if isinstance(voice, str) and voice in self.speakers:
            return voice
        number = int(voice) if isinstance(voice, str) and voice.strip().isdigit() else voice
        if isinstance(number, int) and (number in self.speakers.values() if self.speakers else number >= 0):
            return number
        known = ", ".join(f"{name} ({i})" for name, i in sorted(self.speakers.items(), key=lambda kv: kv[1]))
        raise ApiError(400, f"unknown voice {voice!r}; known: {known or 'integer speaker ids'}", code="unknown_voice",
                       param="voice")



def validation_error(e: RequestValidationError) -> ApiError:
    """pydantic's first complaint about the body, as one sentence naming the field."""
    first = e.errors()[0]
    loc = [str(part) for part in first.get("loc", ()) if part != "body"]
    field = loc[0] if loc else None  # a union's errors name the member type after the field: not the client's concern
    kind = first.get("type", "")
    if kind == "json_invalid":
        return ApiError(400, f"the request body is not valid JSON ({first.get('ctx', {}).get('error', 'parse error')})",
                        code="invalid_json")
    if kind == "missing" and field is None:
        return ApiError(400, "the request body is empty; send a JSON object with at least 'input'", code="empty_body")
    if kind == "missing":
        return ApiError(400, f"missing field {field!r}", code="missing_field", param=field)
    if kind == "extra_forbidden":
        known = ", ".join(SpeechBody.model_fields)
        return ApiError(400, f"unknown field {field!r}; known: {known}", code="unknown_field", param=field)
    if field == "voice":
        return ApiError(400, "voice must be a speaker name or an integer speaker id (GET /v1/voices lists them)",
                        code="invalid_field", param="voice")
    if kind == "model_attributes_type" or field is None:
        return ApiError(400, "the request body must be a JSON object", code="invalid_body")
    return ApiError(400, f"{field}: {first.get('msg', 'invalid value')}", code="invalid_field", param=field)

