"""The learning-proof corpus: the lists it writes, and held-out sentences in no training or validation line."""

from __future__ import annotations

import shutil

import pytest
import soundfile as sf

from melo.demo.corpus import espeak_executable
from melo.demo.proof_corpus import build_proof_corpus

def _rows(path):
    return [line.split("|") for line in path.read_text(encoding="utf-8").splitlines()]


def test_proof_corpus_lists_every_clip_and_keeps_held_out_sentences_out_of_training(tmp_path):
    corpus = build_proof_corpus(tmp_path, per_language=2, val_per_language=1, held_out_per_language=1, voices=2,
                                workers=1)
    train, val, held_out = _rows(corpus.train_list), _rows(corpus.val_list), _rows(corpus.held_out_list)
    assert (len(train), len(val), len(held_out)) == (8, 4, 8) == (corpus.n_train, corpus.n_val, corpus.n_held_out)
    assert {row[3] for row in train} == {row[3] for row in held_out} == {"KR", "EN", "ZH", "JP"}
    assert {row[1] for row in held_out}.isdisjoint({row[1] for row in train + val})
    assert {row[2] for row in held_out} == set(corpus.speakers)  # every held-out sentence in every voice
    for row in train + val + held_out:
        info = sf.info(tmp_path / row[0])
        assert info.samplerate == 44100 and info.frames > 0


def test_a_missing_espeak_executable_is_named_with_the_install_command(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install espeak-ng"):
        espeak_executable()
