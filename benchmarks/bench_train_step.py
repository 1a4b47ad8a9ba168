"""One full VITS2 training step, ours beside MeloTTS's own, at the shapes MeloTTS was measured with.

    python benchmarks/bench_train_step.py [--melotts DIR]      (or MELOTTS_DIR=DIR)
    -> benchmarks/results/model_train_step.md

*Ours*: :func:`melo.train.step.train_step`, the step ``python -m melo.train`` runs (the model tests run it too).
*MeloTTS*: the body of ``train_and_evaluate`` in MeloTTS's ``melo/train.py``, called as MeloTTS calls it, with
its own ``SynthesizerTrn``, discriminators, losses, mel functions, numba alignment search and AdamW set-up.
Both: full config (H=192, MeloTTS's ``configs/config.json`` for its model; ours ``configs/config_bge_m3.json``),
101 text positions, 400 spectrogram frames, segment 16384 samples, fp32, random weights and inputs, 2 threads.
One step = G forward, duration-D and MPD+scale-D forward/backward/AdamW, G backward/AdamW. Each (code, batch
size) runs in a fresh subprocess, so the peak RSS is that step's process.

DIR is a checkout of github.com/myshell-ai/MeloTTS (``melo/*.py``, ``melo/monotonic_align/``,
``melo/text/symbols.py``). It is imported from there, in its own process, and never copied into this project.
What the MeloTTS process replaces, none of it inside the timed loop: the imports of its training script that
the step does not use (dataset, logging and download helpers, the text frontend but for its symbol table) by
stubs, ``librosa.filters.mel`` by the equivalent Slaney filterbank of ``melo/audio.py`` (built once, cached by
MeloTTS's ``mel_basis``), ``Tensor.cuda`` by the identity (its loop moves every tensor to the GPU), and the DDP
wrapper (one process) by a holder of ``.module``; it runs as a rank other than 0, which skips its TensorBoard
logging and checkpointing. Its alignment search needs numba (``pip install numba``; the ``bench`` extra).
Without DIR the MeloTTS rows are left out and the results say so.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

T_TEXT, T_SPEC = 101, 400
THREADS = int(os.environ.get("MELO_BENCH_THREADS", "2"))  # 2 as in the MeloTTS measurement
WARMUP, STEPS = 1, {2: 8, 6: 4}  # the first step also allocates the AdamW state


# -- ours ------------------------------------------------------------------------------------------

def ours(batch: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    import torch

    from melo.audio import SpectrogramParams
    from melo.config import load_config
    from melo.model import build_discriminators, build_generator
    from melo.model.alignment import maximum_path
    from melo.text.symbols import DEFAULT_TABLE
    from melo.train.step import make_optimizers, posterior_input, train_step

    config = load_config(ROOT / "configs" / "config_bge_m3.json")
    d, m = config.data, config.model
    torch.manual_seed(0)
    gen, discs = build_generator(config, DEFAULT_TABLE), build_discriminators(config)
    opts = make_optimizers(gen, discs, config)
    g = torch.Generator().manual_seed(0)
    wav = 0.3 * torch.randn(batch, 1, T_SPEC * d.hop_length, generator=g)
    spec = SpectrogramParams.from_config(d).spectrogram(wav.squeeze(1))[:, :, :T_SPEC]
    inputs = {
        "phone_ids": torch.randint(1, DEFAULT_TABLE.n_symbols, (batch, T_TEXT), generator=g),
        "tone_ids": torch.randint(0, DEFAULT_TABLE.n_tones, (batch, T_TEXT), generator=g),
        "language_ids": torch.randint(0, DEFAULT_TABLE.n_languages, (batch, T_TEXT), generator=g),
        "text_lengths": torch.full((batch,), T_TEXT),
        "bert": torch.randn(batch, m.bert_channels, T_TEXT, generator=g),
        "spec": posterior_input(spec, config),
        "spec_lengths": torch.full((batch,), T_SPEC),
        "speaker_ids": torch.randint(0, d.n_speakers, (batch,), generator=g),
    }
    times = []
    for step in range(WARMUP + STEPS[batch]):
        start = time.perf_counter()
        result = train_step(gen, discs, opts, inputs, wav, config, step)
        times.append(time.perf_counter() - start)
    assert not result.skipped and result.generator_total is not None and torch.isfinite(result.generator_total)
    mas = _mas_seconds(maximum_path, batch)
    return _result("ours", batch, times[WARMUP:], mas)


# -- MeloTTS's ---------------------------------------------------------------------------------------

def melotts(batch: int, melo_dir: Path) -> dict[str, Any]:
    import torch

    hps = _install_melotts(melo_dir)
    import train as melo_train  # MeloTTS's melo/train.py
    from mel_processing import spectrogram_torch
    from models import DurationDiscriminator, MultiPeriodDiscriminator, SynthesizerTrn
    from text.symbols import symbols

    d, m = hps.data, hps.model
    torch.manual_seed(0)
    # as MeloTTS's run() builds them (noise-scaled MAS and the duration discriminator are on in its config)
    net_dur_disc = DurationDiscriminator(m.hidden_channels, m.hidden_channels, 3, 0.1, gin_channels=m.gin_channels)
    net_g = SynthesizerTrn(len(symbols), d.filter_length // 2 + 1, hps.train.segment_size // d.hop_length,
                           n_speakers=d.n_speakers, mas_noise_scale_initial=0.01, noise_scale_delta=2e-6, **m)
    net_d = MultiPeriodDiscriminator(m.use_spectral_norm)
    t = hps.train
    optim_g = torch.optim.AdamW(filter(lambda p: p.requires_grad, net_g.parameters()), t.learning_rate,
                                betas=t.betas, eps=t.eps)
    optim_d = torch.optim.AdamW(net_d.parameters(), t.learning_rate, betas=t.betas, eps=t.eps)
    optim_dur = torch.optim.AdamW(net_dur_disc.parameters(), t.learning_rate, betas=t.betas, eps=t.eps)
    schedulers = [torch.optim.lr_scheduler.ExponentialLR(o, gamma=t.lr_decay) for o in (optim_g, optim_d, optim_dur)]
    scaler = torch.cuda.amp.GradScaler(enabled=False)

    from text import num_languages, num_tones

    g = torch.Generator().manual_seed(0)
    y = 0.3 * torch.randn(batch, 1, T_SPEC * d.hop_length, generator=g)
    spec = spectrogram_torch(y.squeeze(1), d.filter_length, d.sampling_rate, d.hop_length, d.win_length)[:, :, :T_SPEC]
    lengths = torch.full((batch,), T_TEXT)
    item = (
        torch.randint(1, len(symbols), (batch, T_TEXT), generator=g), lengths, spec, torch.full((batch,), T_SPEC),
        y, torch.full((batch,), T_SPEC * d.hop_length), torch.randint(0, d.n_speakers, (batch,), generator=g),
        torch.randint(0, num_tones, (batch, T_TEXT), generator=g),
        torch.randint(0, num_languages, (batch, T_TEXT), generator=g),
        torch.randn(batch, 1024, T_TEXT, generator=g), torch.randn(batch, 768, T_TEXT, generator=g),
    )
    loader = _TimedLoader(item, WARMUP + STEPS[batch])
    class Replica(torch.nn.Module):
        """Stands in for DistributedDataParallel in one process: the network as ``.module``, called through."""

        def __init__(self, module: torch.nn.Module) -> None:
            super().__init__()
            self.module = module

        def forward(self, *args: Any, **kwargs: Any) -> Any:
            return self.module(*args, **kwargs)

    nets = [Replica(net) for net in (net_g, net_d, net_dur_disc)]
    melo_train.train_and_evaluate(1, 1, hps, nets, [optim_g, optim_d, optim_dur], schedulers, scaler,
                                  [loader, None], None, None)  # rank 1: no logging, no checkpoints
    times = [b - a for a, b in zip(loader.stamps, loader.stamps[1:])]
    assert len(times) == WARMUP + STEPS[batch]
    from monotonic_align import maximum_path

    mas = _mas_seconds(maximum_path, batch)
    return _result("MeloTTS", batch, times[WARMUP:], mas)


class _TimedLoader:
    """The same batch ``n`` times; the time of every ``next`` is the end of one loop iteration of the caller."""

    def __init__(self, item: tuple, n: int) -> None:
        self.item, self.n, self.stamps = item, n, []
        self.batch_sampler = types.SimpleNamespace(set_epoch=lambda epoch: None)

    def __len__(self) -> int:
        return self.n

    def __iter__(self):  # type: ignore[no-untyped-def]
        for _ in range(self.n):
            self.stamps.append(time.perf_counter())
            yield self.item
        self.stamps.append(time.perf_counter())


class _HParams(dict):
    """MeloTTS's ``utils.HParams``: a dict whose keys are also attributes (nested)."""

    def __init__(self, raw: dict) -> None:
        super().__init__({k: _HParams(v) if isinstance(v, dict) else v for k, v in raw.items()})

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _install_melotts(melo_dir: Path) -> _HParams:
    """Make MeloTTS's training script importable in this process (see the module doc); returns its config."""
    import torch

    src = melo_dir / "melo"
    for needed in ("train.py", "models.py", "losses.py", "mel_processing.py", "monotonic_align", "text/symbols.py"):
        if not (src / needed).exists():
            raise SystemExit(f"{src / needed} is missing: --melotts must be a MeloTTS checkout")
    sys.path[:0] = [str(src), str(melo_dir)]  # its training script imports its modules by bare name
    stub = _stub_module
    symbols = _load_file("text.symbols", src / "text" / "symbols.py")
    text = stub("text", num_languages=symbols.num_languages, num_tones=symbols.num_tones)
    text.symbols = symbols
    stub("utils")
    stub("data_utils", TextAudioSpeakerLoader=None, TextAudioSpeakerCollate=None, DistributedBucketSampler=None)
    stub("melo.download_utils", load_pretrain_model=lambda: (None, None, None))
    audio = _load_file("melo_bge_m3_audio", ROOT / "melo" / "audio.py")

    def librosa_mel(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None):  # type: ignore[no-untyped-def]
        return audio.mel_filterbank(sr, n_fft, n_mels, float(fmin), float(sr / 2 if fmax is None else fmax))

    librosa = stub("librosa")
    librosa.filters = stub("librosa.filters", mel=librosa_mel)
    torch.Tensor.cuda = lambda self, *args, **kwargs: self  # its loop moves every batch to the GPU
    torch.cuda.empty_cache = lambda: None
    return _HParams(json.loads((src / "configs" / "config.json").read_text(encoding="utf-8")))


