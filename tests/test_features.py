"""Encoder features aligned to phones, checked on the tiny smoke-test stand-in (NOT bge-m3).

Expected values are recomputed here from the raw model: AutoModel/AutoTokenizer loaded independently,
all hidden states, the offsets of the standard tokenizer call, and the documented overlap rule.
Phonemes are built by hand so the tests do not depend on any G2P.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from melo.features import FeatureExtractor, ModelUnavailableError, get_extractor, token_coverage
from melo.features.align import window_starts
from melo.testing.corpus import training_sentences
from melo.text.sequence import to_sequence
from melo.text.types import Phonemes

ROOT = Path(__file__).resolve().parents[1]
PHONE = "ᅡ"  # any symbol of the inventory: features do not depend on which phone it is


def make_phonemes(text: str, words: list[tuple[str, int]]) -> Phonemes:
    """Phonemes for ``text`` whose words (found left to right) get the given numbers of phones."""
    phones: list[str] = []
    spans: list[tuple[int, int]] = []
    cursor = 0
    for word, n_phones in words:
        start = text.index(word, cursor)
        cursor = start + len(word)
        symbol = word if word in {",", ".", "!", "?"} else PHONE
        phones.extend([symbol] * n_phones)
        spans.extend([(start, cursor)] * n_phones)
    n = len(phones)
    return Phonemes(
        text=text, normalized=text, segments=(), phones=tuple(phones), tones=(0,) * n,
        languages=("KR",) * n, word_spans=tuple(spans),
    )


class Reference:
    """The raw model, run the plain transformers way, with every hidden state."""

    def __init__(self, folder: Path) -> None:
        from transformers import AutoModel, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.model = AutoModel.from_pretrained(folder).eval()

    def tokens(self, text: str) -> tuple[list[str], list[tuple[int, int]], torch.Tensor]:
        batch = self.tokenizer(text, return_offsets_mapping=True, return_tensors="pt")
        pieces = self.tokenizer.convert_ids_to_tokens(batch["input_ids"][0].tolist())
        offsets = [tuple(o) for o in batch["offset_mapping"][0].tolist()]
        return pieces, offsets, batch["input_ids"]

    def hidden(self, input_ids: torch.Tensor, layer: int) -> torch.Tensor:
        with torch.no_grad():
            out = self.model(input_ids=input_ids, output_hidden_states=True)
        return out.hidden_states[layer][0]  # (T, H) including <s> and </s>

    def owned(self, text: str, pieces: list[str], offsets: list[tuple[int, int]]) -> list[set[int]]:
        """Characters each token owns: offsets minus whitespace; specials and bare "▁" own none."""
        special = set(self.tokenizer.all_special_tokens) - {self.tokenizer.unk_token}
        return [
            set() if p in special or p.replace("▁", "") == "" else {c for c in range(s, e) if not text[c].isspace()}
            for p, (s, e) in zip(pieces, offsets)
        ]

    def phone_features(self, phonemes: Phonemes, layer: int = -1) -> torch.Tensor:
        """``(n_phones, H)``: mean hidden state of the tokens overlapping each phone's word."""
        pieces, offsets, ids = self.tokens(phonemes.normalized)
        hidden = self.hidden(ids, layer)
        owned = self.owned(phonemes.normalized, pieces, offsets)
        rows = []
        for start, end in phonemes.word_spans:
            hits = [k for k, chars in enumerate(owned) if chars & set(range(start, end))]
            assert hits, f"test text has a word {phonemes.normalized[start:end]!r} no token overlaps"
            rows.append(hidden[hits].mean(dim=0))
        return torch.stack(rows)


@pytest.fixture(scope="module")
def reference(tiny_encoder_dir: Path) -> Reference:
    return Reference(tiny_encoder_dir)


@pytest.fixture(scope="module")
def extractor(tiny_encoder_dir: Path) -> FeatureExtractor:
    return FeatureExtractor(str(tiny_encoder_dir), layer=-1)


