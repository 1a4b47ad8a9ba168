"""bge-m3 features from the exported encoder graph: ``Phonemes`` -> ``(H, n)`` float32, without torch.

The same steps as :class:`melo.features.FeatureExtractor`, sharing its rules (:mod:`melo.features.align`):
the normalised text is tokenised with character offsets (``tokenizers``, from the exported ``tokenizer.json``),
encoded whole (in overlapping windows past the encoder's positions), pooled onto phones through their word spans
and spread over the blank-interleaved sequence.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from melo.features.align import (
    Tokenized,
    encoder_windows,
    expand_to_sequence_array,
    phone_token_indices,
    pick_windows,
    pool_phone_features_array,
    tokenize,
)
from melo.onnx.manifest import ENCODER_INPUTS, EncoderInfo
from melo.onnx.sessions import open_session
from melo.text.sequence import to_sequence
from melo.text.types import Phonemes

__all__ = ["OnnxFeatures"]


class OnnxFeatures:
    """``features(phonemes, add_blank)`` -> ``(hidden, len(to_sequence(phonemes, add_blank)))`` float32."""

    def __init__(self, graph: str | Path, tokenizer_file: str | Path, info: EncoderInfo, threads: int | None = None) -> None:
        from tokenizers import Tokenizer

        self.info = info
        self.session = open_session(graph, threads)
        try:
            backend = Tokenizer.from_file(str(tokenizer_file))
        except Exception as error:  # tokenizers raises a bare Exception for malformed files
            raise RuntimeError(f"{tokenizer_file}: not a tokenizers file ({error})") from None
        backend.no_truncation()
        backend.no_padding()
        backend.encode_special_tokens = True  # literal "<s>" in text is text, never a special token
        self.backend = backend
        self._special_ids = frozenset(info.special_ids)

    @property
    def hidden_size(self) -> int:
        return self.info.hidden_size

    def tokenize(self, text: str) -> Tokenized:
        return tokenize(self.backend, text, self._special_ids, self.info.unk_id)

    def _encode(self, ids: tuple[int, ...]) -> np.ndarray:
        """Content token ids -> their ``(len, H)`` hidden states (``<s>``/``</s>`` added, then dropped)."""
        input_ids = np.array([[self.info.cls_id, *ids, self.info.sep_id]], dtype=np.int64)
        feeds = dict(zip(ENCODER_INPUTS, (input_ids, np.ones_like(input_ids))))
        (hidden,) = self.session.run(None, feeds)
        return hidden[0, 1 : 1 + len(ids)].astype(np.float32, copy=False)

    def token_states(self, tokenized: Tokenized) -> np.ndarray:
        """``(n_tokens, H)`` hidden states of the exported layer for one tokenised utterance."""
        n, window = len(tokenized), self.info.max_tokens
        if n == 0:
            return np.zeros((0, self.hidden_size), dtype=np.float32)
        starts = encoder_windows(n, window)
        encoded = [self._encode(tokenized.ids[start : start + window]) for start in starts]
        if len(starts) == 1:
            return encoded[0]
        choice = pick_windows(n, starts, window)
        return np.stack([encoded[w][t - starts[w]] for t, w in enumerate(choice.tolist())])

    def __call__(self, phonemes: Phonemes, add_blank: bool = True) -> np.ndarray:
        tokenized = self.tokenize(phonemes.normalized)
        phone_tokens = phone_token_indices(phonemes.word_spans, tokenized.spans)
        phone_features = pool_phone_features_array(self.token_states(tokenized), phone_tokens)
        return expand_to_sequence_array(phone_features, to_sequence(phonemes, add_blank=add_blank).phone_index)
