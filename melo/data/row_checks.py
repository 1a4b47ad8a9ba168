"""Row checks beyond "readable, long enough": facts about a row that make it a row a model cannot learn from.

Each check returns ``None`` for a good row or the reason, as a report line says it:

* :func:`truncated_wav` -- a WAV file whose ``data`` chunk declares more bytes than the file holds (a copy
  that stopped half-way); decoders read what is there without complaint.
* :func:`constant_audio` -- a clip with a level but no variation (DC offset, a stuck converter): loud enough
  to pass the silence check, yet no speech.
* :func:`nothing_to_say` -- text whose phones are only punctuation and pauses (``?!...``, or a script no
  language reads, e.g. Cyrillic, dropped down to its commas).
* :func:`phone_rate` -- phone positions per spectrogram frame outside ``data.min_phones_per_frame`` ..
  ``data.max_phones_per_frame`` (see :class:`melo.config.DataConfig` for the measured defaults): 300
  characters read over half a second, or one word over twenty seconds of audio, cannot be aligned.

:func:`path_key` is the form in which two paths to the same audio file compare equal (``wavs/../wavs/x.wav``,
Unicode NFC against NFD) for the duplicate check; :func:`other_normalisation` finds the file a not-found
path names in the other Unicode normalisation form.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path
from typing import Iterable

import numpy as np

from melo.text.symbols import has_speech

__all__ = ["constant_audio", "has_speech", "nothing_to_say", "other_normalisation", "path_key", "phone_rate",
           "script_names", "truncated_wav"]

_UNKNOWN_SIZES = (0, 0xFFFFFFFF)
"""``data`` chunk sizes that streaming writers leave open (the data runs to the end of the file)."""


def truncated_wav(path: str | Path) -> str | None:
    """Why a RIFF/WAVE file's ``data`` chunk is cut short, or ``None`` (also for other formats)."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
                return None
            order = "little" if head[:4] == b"RIFF" else "big"
            pos = 12
            while pos + 8 <= size:
                f.seek(pos)
                chunk = f.read(8)
                declared = int.from_bytes(chunk[4:8], order)  # type: ignore[arg-type]
                if chunk[:4] == b"data":
                    held = size - pos - 8
                    if declared in _UNKNOWN_SIZES or declared <= held:
                        return None
                    return (f"truncated WAV: the data chunk declares {declared} bytes but the file holds {held} "
                            f"({100 * held / declared:.0f}%)")
                pos += 8 + declared + (declared & 1)
    except OSError:
        return None  # the decoder reports unreadable files
    return None


def constant_audio(samples: np.ndarray, silence_peak: float) -> str | None:
    """Why a clip with a level has no speech (its variation around its mean stays under ``silence_peak``)."""
    if samples.size == 0:
        return None
    level = float(samples.mean())
    variation = float(np.abs(samples - level).max())
    if variation >= silence_peak or abs(level) < silence_peak:
        return None  # speech, or plain silence (reported as such)
    return f"constant level {level:+.3f} with no variation (peak {variation:.1e} around it): no speech"


def nothing_to_say(phones: Iterable[str], text: str, dropped: Iterable[str]) -> str | None:
    """Why ``text`` (read as ``phones``, with ``dropped`` characters no language reads) gives nothing to say."""
    if has_speech(phones):
        return None
    scripts = script_names(dropped)
    if scripts:
        return f"nothing pronounceable: {text!r} is in a script no language here reads ({', '.join(scripts)})"
    return f"nothing pronounceable: {text!r} holds only punctuation"


def script_names(chars: Iterable[str]) -> list[str]:
    """The scripts of the letters among ``chars``, by Unicode name (``CYRILLIC``, ``ARABIC``), sorted."""
    names = set()
    for ch in chars:
        if unicodedata.category(ch).startswith("L"):
            names.add(unicodedata.name(ch, "UNKNOWN").split(" ")[0])
    return sorted(names)


def phone_rate(positions: int, frames: int, low: float, high: float) -> tuple[str, str] | None:
    """``(kind, reason)`` when ``positions`` phone positions over ``frames`` frames lie outside ``[low, high]``."""
    if frames <= 0:
        return None
    rate = positions / frames
    if rate > high:
        return "too-many-phones", (f"{positions} phone positions on {frames} frames ({rate:.2f} per frame > "
                                   f"data.max_phones_per_frame {high:g}): the text is too long for the audio")
    if rate < low:
        return "too-few-phones", (f"{positions} phone positions on {frames} frames ({rate:.3f} per frame < "
                                  f"data.min_phones_per_frame {low:g}): the audio is too long for the text")
    return None


def path_key(path: Path) -> str:
    """``path`` resolved (``..``, links) and in Unicode NFC: equal for two spellings of one file."""
    return unicodedata.normalize("NFC", os.path.realpath(path))


def other_normalisation(path: Path) -> Path | None:
    """An existing file whose name is ``path``'s in the other Unicode normalisation form (NFC or NFD)."""
    text = str(path)
    for form in ("NFC", "NFD"):
        other = unicodedata.normalize(form, text)
        if other != text and os.path.exists(other):
            return Path(other)
    return None
