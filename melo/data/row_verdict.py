"""The verdict on one row: its measured audio facts and its phonemes turned into problems, and whether it is kept.

The audio job (:mod:`melo.data.cache_jobs`) measures; this module decides. :func:`audio_usable` is the one rule
for "these measured facts make a trainable clip": the job uses it to skip the spectrogram of a clip that will be
rejected, and :func:`row_problems` agrees with it.
"""

from __future__ import annotations

from typing import Any

from melo.config import DataConfig
from melo.data.filelist import ERROR, FIXED, WARNING, Problem, Row
from melo.data.row_checks import nothing_to_say, phone_rate, script_names

__all__ = ["CLIP_FRACTION", "CLIP_LEVEL", "SILENCE_PEAK", "audio_usable", "row_problems"]

SILENCE_PEAK = 1e-3
"""A clip whose peak amplitude stays below this (-60 dBFS) is reported as silent."""
CLIP_LEVEL = 0.99
"""Samples at or above this magnitude count as clipped ..."""
CLIP_FRACTION = 1e-3
"""... and a clip with more than this fraction of them is reported (kept, with a warning)."""


def audio_usable(audio: dict[str, Any], min_seconds: float, max_seconds: float) -> bool:
    """The one rule for "these measured facts make a trainable clip" (the job and the report both use it)."""
    if audio.get("error") or audio["samples"] == 0 or audio["frames"] == 0 or audio["peak"] < SILENCE_PEAK:
        return False
    if audio.get("truncated") or audio.get("constant"):
        return False
    return min_seconds <= audio["samples"] / audio["sampling_rate"] <= max_seconds


def row_problems(row: Row, audio: dict[str, Any], text: dict[str, Any], data: DataConfig) -> list[Problem]:
    """What is wrong with ``row`` given its measured ``audio`` facts and its ``text`` job's result; the row is
    kept when none of the problems is an error."""
    problems: list[Problem] = []

    def add(kind: str, message: str, severity: str = ERROR) -> None:
        problems.append(Problem(row.filelist, row.line, kind, message, severity))  # type: ignore[arg-type]

    if audio.get("error"):
        add("unreadable", f"unreadable or corrupt audio {row.wav.name}: {audio['error']}")
    elif audio.get("truncated"):
        add("truncated-audio", f"{row.wav.name}: {audio['truncated']}")
    elif audio["samples"] == 0:
        add("empty-audio", f"zero-length audio {row.wav.name}")
    elif audio["peak"] < SILENCE_PEAK:
        add("silent", f"silent audio {row.wav.name} (peak {audio['peak']:.1e} < {SILENCE_PEAK:g})")
    elif audio.get("constant"):
        add("no-speech", f"{row.wav.name}: {audio['constant']}")
    else:
        seconds = audio["samples"] / data.sampling_rate
        if seconds < data.min_audio_seconds or audio["frames"] == 0:
            add("too-short", f"too short: {seconds:.2f} s < data.min_audio_seconds {data.min_audio_seconds:g} s")
        elif seconds > data.max_audio_seconds:
            add("too-long", f"too long: {seconds:.2f} s > data.max_audio_seconds {data.max_audio_seconds:g} s")
        if audio["original_sample_rate"] != data.sampling_rate:
            add("resampled", f"resampled {audio['original_sample_rate']} Hz -> {data.sampling_rate} Hz", FIXED)
        if audio["channels"] > 1:
            add("stereo", f"{audio['channels']} channels mixed to mono", FIXED)
        if audio["clipped_fraction"] > CLIP_FRACTION:
            add("clipped", f"clipped: {100 * audio['clipped_fraction']:.1f}% of samples at full scale", WARNING)
    if text.get("error"):
        add(text.get("kind", "text"), text["error"])
    elif (silent_text := nothing_to_say(text["phonemes"]["phones"], row.text, text.get("dropped", ()))):
        add("unpronounceable", silent_text)
    else:
        if text.get("dropped"):
            chars = "".join(text["dropped"])
            scripts = script_names(text["dropped"])
            in_scripts = f" ({', '.join(scripts)} script)" if scripts else ""
            add("dropped-chars", f"characters no language could read were dropped: {chars!r}{in_scripts}", WARNING)
        if text.get("unknown_phones"):
            add("unknown-phones", f"phones not in the symbol table (read as UNK): {' '.join(text['unknown_phones'])}", WARNING)
    if not any(p.severity == ERROR for p in problems):
        rate = phone_rate(len(text["phone_ids"]), int(audio["frames"]), data.min_phones_per_frame,
                          data.max_phones_per_frame)
        if rate is not None:
            add(*rate)
    kept = not any(p.severity == ERROR for p in problems)
    assert not kept or audio_usable(audio, data.min_audio_seconds, data.max_audio_seconds)
    return problems