def phone_columns(features: torch.Tensor, phonemes: Phonemes) -> torch.Tensor:
    """``(H, n)`` with blanks -> ``(n_phones, H)`` at the real phone positions."""
    index = torch.as_tensor(to_sequence(phonemes).phone_index)
    return features[:, index >= 0].T


def assert_aligned(extractor: FeatureExtractor, reference: Reference, phonemes: Phonemes) -> None:
    features = extractor(phonemes)
    assert features.shape == (extractor.hidden_size, 2 * len(phonemes) + 1)
    assert features.dtype == torch.float32
    torch.testing.assert_close(phone_columns(features, phonemes), reference.phone_features(phonemes), atol=1e-5, rtol=1e-4)


def word_token_counts(reference: Reference, phonemes: Phonemes) -> list[int]:
    pieces, offsets, _ = reference.tokens(phonemes.normalized)
    owned = reference.owned(phonemes.normalized, pieces, offsets)
    return [sum(bool(chars & set(range(s, e))) for chars in owned) for s, e in phonemes.word_spans]


def test_word_split_into_several_pieces(extractor, reference):
    p = make_phonemes("Hyperparameterization is surprisingly difficult.", [("Hyperparameterization", 9), ("is", 2), ("surprisingly", 8), ("difficult", 6), (".", 1)])
    assert word_token_counts(reference, p)[0] >= 3, "precondition: the long word must be split into several pieces"
    assert_aligned(extractor, reference, p)


def test_piece_covering_two_words(extractor, reference):
    p = make_phonemes("我们的世界很大。", [("我们", 4), ("的", 2), ("世界", 4), ("很", 2), ("大", 2), ("。", 1)])
    pieces, offsets, _ = reference.tokens(p.normalized)
    owned = reference.owned(p.normalized, pieces, offsets)
    words = [set(range(s, e)) for s, e in dict.fromkeys(p.word_spans)]
    assert any(sum(bool(chars & w) for w in words) >= 2 for chars in owned), "precondition: a piece spans two words"
    assert_aligned(extractor, reference, p)
    explanation = extractor.explain(p)
    assert explanation.phones[0].tokens == explanation.phones[4].tokens  # 我们 and 的 share the piece


def test_mixed_languages_in_one_utterance(extractor, reference):
    text = "오늘 meeting은 我们的世界, 今日は良い天気ですね!"
    words = [("오늘", 4), ("meeting", 5), ("은", 2), ("我们", 4), ("的", 2), ("世界", 4), (",", 1),
             ("今日", 4), ("は", 1), ("良い", 3), ("天気", 4), ("ですね", 4), ("!", 1)]
    assert_aligned(extractor, reference, make_phonemes(text, words))


def test_punctuation_words(extractor, reference):
    p = make_phonemes("Hello, world! Good morning?", [("Hello", 4), (",", 1), ("world", 4), ("!", 1), ("Good", 3), ("morning", 5), ("?", 1)])
    assert_aligned(extractor, reference, p)


