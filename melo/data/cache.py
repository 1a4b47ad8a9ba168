"""Content-keyed, atomically written preprocessing cache.

Layout of the cache folder (``data.cache_dir``, or ``cache/`` beside ``training_files``)::

    audio/ab/<key>.json      measured facts about one wav (duration, rate, channels, peak, clipping, error)
    audio/ab/<key>.npz       int16 waveform + fp16 linear spectrogram (only for clips that passed the checks)
    phonemes/ab/<key>.json   Phonemes + phone/tone/language ids (or the reason the text is unusable)
    features/ab/<key>.npy    fp16 encoder features, (hidden, n_with_blanks)
    wav_index.json           (path, size, mtime_ns) -> content hash memo, so warm runs do not re-read wavs
    <list>.manifest.json     the good rows of one filelist, read by the dataset
    report.txt / report.json the validation report
    config.json              the resolved config (with spk2id)

Every key is a hash of everything that affects the artefact (see ``audio_key``/``phoneme_key``/
``feature_key``) plus ``FORMAT_VERSION``; a changed input gives a new key, so stale files are never read.
Every write is atomic (:mod:`melo.files`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from melo.files import write_if_changed

__all__ = [
    "FORMAT_VERSION",
    "WavHashIndex",
    "audio_key",
    "feature_key",
    "file_hash",
    "hash_fields",
    "phoneme_key",
    "shard_path",
]

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
"""Bump when the layout or meaning of any cached file changes."""
AUDIO_MEASURES = 2
"""Bump when the audio job measures more (2: truncated WAV data chunk, constant level); only audio recomputes."""


def hash_fields(kind: str, **fields: Any) -> str:
    """Stable 32-hex-digit key of ``kind`` + named fields (JSON-encoded, sorted)."""
    blob = json.dumps({"kind": kind, "format": FORMAT_VERSION, **fields}, sort_keys=True, ensure_ascii=False)
    return hashlib.blake2b(blob.encode("utf-8"), digest_size=16).hexdigest()


def audio_key(wav_hash: str, sampling_rate: int, filter_length: int, hop_length: int, win_length: int) -> str:
    """Audio artefacts depend on the file's content and the rate/STFT settings (mel settings do not matter)."""
    return hash_fields(
        "audio",
        wav=wav_hash,
        sampling_rate=sampling_rate,
        filter_length=filter_length,
        hop_length=hop_length,
        win_length=win_length,
        measures=AUDIO_MEASURES,
    )


def phoneme_key(
    text: str, language: str | None, symbols_fingerprint: str, add_blank: bool, korean_coda_classes: bool = False
) -> str:
    """Phonemes depend on the text, the tag, the symbol table, the frontend's own version and its options."""
    from melo.text.frontend import FRONTEND_VERSION

    return hash_fields(
        "phonemes", text=text, language=language, symbols=symbols_fingerprint, add_blank=add_blank, frontend=FRONTEND_VERSION,
        korean_coda_classes=korean_coda_classes,
    )


def feature_key(phonemes: str, extractor_fingerprint: str, bert_model: str, bert_layer: int, add_blank: bool) -> str:
    """Features depend on the phonemes (and so on the text) and on the encoder."""
    return hash_fields(
        "features",
        phonemes=phonemes,
        extractor=extractor_fingerprint,
        bert_model=bert_model,
        bert_layer=bert_layer,
        add_blank=add_blank,
    )


def shard_path(root: Path, kind: str, key: str, suffix: str) -> Path:
    return root / kind / key[:2] / f"{key}{suffix}"


def file_hash(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


class WavHashIndex:
    """Memo of content hashes by ``(path, size, mtime_ns)``; a changed file is simply re-hashed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: dict[str, list[Any]] = {}
        try:
            self._entries = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            pass
        except (json.JSONDecodeError, UnicodeDecodeError):
            logger.warning("%s: unreadable wav hash index; re-hashing every wav", path)
        self._original = dict(self._entries)

    def hash(self, wav: Path) -> str:
        """Content hash of ``wav``. Raises ``OSError`` if it cannot be read."""
        st = wav.stat()
        name = str(wav)
        entry = self._entries.get(name)
        if entry is not None and entry[0] == st.st_size and entry[1] == st.st_mtime_ns:
            return str(entry[2])
        digest = file_hash(wav)
        self._entries[name] = [st.st_size, st.st_mtime_ns, digest]
        return digest

    def save(self) -> bool:
        """Write the index if it changed; returns whether it wrote."""
        if self._entries == self._original:
            return False
        data = (json.dumps(self._entries, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
        wrote = write_if_changed(self.path, data)
        self._original = dict(self._entries)
        return wrote