def _stub_module(name: str, **attributes: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attributes)
    sys.modules[name] = module
    return module


def _load_file(name: str, path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# -- shared -------------------------------------------------------------------------------------------

def _mas_seconds(search, batch: int) -> float:  # type: ignore[no-untyped-def]
    """Median time of an alignment search alone on (B, T_spec, T_text) scores (both codes' layout)."""
    import torch

    g = torch.Generator().manual_seed(1)
    scores, mask = torch.randn(batch, T_SPEC, T_TEXT, generator=g), torch.ones(batch, T_SPEC, T_TEXT)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        search(scores, mask)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _result(code: str, batch: int, times: list[float], mas: float) -> dict[str, Any]:
    return {"code": code, "batch": batch, "median_s": statistics.median(times), "min_s": min(times), "steps": len(times),
            "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, "mas_s": mas}


def _run(code: str, batch: int, melo_dir: Path | None) -> dict[str, Any]:
    env = dict(os.environ, OMP_NUM_THREADS=str(THREADS), HF_HUB_OFFLINE="1")
    argv = [sys.executable, __file__, "--worker", code, str(batch)] + (["--melotts", str(melo_dir)] if melo_dir else [])
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{code} B={batch} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--melotts", type=Path, default=os.environ.get("MELOTTS_DIR") or None,
                   help="a MeloTTS checkout to measure beside ours (default: $MELOTTS_DIR; absent: ours only)")
    p.add_argument("--worker", nargs=2, metavar=("CODE", "BATCH"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        import torch

        torch.set_num_threads(THREADS)
        code, batch = args.worker[0], int(args.worker[1])
        print(json.dumps(ours(batch) if code == "ours" else melotts(batch, args.melotts)))
        return
    runs = [("ours", 2), ("MeloTTS", 2), ("ours", 6), ("MeloTTS", 6)]
    results = []
    for code, batch in runs:
        if code == "MeloTTS" and args.melotts is None:
            continue
        results.append(_run(code, batch, args.melotts))
        print(results[-1], flush=True)
    text = _report(results, args.melotts is not None)
    out = ROOT / "benchmarks" / "results" / "model_train_step.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)


def _report(results: list[dict[str, Any]], with_melotts: bool) -> str:
    load = os.getloadavg()
    lines = [
        f"## Training step (full config, fp32, {THREADS} thread{'s' if THREADS > 1 else ''})",
        "",
        f"Ours: `melo.train.step.train_step`, the step `python -m melo.train` runs. MeloTTS: its own "
        "`train_and_evaluate` loop body, models, losses and numba alignment search, imported from a MeloTTS checkout "
        f"in the same run (see `benchmarks/bench_train_step.py`). B=2 and B=6, {T_TEXT} text positions, {T_SPEC} "
        "frames, segment 16384, H=192; one step = G forward, duration-D and MPD+scale-D forward/backward/AdamW, "
        f"G backward/AdamW. Median over {STEPS[2]} (B=2) and {STEPS[6]} (B=6) steps after {WARMUP} warm-up step, "
        f"each in a fresh process. Load average at the end: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}.",
        "",
        "| batch | code | step median (s) | step min (s) | peak RSS (GiB) | alignment search alone (ms) |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    lines += [f"| {r['batch']} | {r['code']} | {r['median_s']:.2f} | {r['min_s']:.2f} | {r['peak_gib']:.2f} | "
              f"{r['mas_s'] * 1e3:.1f} |" for r in results]
    lines.append("")
    if not with_melotts:
        lines.append("MeloTTS's step was not measured in this run (no `--melotts` checkout given): no ratio.")
    for batch in (2, 6):
        pair = {r["code"]: r for r in results if r["batch"] == batch}
        if "ours" in pair and "MeloTTS" in pair:
            a, b = pair["ours"], pair["MeloTTS"]
            lines.append(f"B={batch}: ours / MeloTTS = {a['median_s'] / b['median_s']:.2f}x the step time and "
                         f"{a['peak_gib'] / b['peak_gib']:.2f}x the peak RSS (goal <= 0.8x each).")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