def test_long_utterance_is_windowed(extractor, reference):
    sentences = [s for s in training_sentences() if s.isascii()][:30]
    text = " ".join(sentences)
    words = [(w, 2) for w in text.split()]
    p = make_phonemes(text, words)
    _, _, ids = reference.tokens(text)
    content = ids[0, 1:-1]
    window = extractor.max_tokens
    assert len(content) > 2 * window, "precondition: the utterance needs several windows"
    explanation = extractor.explain(p)
    assert explanation.windows >= 3
    features = extractor(p)
    assert features.shape == (extractor.hidden_size, 2 * len(p) + 1)
    assert torch.isfinite(features).all()

    # Independently: each token's state comes from the window (quarter-window overlap) where it is
    # farthest from the edges; each phone averages its word's tokens.
    starts = window_starts(len(content), window, window // 4)
    assert starts[0] == 0 and starts[-1] + window == len(content)
    states = []
    for start in starts:
        window_ids = torch.cat([ids[:, :1], content[None, start : start + window], ids[:, -1:]], dim=1)
        states.append(reference.hidden(window_ids, -1)[1:-1])
    token_states = torch.empty(len(content), extractor.hidden_size)
    for t in range(len(content)):
        margins = [min(t - s, s + window - 1 - t) if s <= t < s + window else -1 for s in starts]
        w = margins.index(max(margins))
        token_states[t] = states[w][t - starts[w]]
    pieces, offsets, _ = reference.tokens(text)
    owned = reference.owned(text, pieces, offsets)[1:-1]
    expected = torch.stack(
        [token_states[[k for k, c in enumerate(owned) if c & set(range(s, e))]].mean(0) for s, e in p.word_spans]
    )
    torch.testing.assert_close(phone_columns(features, p), expected, atol=1e-5, rtol=1e-4)


def test_blank_features_are_the_mean_of_neighbouring_phones(extractor):
    p = make_phonemes("Hello, world!", [("Hello", 4), (",", 1), ("world", 4), ("!", 1)])
    with_blanks = extractor(p, add_blank=True)
    phones = extractor(p, add_blank=False)
    assert phones.shape == (extractor.hidden_size, len(p))
    assert with_blanks.shape == (extractor.hidden_size, 2 * len(p) + 1)
    torch.testing.assert_close(with_blanks[:, 1::2], phones)
    torch.testing.assert_close(with_blanks[:, 0], phones[:, 0])
    torch.testing.assert_close(with_blanks[:, -1], phones[:, -1])
    for k in range(1, len(p)):
        torch.testing.assert_close(with_blanks[:, 2 * k], (phones[:, k - 1] + phones[:, k]) / 2)
    # Between "Hello" and ",", the blank is a real mix of two different words' features.
    assert not torch.allclose(with_blanks[:, 8], phones[:, 3])


def test_batch_equals_single(extractor):
    texts = [
        ("Hello, world!", [("Hello", 4), (",", 1), ("world", 4), ("!", 1)]),
        ("我们的世界很大。", [("我们", 4), ("的", 2), ("世界", 4), ("很", 2), ("大", 2), ("。", 1)]),
        ("오늘 날씨가 정말 좋네요.", [("오늘", 4), ("날씨가", 6), ("정말", 4), ("좋네요", 6), (".", 1)]),
        ("今日は良い天気ですね。", [("今日", 4), ("は", 1), ("良い", 3), ("天気", 4), ("ですね", 4), ("。", 1)]),
        (" ".join(training_sentences()[:12]), [(w, 1) for w in " ".join(training_sentences()[:12]).split()]),
    ]
    items = [make_phonemes(t, w) for t, w in texts]
    batched = extractor.extract_batch(items, batch_size=3)
    for item, features in zip(items, batched):
        torch.testing.assert_close(features, extractor(item), atol=1e-5, rtol=1e-4)


def test_special_tokens_never_leak(extractor, reference):
    text = "Hello <s> world </s>"
    p = make_phonemes(text, [(text, 3)])  # one word spanning the whole text: every content token
    _, _, ids = reference.tokens(text)
    hidden = reference.hidden(ids, -1)
    features = extractor(p, add_blank=False)
    # Literal "<s>" in the text is text, not the special token.
    assert all(t.piece not in {"<s>", "</s>"} for t in extractor.explain(p).tokens)
    assert len(extractor.tokenize(text)) > 0
    expected_content = reference_mean_without_specials(extractor, text, -1)
    torch.testing.assert_close(features[:, 0], expected_content, atol=1e-5, rtol=1e-4)
    assert not torch.allclose(features[:, 0], hidden.mean(0), atol=1e-4)  # what leaking <s>/</s> would give


def reference_mean_without_specials(extractor: FeatureExtractor, text: str, layer: int) -> torch.Tensor:
    """Mean hidden state of the text's content tokens, with "<s>" read as plain text."""
    from transformers import AutoModel

    tokenized = extractor.tokenize(text)
    model = AutoModel.from_pretrained(extractor.model_name).eval()
    ids = torch.tensor([[extractor.tokenizer.cls_token_id, *tokenized.ids, extractor.tokenizer.sep_token_id]])
    with torch.no_grad():
        hidden = model(input_ids=ids, output_hidden_states=True).hidden_states[layer][0, 1:-1]
    owning = [k for k, (s, e) in enumerate(tokenized.spans) if e > s]
    return hidden[owning].mean(0)


def test_chosen_layer_is_used(tiny_encoder_dir, reference):
    p = make_phonemes("Hello, world!", [("Hello", 4), (",", 1), ("world", 4), ("!", 1)])
    lower = FeatureExtractor(str(tiny_encoder_dir), layer=-2)
    assert len(lower.encoder.encoder.layer) == 1  # the unused top layer is gone
    torch.testing.assert_close(phone_columns(lower(p), p), reference.phone_features(p, layer=-2), atol=1e-5, rtol=1e-4)
    with pytest.raises(ValueError, match="out of range"):
        FeatureExtractor(str(tiny_encoder_dir), layer=-4)


def test_word_with_no_overlapping_token_takes_the_nearest(extractor):
    text = "Hello   world"
    p = Phonemes(text=text, normalized=text, segments=(), phones=(PHONE,) * 3, tones=(0,) * 3,
                 languages=("KR",) * 3, word_spans=((0, 5), (6, 7), (8, 13)))  # (6, 7) is whitespace
    aligned = extractor.explain(p).phones
    assert aligned[1].nearest and not aligned[0].nearest and not aligned[2].nearest
    assert set(aligned[1].tokens) <= set(aligned[0].tokens) | set(aligned[2].tokens)
    features = extractor(p, add_blank=False)
    states = extractor.token_states([extractor.tokenize(text)])[0]
    torch.testing.assert_close(features[:, 1], states[list(aligned[1].tokens)].mean(0))


def test_fp16_storage_is_at_most_2_kib_per_position(extractor, tmp_path):
    from melo.testing.tiny_encoder import build_tiny_encoder

    # bge-m3's width (1024) in a one-layer stand-in: the stored bytes per position are what bge-m3's are.
    wide = FeatureExtractor(str(build_tiny_encoder(tmp_path / "wide", hidden=1024, layers=1, heads=16, vocab=300)), layer=-1)
    p = make_phonemes("Hello, world!", [("Hello", 4), (",", 1), ("world", 4), ("!", 1)])
    for fx in (extractor, wide):
        stored = fx(p).half()
        bytes_per_position = stored.element_size() * stored.shape[0]
        assert stored.dtype == torch.float16 and bytes_per_position == 2 * fx.hidden_size
        assert bytes_per_position <= 2048
    assert wide.hidden_size == 1024


def test_fast_paths_stay_close_to_fp32(tiny_encoder_dir, extractor):
    p = make_phonemes("오늘 meeting은 我们的世界, 今日は良い天気ですね!", [("오늘", 2), ("meeting", 3), ("我们", 2), ("今日", 2), ("天気", 2)])
    reference = extractor(p)
    for precision in ("bf16", "int8"):
        fast = FeatureExtractor(str(tiny_encoder_dir), layer=-1, precision=precision)(p)
        assert fast.dtype == torch.float32
        error = ((fast - reference).norm() / reference.norm()).item()
        assert 0 < error < 0.1, f"{precision}: relative error {error}"


@pytest.mark.parametrize("precision", ["int8", "bf16"])
def test_cpu_fast_paths_run_a_trace_that_matches_eager_exactly(tiny_encoder_dir, precision):
    fast = FeatureExtractor(str(tiny_encoder_dir), layer=-1, precision=precision)
    assert fast._forward != fast._eager_forward  # the trace was accepted
    texts = ["오늘 meeting은 3시에 시작해요", "我今天很忙, but I will call you.", "東京タワーに行きました"]
    tokenized = [fast.tokenize(t) for t in texts]
    traced = fast.token_states(tokenized, batch_size=2)  # a padded batch and a single one
    fast._forward = fast._eager_forward
    eager = fast.token_states(tokenized, batch_size=2)
    for a, b in zip(traced, eager):
        assert a.shape == b.shape and torch.equal(a, b)


def test_an_encoder_the_trace_gets_wrong_runs_eagerly(tiny_encoder_dir, monkeypatch):
    import melo.features.extractor as extractor_module

    real = extractor_module._last_hidden_module

    def shape_baking(encoder):  # a stand-in for an architecture whose trace bakes in the traced length
        module = real(encoder)
        forward = module.forward
        def baked(ids, mask):  # Python control flow on a shape: the trace keeps the branch it saw
            out = forward(ids, mask)
            return out if ids.shape[1] == 8 else out * 0

        module.forward = baked
        return module

    monkeypatch.setattr(extractor_module, "_last_hidden_module", shape_baking)
    fast = FeatureExtractor(str(tiny_encoder_dir), layer=-1, precision="int8")
    assert fast._forward == fast._eager_forward


def test_offline_bge_m3_fails_fast_with_instructions(tmp_path):
    script = textwrap.dedent(
        """
        import time
        from melo.features import FeatureExtractor, ModelUnavailableError
        start = time.perf_counter()
        try:
            FeatureExtractor("BAAI/bge-m3")
        except ModelUnavailableError as error:
            print(f"{time.perf_counter() - start:.3f}")
            print(error)
        else:
            print("loaded")
        """
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "HF_HUB_CACHE": str(tmp_path / "hf" / "hub")}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    elapsed, message = result.stdout.split("\n", 1)
    assert float(elapsed) < 2.0
    for needed in ("BAAI/bge-m3", "local folder", "huggingface-cli download", "HF_HOME", "HF_HUB_OFFLINE"):
        assert needed in message
    cli = subprocess.run([sys.executable, "-m", "melo.features", "안녕하세요"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 1
    assert "BAAI/bge-m3" in cli.stderr and "huggingface-cli download" in cli.stderr and "Traceback" not in cli.stderr


def test_missing_local_folder_is_reported(tmp_path):
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        FeatureExtractor(str(tmp_path / "no" / "such" / "encoder"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelUnavailableError, match="no config.json"):
        FeatureExtractor(str(tmp_path / "empty"))


def test_from_config_matches_bert_channels(tiny_encoder_dir):
    from melo.config import load_config

    config = load_config(ROOT / "configs" / "tiny.json")
    config = config.replace(data={"bert_model": str(tiny_encoder_dir)})
    fx = FeatureExtractor.from_config(config.data)
    assert fx.hidden_size == config.model.bert_channels
    assert fx.layer == config.data.bert_layer


def test_get_extractor_loads_once(tiny_encoder_dir):
    first = get_extractor(str(tiny_encoder_dir), layer=-1)
    assert get_extractor(str(tiny_encoder_dir), layer=-1) is first
    assert get_extractor(str(tiny_encoder_dir), layer=-2) is not first


def test_fingerprint_tracks_model_layer_and_precision(tiny_encoder_dir, extractor, tmp_path):
    same = FeatureExtractor(str(tiny_encoder_dir), layer=-1)
    assert same.fingerprint() == extractor.fingerprint()
    assert FeatureExtractor(str(tiny_encoder_dir), layer=-2).fingerprint() != extractor.fingerprint()
    assert FeatureExtractor(str(tiny_encoder_dir), layer=-1, precision="bf16").fingerprint() != extractor.fingerprint()
    changed = tmp_path / "changed"
    shutil.copytree(tiny_encoder_dir, changed)
    config = json.loads((changed / "config.json").read_text())
    config["layer_norm_eps"] = 1e-5
    (changed / "config.json").write_text(json.dumps(config))
    assert FeatureExtractor(str(changed), layer=-1).fingerprint() != extractor.fingerprint()


def test_tiny_encoder_is_deterministic(tiny_encoder_dir, tmp_path):
    from melo.testing.tiny_encoder import build_tiny_encoder

    again = build_tiny_encoder(tmp_path / "again")
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"):
        assert (again / name).read_bytes() == (tiny_encoder_dir / name).read_bytes(), name
    config = json.loads((again / "config.json").read_text())
    assert config["hidden_size"] == 64 and "NOT bge-m3" in config["melo_stand_in"]


def test_coverage_counts_unknown_tokens(extractor):
    report = token_coverage(extractor.tokenizer, {"seen": ["Hello, world!"], "unseen": ["QQ Hello"]})
    seen, unseen = report.groups
    assert seen.unknown == 0 and seen.tokens > 0
    assert unseen.unknown == 2 and unseen.unknown_chars == ("Q",)
    assert report.rate == pytest.approx(2 / (seen.tokens + unseen.tokens))
    sample = token_coverage(extractor.tokenizer)
    assert {g.name for g in sample.groups} == {"KR", "EN", "ZH", "JP"}
    assert 0 <= sample.rate <= 1 and sample.tokens > 100


def test_cli_coverage_and_unavailable_model(tiny_encoder_dir, tmp_path, capsys):
    from melo.features.__main__ import main

    text_file = tmp_path / "lines.txt"
    text_file.write_text("wavs/a.wav|Hello QQ|alice|EN\nplain line\n", encoding="utf-8")
    assert main(["--model", str(tiny_encoder_dir), "--coverage", str(text_file)]) == 0
    out = capsys.readouterr().out
    assert "NOT bge-m3" in out and "sample JP" in out and str(text_file) in out
    assert main(["--model", str(tmp_path / "missing" / "x" / "y"), "hello"]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_cli_inspects_a_real_sentence(tiny_encoder_dir, capsys):
    from melo.features.__main__ import main
    from melo.text import phonemize

    text = "Hello, world! 我们的世界。"
    assert main(["--model", str(tiny_encoder_dir), "--layer", "-1", text]) == 0
    out = capsys.readouterr().out
    n_positions = len(to_sequence(phonemize(text)))
    assert f"feature matrix: 64 x {n_positions}" in out
    assert "unknown tokens: 0" in out and "NOT bge-m3" in out and "<- tokens [" in out


def test_empty_utterance_gives_one_zero_blank(extractor):
    empty = Phonemes(text="", normalized="", segments=(), phones=(), tones=(), languages=(), word_spans=())
    features = extractor(empty)
    assert features.shape == (extractor.hidden_size, 1)
    assert torch.count_nonzero(features) == 0


def test_windows_cover_every_token_with_the_most_central_window():
    from melo.features.align import pick_windows

    assert window_starts(10, 16, 4) == [0]
    starts = window_starts(40, 16, 4)
    assert starts[0] == 0 and starts[-1] == 40 - 16
    assert all(b - a <= 12 for a, b in zip(starts, starts[1:]))  # consecutive windows share >= 4 tokens
    choice = pick_windows(40, starts, 16)
    for t, w in enumerate(choice):
        assert starts[w] <= t < starts[w] + 16
        margins = [min(t - s, s + 15 - t) for s in starts if s <= t < s + 16]
        assert min(t - starts[w], starts[w] + 15 - t) == max(margins)


def test_tiny_encoder_cli_writes_a_loadable_model(tmp_path):
    out = tmp_path / "enc"
    result = subprocess.run(
        [sys.executable, "-m", "melo.testing.tiny_encoder", str(out), "--hidden", "32", "--layers", "1", "--heads", "2", "--vocab", "500"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "NOT bge-m3" in result.stdout and "RuntimeWarning" not in result.stderr
    fx = FeatureExtractor(str(out), layer=-1)
    assert fx.hidden_size == 32
    assert fx(make_phonemes("Hello, world!", [("Hello", 2), ("world", 2)])).shape == (32, 2 * 4 + 1)
