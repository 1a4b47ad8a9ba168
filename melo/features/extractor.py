"""``FeatureExtractor``: Phonemes -> one encoder feature per model input position (``(H, n)``).

The normalised text of an utterance is tokenised once with character offsets and encoded whole
(mixed languages included); hidden states of the chosen layer are pooled onto phones through
``Phonemes.word_spans`` and spread over the blank-interleaved sequence of
``melo.text.sequence.to_sequence`` (rules in ``melo.features.align``).

Inputs longer than the encoder's positions (8192 tokens for bge-m3) are encoded in overlapping windows
of the maximum length; consecutive windows share a quarter of a window and each token takes its hidden
state from the window where it sits farthest from the edges. Features are returned as float32 on CPU;
callers store them as float16 (``.half()``: 2 bytes x 1024 = 2 KiB per position for bge-m3).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import melo.runtime  # noqa: F401 -- sets oneDNN's kernel-cache capacity before this process makes a kernel
from melo.features.align import (
    PhoneTokens,
    expand_to_sequence,
    phone_token_indices,
    pick_windows,
    pool_phone_features,
    token_char_spans,
    window_starts,
)
from melo.features.loading import (
    ModelSource,
    Precision,
    load_encoder,
    load_tokenizer,
    max_content_tokens,
    prepare_encoder,
    resolve_source,
    source_fingerprint,
)
from melo.text.sequence import to_sequence
from melo.text.types import Phonemes

if TYPE_CHECKING:
    import torch

    from melo.config import DataConfig

__all__ = ["ALIGNMENT_VERSION", "Explanation", "FeatureExtractor", "PhoneSource", "TokenPiece", "Tokenized", "get_extractor"]

logger = logging.getLogger(__name__)

TRACED_PRECISIONS = frozenset({"int8", "bf16"})
"""CPU precisions whose encoder forward runs as a checked TorchScript trace (see ``_traced_forward``)."""

ALIGNMENT_VERSION = 1
"""Bumped whenever the alignment or blank rule changes; part of :meth:`FeatureExtractor.fingerprint`."""

WINDOW_OVERLAP_FRACTION = 4
"""Consecutive windows of a too-long input share ``window // WINDOW_OVERLAP_FRACTION`` tokens."""


@dataclass(frozen=True)
class Tokenized:
    """One utterance's content tokens (no ``<s>``/``</s>``) with the characters each owns."""

    text: str
    ids: tuple[int, ...]
    pieces: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    unknown: tuple[bool, ...]

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class TokenPiece:
    index: int
    piece: str
    start: int
    end: int
    """Characters owned, after whitespace is stripped; ``start == end`` owns none."""
    unknown: bool


@dataclass(frozen=True)
class PhoneSource:
    phone: str
    word_span: tuple[int, int]
    tokens: tuple[int, ...]
    nearest: bool
    """True when no token overlapped the word and the nearest tokens were used."""


@dataclass(frozen=True)
class Explanation:
    """What :meth:`FeatureExtractor.explain` reports: how one utterance's features were made."""

    model: str
    normalized: str
    tokens: tuple[TokenPiece, ...]
    phones: tuple[PhoneSource, ...]
    windows: int
    unknown_count: int
    feature_shape: tuple[int, int]
    stand_in: str | None
    """Set (to the warning text) when the model is the tiny smoke-test stand-in, not bge-m3."""

    def format(self) -> str:
        lines = [f"model: {self.model}"]
        if self.stand_in:
            lines.append(f"WARNING: {self.stand_in}")
        lines.append(f"normalized: {self.normalized!r}")
        lines.append(f"tokens ({len(self.tokens)}, {self.windows} window(s)):")
        for t in self.tokens:
            owned = repr(self.normalized[t.start : t.end]) if t.end > t.start else "(no characters)"
            flag = "  <unk>" if t.unknown else ""
            lines.append(f"  [{t.index:3d}] {t.piece!r:14} chars {t.start}:{t.end} {owned}{flag}")
        lines.append(f"phones ({len(self.phones)}):")
        for i, p in enumerate(self.phones):
            word = self.normalized[p.word_span[0] : p.word_span[1]]
            how = " (nearest: no token overlaps)" if p.nearest else ""
            lines.append(f"  {i:3d} {p.phone!r:8} word {word!r:14} <- tokens {list(p.tokens)}{how}")
        lines.append(f"feature matrix: {self.feature_shape[0]} x {self.feature_shape[1]} (hidden x positions with blanks)")
        lines.append(f"unknown tokens: {self.unknown_count}")
        return "\n".join(lines)


