"""A tiny random XLM-RoBERTa model with a locally trained tokenizer: a SMOKE-TEST STAND-IN for bge-m3.

    python -m melo.testing.tiny_encoder OUT_DIR [--hidden 64 --layers 2 --heads 2 --vocab 4000 --seed 0]

writes a folder that ``AutoTokenizer.from_pretrained(OUT_DIR)`` and ``AutoModel.from_pretrained(OUT_DIR)``
load offline, so every code path that loads bge-m3 can be exercised on a machine without the real
model. The weights are random and the tokenizer (SentencePiece-style BPE with the "▁"
Metaspace pre-tokenizer, like XLM-R's) is trained on the small sample in ``melo.testing.corpus``, so
its features carry no meaning and its unknown-token rate says nothing about bge-m3. It is not bge-m3.
The defaults match ``configs/tiny.json`` (``bert_channels`` 64, ``bert_layer`` -1).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

__all__ = ["STAND_IN_NOTE", "build_tiny_encoder"]

logger = logging.getLogger(__name__)

STAND_IN_NOTE = "tiny random XLM-RoBERTa smoke-test stand-in, NOT bge-m3: its features are meaningless"
"""Said by everything that uses the stand-in; also stored in its config.json as ``melo_stand_in``."""

# XLM-R's special tokens and ids: <s>=0 <pad>=1 </s>=2 <unk>=3, <mask> last.
_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")


def _train_tokenizer(vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    from melo.testing.corpus import training_sentences

    # BPE rather than Unigram: tokenizers' Unigram trainer is not byte-reproducible between runs.
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(_SPECIALS), show_progress=False)
    tokenizer.train_from_iterator(training_sentences(), trainer=trainer)
    tokenizer.add_special_tokens(["<mask>"])
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    return tokenizer


def build_tiny_encoder(
    out_dir: str | Path,
    *,
    hidden: int = 64,
    layers: int = 2,
    heads: int = 2,
    vocab: int = 4000,
    seed: int = 0,
    max_positions: int = 128,
) -> Path:
    """Write the stand-in to ``out_dir`` and return it. Same arguments -> same files (deterministic).

    ``vocab`` is the tokenizer's target size; the trainer stops earlier when the sample has fewer useful
    pieces, and the model's embedding table matches what it produced. ``max_positions`` is the number
    of tokens (special tokens included) the model accepts, kept small so tests reach the windowing path.
    """
    import torch
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig, XLMRobertaModel

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    backend = _train_tokenizer(vocab)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<s>",
        eos_token="</s>",
        cls_token="<s>",
        sep_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        model_max_length=max_positions,
    )
    pad_id = tokenizer.pad_token_id
    config = XLMRobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=4 * hidden,
        # XLM-R positions start after the padding index, so it needs pad_id + 1 extra rows.
        max_position_embeddings=max_positions + pad_id + 1,
        pad_token_id=pad_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        type_vocab_size=1,
    )
    config.melo_stand_in = STAND_IN_NOTE
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        model = XLMRobertaModel(config).eval()
    finally:
        torch.random.set_rng_state(generator_state)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "README.md").write_text(
        f"# {STAND_IN_NOTE}\n\nBuilt by `python -m melo.testing.tiny_encoder` "
        f"(hidden {hidden}, layers {layers}, heads {heads}, vocab {len(tokenizer)}, seed {seed}).\n"
        "Random weights and a tokenizer trained on a few hundred sample sentences: for smoke tests and the demo only.\n",
        encoding="utf-8",
    )
    logger.info("wrote %s to %s", STAND_IN_NOTE, out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m melo.testing.tiny_encoder", description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=2)
    parser.add_argument("--vocab", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-positions", type=int, default=128)
    args = parser.parse_args(argv)
    out = build_tiny_encoder(
        args.out_dir,
        hidden=args.hidden,
        layers=args.layers,
        heads=args.heads,
        vocab=args.vocab,
        seed=args.seed,
        max_positions=args.max_positions,
    )
    print(f"wrote {out} ({STAND_IN_NOTE})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
