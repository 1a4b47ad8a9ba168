"""Parameter counts of the full model (configs/config_bge_m3.json) next to MeloTTS's.

Run: python benchmarks/model_params.py  -> prints the table and writes benchmarks/results/model_params.md
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from melo.config import load_config  # noqa: E402
from melo.model import build_discriminators, build_generator, count_parameters  # noqa: E402
from melo.text.symbols import DEFAULT_TABLE  # noqa: E402

# MeloTTS's own counts (DESIGN.md section 4 / the issue), measured from its source with H=192.
MELO = {"generator": 51.87, "inference": 42.9, "mpd": 46.75, "duration": 0.61}
JA_BERT_PROJ = 768 * 192 + 192  # MeloTTS's second BERT projection, Conv1d(768, 192, 1): dropped here
DEAD_DUR_COND = 256 * 192 + 192  # MeloTTS's duration discriminator `cond` layer, built but never called


def counts(config_path: str = "configs/config_bge_m3.json") -> dict[str, int]:
    torch.manual_seed(0)
    config = load_config(ROOT / config_path)
    gen = build_generator(config, DEFAULT_TABLE)
    discs = build_discriminators(config)
    result = {
        "generator": count_parameters(gen),
        "inference": count_parameters(*_modules_synthesis_runs(gen)),
        "mpd": count_parameters(discs.mpd),
        "duration": count_parameters(discs.duration) if discs.duration is not None else 0,
    }
    for name, module in gen.named_children():
        result[f"generator.{name}"] = count_parameters(module)
    return result


def _modules_synthesis_runs(gen: torch.nn.Module) -> list[torch.nn.Module]:
    """The generator's top-level modules that ``infer`` calls, seen by running it once on a short input."""
    ran: set[str] = set()
    hooks = [module.register_forward_pre_hook(lambda *_, top=name.split(".")[0]: ran.add(top))
             for name, module in gen.named_modules() if name]
    n = 5
    with torch.no_grad():
        gen.eval().infer(torch.ones(1, n, dtype=torch.long), torch.zeros(1, n, dtype=torch.long),
                         torch.zeros(1, n, dtype=torch.long), torch.zeros(1, gen.cfg.bert_channels, n),
                         torch.zeros(1, dtype=torch.long), max_len=4)
    for hook in hooks:
        hook.remove()
    return [module for name, module in gen.named_children() if name in ran]


def table(c: dict[str, int]) -> str:
    rows = [
        ("generator (SynthesizerTrn)", c["generator"], MELO["generator"],
         f"MeloTTS's includes its ja_bert projection Conv1d(768,192,1) = {JA_BERT_PROJ / 1e6:.2f} M; "
         f"ours + that = {(c['generator'] + JA_BERT_PROJ) / 1e6:.2f} M"),
        ("generator needed at inference (no posterior encoder)", c["inference"], MELO["inference"],
         f"same ja_bert difference; ours + ja_bert = {(c['inference'] + JA_BERT_PROJ) / 1e6:.2f} M"),
        ("multi-period (2,3,5,7,11) + scale discriminators", c["mpd"], MELO["mpd"], "same architecture"),
        ("duration discriminator", c["duration"], MELO["duration"],
         f"MeloTTS builds a speaker `cond` Conv1d(256,192,1) ({DEAD_DUR_COND / 1e6:.3f} M) its trainer never uses; "
         f"omitted unless model.duration_discriminator_speaker_conditioned; ours + that = "
         f"{(c['duration'] + DEAD_DUR_COND) / 1e6:.2f} M"),
    ]
    lines = [
        "## Model parameters (configs/config_bge_m3.json, H=192)",
        "",
        "| part | ours (M) | MeloTTS (M) | difference explained |",
        "|---|---:|---:|---|",
    ]
    lines += [f"| {name} | {ours / 1e6:.2f} | {melo:.2f} | {why} |" for name, ours, melo, why in rows]
    lines += ["", "Generator by component (M): " + ", ".join(
        f"{k.split('.', 1)[1]} {v / 1e6:.3f}" for k, v in c.items() if k.startswith("generator."))]
    lines += ["", f"Embedding tables use this project's symbol table ({DEFAULT_TABLE.n_symbols} phones, "
              f"{DEFAULT_TABLE.n_tones} tones, {DEFAULT_TABLE.n_languages} languages); MeloTTS's tables differ in "
              "size, a difference of a few thousand parameters (invisible at this precision)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    text = table(counts())
    print(text)
    out = ROOT / "benchmarks" / "results" / "model_params.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