class FeatureExtractor:
    """Loads the encoder once; ``extractor(phonemes)`` gives ``(hidden, len(to_sequence(phonemes)))``.

    ``model`` is a hub id or a local folder (``data.bert_model``), ``layer`` the hidden layer
    (``data.bert_layer``; negative counts from the last, -3 by default). ``precision`` ``"int8"``
    (CPU) or ``"bf16"`` are the fast inference paths; preprocessing uses ``"fp32"`` (CPU) or
    ``"fp16"``/``"bf16"`` (CUDA). Raises :class:`ModelUnavailableError` when the model cannot be
    loaded, in well under 2 s when offline.
    """

    def __init__(
        self,
        model: str = "BAAI/bge-m3",
        layer: int = -3,
        device: "str | torch.device" = "cpu",
        precision: Precision = "fp32",
    ) -> None:
        # Find the model first: this needs neither torch nor transformers, so an unavailable model is
        # reported before the seconds their imports take.
        self._source = resolve_source(model)
        import torch

        self.model_name = model
        self.layer = layer
        self.device = torch.device(device)
        self.precision = precision
        self._setup(load_tokenizer(model, self._source), load_encoder(model, self._source))

    def _setup(self, tokenizer: Any, encoder: Any) -> None:
        self.tokenizer = tokenizer
        backend = tokenizer.backend_tokenizer
        backend.no_truncation()
        backend.no_padding()
        backend.encode_special_tokens = True  # literal "<s>" in text is text, never a special token
        self.stand_in: str | None = getattr(encoder.config, "melo_stand_in", None)
        if self.stand_in:
            logger.warning("text encoder %s is the %s", self.model_name, self.stand_in)
        self._hidden_size = int(encoder.config.hidden_size)
        self.max_tokens = max_content_tokens(encoder.config, tokenizer)
        self.encoder = prepare_encoder(encoder, self.layer, self.precision, self.device)
        self._special_ids = frozenset(tokenizer.all_special_ids) - {tokenizer.unk_token_id}
        cls_id = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
        sep_id = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
        if cls_id is None or sep_id is None or tokenizer.pad_token_id is None:
            raise ValueError(f"tokenizer of {self.model_name!r} lacks a cls/bos, sep/eos or pad token")
        self._cls_id, self._sep_id, self._pad_id = int(cls_id), int(sep_id), int(tokenizer.pad_token_id)
        self._forward = self._eager_forward
        if self.device.type == "cpu" and self.precision in TRACED_PRECISIONS:
            self._forward = self._traced_forward() or self._eager_forward

    def _eager_forward(self, input_ids: "torch.Tensor", attention_mask: "torch.Tensor") -> "torch.Tensor":
        return self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    def _traced_forward(self) -> Any:
        """A checked TorchScript trace of the encoder for the CPU fast paths, or None (see melo.runtime.tracing):
        on 2 cores bge-m3's int8 forward for one 32-token sentence is ~33 ms of kernels and ~7 ms of
        Python between them (benchmarks/results/features.md)."""
        import torch

        from melo.runtime.tracing import checked_trace

        def inputs(rows: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
            longest = max(rows) + 2
            ids = torch.full((len(rows), longest), self._pad_id, dtype=torch.long)
            mask = torch.zeros_like(ids)
            for r, n in enumerate(rows):
                content = [(self._cls_id + 7 * k) % self.tokenizer.vocab_size for k in range(1, n + 1)]
                ids[r, : n + 2] = torch.tensor([self._cls_id, *content, self._sep_id])
                mask[r, : n + 2] = 1
            return ids.to(self.device), mask.to(self.device)

        # a different length, and a padded batch
        probes = [inputs([11]), inputs([9, 4])]
        return checked_trace(_last_hidden_module(self.encoder), inputs([6]), probes, f"text encoder {self.model_name}")

    @classmethod
    def from_components(
        cls,
        tokenizer: Any,
        encoder: Any,
        *,
        name: str,
        layer: int = -3,
        device: "str | torch.device" = "cpu",
        precision: Precision = "fp32",
    ) -> "FeatureExtractor":
        """Wrap an already-loaded fast tokenizer and fp32 encoder (benchmarks, tests). ``encoder`` is
        modified in place (layers above ``layer`` removed, cast/quantised); the fingerprint uses ``name``."""
        import torch

        self = cls.__new__(cls)
        self.model_name, self.layer, self.device, self.precision = name, layer, torch.device(device), precision
        self._source = ModelSource(name=name, path=None, is_local_folder=False, revision=None, offline=True)
        self._setup(tokenizer, encoder)
        return self

    @classmethod
    def from_config(cls, data: "DataConfig", device: "str | torch.device" = "cpu", precision: Precision = "fp32") -> "FeatureExtractor":
        return cls(model=data.bert_model, layer=data.bert_layer, device=device, precision=precision)

    @property
    def hidden_size(self) -> int:
        return self._hidden_size

    def fingerprint(self) -> str:
        """Stable id of model files + layer + precision + alignment rule, for feature-cache keys.

        Computed once per extractor (the model files are read when it is first asked for)."""
        if getattr(self, "_fingerprint", None) is None:
            self._fingerprint = _fingerprint_of(self._source, self.layer, self.precision)
        return self._fingerprint

    # -- tokenisation ------------------------------------------------------------------------------

    def tokenize(self, text: str) -> Tokenized:
        encoding = self.tokenizer.backend_tokenizer.encode(text, add_special_tokens=False)
        ids = tuple(int(i) for i in encoding.ids)
        pieces = tuple(encoding.tokens)
        special = [i in self._special_ids for i in ids]
        spans = token_char_spans(text, encoding.offsets, pieces, special)
        unk = self.tokenizer.unk_token_id
        return Tokenized(text=text, ids=ids, pieces=pieces, spans=tuple(spans), unknown=tuple(i == unk for i in ids))

    def _windows(self, n_tokens: int) -> list[int]:
        window = self.max_tokens
        return window_starts(n_tokens, window, window // WINDOW_OVERLAP_FRACTION)

    # -- encoding ----------------------------------------------------------------------------------

    def _encode_sequences(self, sequences: Sequence[Sequence[int]], batch_size: int) -> list["torch.Tensor"]:
        """Content-token id lists -> their ``(len, H)`` float32 CPU hidden states, longest first in batches."""
        import torch

        results: list[torch.Tensor | None] = [None] * len(sequences)
        order = sorted(range(len(sequences)), key=lambda k: -len(sequences[k]))
        with torch.inference_mode():
            for first in range(0, len(order), batch_size):
                chunk = order[first : first + batch_size]
                longest = len(sequences[chunk[0]]) + 2
                input_ids = torch.full((len(chunk), longest), self._pad_id, dtype=torch.long)
                attention_mask = torch.zeros((len(chunk), longest), dtype=torch.long)
                for row, k in enumerate(chunk):
                    ids = [self._cls_id, *sequences[k], self._sep_id]
                    input_ids[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
                    attention_mask[row, : len(ids)] = 1
                output = self._forward(input_ids.to(self.device), attention_mask.to(self.device))
                # (B, T, H), T includes <s> and </s>
                output = output.float().cpu()
                for row, k in enumerate(chunk):
                    results[k] = output[row, 1 : 1 + len(sequences[k])].clone()  # drop <s>, </s>, padding
        return results  # type: ignore[return-value]

    def token_states(self, tokenized_items: Sequence[Tokenized], batch_size: int = 16) -> list["torch.Tensor"]:
        """``(n_tokens, H)`` hidden states of the chosen layer for each tokenised utterance."""
        import torch

        pieces: list[tuple[int, int, int]] = []  # (item, window start, window length)
        sequences: list[tuple[int, ...]] = []
        plans: list[tuple[list[int], int]] = []
        for item, tokenized in enumerate(tokenized_items):
            starts = self._windows(len(tokenized))
            plans.append((starts, len(sequences)))
            for start in starts:
                window_ids = tokenized.ids[start : start + self.max_tokens]
                pieces.append((item, start, len(window_ids)))
                sequences.append(window_ids)
        encoded = self._encode_sequences(sequences, batch_size)
        states: list[torch.Tensor] = []
        for tokenized, (starts, first) in zip(tokenized_items, plans):
            n = len(tokenized)
            if len(starts) == 1:
                states.append(encoded[first] if n else torch.zeros(0, self._hidden_size))
                continue
            choice = pick_windows(n, starts, self.max_tokens)
            out = torch.empty(n, self._hidden_size)
            for t in range(n):
                w = int(choice[t])
                out[t] = encoded[first + w][t - starts[w]]
            states.append(out)
        return states

    # -- public API --------------------------------------------------------------------------------

    def align(self, phonemes: Phonemes, tokenized: Tokenized | None = None) -> PhoneTokens:
        tokenized = tokenized or self.tokenize(phonemes.normalized)
        return phone_token_indices(phonemes.word_spans, tokenized.spans)

    def extract_batch(
        self, items: Sequence[Phonemes], add_blank: bool = True, batch_size: int = 16
    ) -> list["torch.Tensor"]:
        """Features for many utterances; several per forward pass (sorted by length, padded).

        Returns one float32 CPU tensor ``(hidden, len(to_sequence(p, add_blank=add_blank)))`` each.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        tokenized = [self.tokenize(p.normalized) for p in items]
        states = self.token_states(tokenized, batch_size)
        features = []
        for phonemes, tok, token_states in zip(items, tokenized, states):
            phone_features = pool_phone_features(token_states, self.align(phonemes, tok))
            sequence = to_sequence(phonemes, add_blank=add_blank)
            features.append(expand_to_sequence(phone_features, sequence.phone_index))
        return features

    def __call__(self, phonemes: Phonemes, add_blank: bool = True) -> "torch.Tensor":
        return self.extract_batch([phonemes], add_blank=add_blank, batch_size=1)[0]

    def explain(self, phonemes: Phonemes, add_blank: bool = True) -> Explanation:
        tokenized = self.tokenize(phonemes.normalized)
        aligned = self.align(phonemes, tokenized)
        n_positions = len(to_sequence(phonemes, add_blank=add_blank))
        return Explanation(
            model=self.model_name,
            normalized=phonemes.normalized,
            tokens=tuple(
                TokenPiece(index=k, piece=p, start=s, end=e, unknown=u)
                for k, (p, (s, e), u) in enumerate(zip(tokenized.pieces, tokenized.spans, tokenized.unknown))
            ),
            phones=tuple(
                PhoneSource(phone=ph, word_span=span, tokens=idx, nearest=near)
                for ph, span, idx, near in zip(phonemes.phones, phonemes.word_spans, aligned.indices, aligned.nearest)
            ),
            windows=len(self._windows(len(tokenized))),
            unknown_count=sum(tokenized.unknown),
            feature_shape=(self._hidden_size, n_positions),
            stand_in=self.stand_in,
        )


def _last_hidden_module(encoder: Any) -> Any:
    """``encoder(input_ids, attention_mask).last_hidden_state`` as a module with positional tensor I/O."""
    from melo.runtime.tracing import as_module

    return as_module(lambda ids, mask: encoder(input_ids=ids, attention_mask=mask).last_hidden_state, encoder=encoder)


def _fingerprint_of(source: Any, layer: int, precision: str) -> str:
    return source_fingerprint(source, f"L{layer}:{precision}:a{ALIGNMENT_VERSION}")


def feature_fingerprint(model: str, layer: int, precision: Precision = "fp32") -> str:
    """What :meth:`FeatureExtractor.fingerprint` returns for these arguments, without loading the model
    (cache checks stay cheap when everything is already extracted). Raises ``ModelUnavailableError``
    like the constructor when the model cannot be found."""
    return _fingerprint_of(resolve_source(model), layer, precision)


def _model_key(model: str) -> str:
    folder = Path(model).expanduser()
    return str(folder.resolve()) if folder.is_dir() else model


@functools.lru_cache(maxsize=4)
def _cached_extractor(model_key: str, layer: int, device: str, precision: str) -> FeatureExtractor:
    return FeatureExtractor(model=model_key, layer=layer, device=device, precision=precision)  # type: ignore[arg-type]


def get_extractor(
    model: str = "BAAI/bge-m3", layer: int = -3, device: "str | torch.device" = "cpu", precision: Precision = "fp32"
) -> FeatureExtractor:
    """A process-wide shared :class:`FeatureExtractor` (each model/layer/device/precision loaded once)."""
    return _cached_extractor(_model_key(model), layer, str(device), precision)
