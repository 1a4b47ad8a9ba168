"""``python -m melo.finetune``: from a filelist to a fine-tuned voice in one command.

    python -m melo.finetune --filelist data/myvoice/list.txt --from myshell-ai/MeloTTS-Korean --model myvoice \\
        [--speaker-from KR] [--val-filelist F] [--max-steps 20000] [--freeze decoder ...] [--config configs/finetune.json]

It composes the run's config and then runs ``python -m melo.train`` on it:

* the ``train`` section from ``--config`` (``configs/finetune.json``: learning rate, batch, schedule, eval);
* ``train.init_from`` = ``--from``: a MeloTTS voice (repo id or ``checkpoint.pth``) or one of our checkpoints;
  from ours, the ``model`` section and the audio and text-feature settings of ``data`` come from the
  checkpoint's own config (they must match it), from MeloTTS's they are ``--config``'s (MeloTTS's shapes);
* the speakers: the source's, in its ids, then the filelist's new ones appended; ``--speaker-from NAME``
  starts every new speaker from the source's speaker NAME (``train.init_speaker_map``);
* the data: ``--filelist`` for training and ``--val-filelist`` for validation, or, without one, every
  twentieth line of the filelist held out (at least 1, at most 8), both written with absolute wav paths to
  ``checkpoints/NAME/``; the preprocessing cache goes beside the filelist (``cache/``).

The composed config is written to ``checkpoints/NAME/finetune_config.json``; running the same command again
continues the run (``--resume``). Exit status: 0, or 2 for a run that cannot start or continue.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Sequence

from melo.config import Config, ConfigError, GeneratorGroup, load_config

__all__ = ["FinetuneError", "compose_config", "main"]

logger = logging.getLogger(__name__)

CONFIG_NAME = "finetune_config.json"
TRAINED_DATA_KEYS = ("sampling_rate", "filter_length", "hop_length", "win_length", "n_mel_channels", "mel_fmin",
                     "mel_fmax", "add_blank", "n_speakers", "bert_model", "bert_layer", "bert_precision")
"""``data`` settings a model is tied to: from one of our checkpoints they are taken from its config."""
HOLD_OUT_EVERY, HOLD_OUT_MAX = 20, 8


class FinetuneError(ValueError):
    """The fine-tuning run cannot be composed (a bad filelist, speaker or source)."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    from melo.monitor import setup_logging

    setup_logging(is_main=True)
    from melo.init import InitError

    run_dir = args.checkpoints_dir / args.model
    try:
        base = load_config(args.config)
        config = compose_config(base, args.source, args.filelist, args.val_filelist, run_dir, args.speaker_from,
                                tuple(args.freeze))
    except (ConfigError, FinetuneError, InitError) as e:
        logger.error("%s", e)
        return 2
    run_dir.mkdir(parents=True, exist_ok=True)
    config.save(run_dir / CONFIG_NAME)
    logger.info("fine-tuning config: %s (init_from %s)", run_dir / CONFIG_NAME, config.train.init_from)

    import melo.train
    from melo.checkpoint import complete_steps

    train_argv = ["--config", str(run_dir / CONFIG_NAME), "--model", args.model, "--max-steps", str(args.max_steps),
                  "--device", args.device, "--checkpoints-dir", str(args.checkpoints_dir), "--logs-dir", str(args.logs_dir)]
    if complete_steps(run_dir):
        logger.info("%s holds checkpoints: continuing that run", run_dir)
        train_argv.append("--resume")
    return melo.train.main(train_argv)


def compose_config(base: Config, source: str, filelist: Path, val_filelist: Path | None, run_dir: Path,
                   speaker_from: str | None = None, freeze: tuple[GeneratorGroup, ...] = ()) -> Config:
    """The fine-tuning run's config (see the module docstring); writes the held-out lists into ``run_dir``."""
    from melo.init.sources import read_generator

    origin = read_generator(source)  # fails early: a missing file, an uncached repo offline, a foreign file
    raw = base.to_dict()
    trained = origin.trained_config
    if trained is not None:
        raw["model"] = trained["model"]
        raw["data"].update({k: trained["data"][k] for k in TRAINED_DATA_KEYS if k in trained["data"]})
    named = origin.row_names is not None and origin.speakers_named
    spk2id: dict[str, int] = dict(origin.row_names.speakers) if named and origin.row_names else {}

    train_list, val_list = _split(filelist, val_filelist, run_dir)
    speakers = _speakers(train_list, val_list)
    new = [s for s in speakers if s not in spk2id]
    next_id = max(spk2id.values(), default=-1) + 1
    spk2id.update({s: next_id + i for i, s in enumerate(new)})
    raw["data"].update(training_files=str(train_list), validation_files=str(val_list), spk2id=spk2id,
                       cache_dir=str(filelist.resolve().parent / "cache"),
                       n_speakers=max(raw["data"]["n_speakers"], len(spk2id)))
    speaker_map = {}
    if speaker_from is not None:
        if not named or origin.row_names is None or speaker_from not in origin.row_names.speakers:
            known = ", ".join(origin.row_names.speakers) if origin.row_names and named else "none named"
            raise FinetuneError(f"--speaker-from {speaker_from}: not a speaker of {source} (its speakers: {known})")
        speaker_map = {s: speaker_from for s in new}
    raw["train"].update(init_from=source, pretrained_G=None, init_speaker_map=speaker_map, freeze=list(freeze))
    kept = [s for s in spk2id if s not in new]
    logger.info("speakers: %s; new: %s%s", f"{', '.join(kept)} from {source}" if kept else f"none named in {source}",
                ", ".join(new) or "none", f" (starting from {speaker_from})" if speaker_from and new else "")
    return Config.from_dict(raw, source=f"{run_dir / CONFIG_NAME}")


def _split(filelist: Path, val_filelist: Path | None, run_dir: Path) -> tuple[Path, Path]:
    """The training and validation lists: as given, or the filelist split (every 20th line held out)."""
    from melo.data.filelist import parse_filelist

    if not filelist.is_file():
        raise FinetuneError(f"{filelist}: filelist not found")
    if val_filelist is not None:
        if not val_filelist.is_file():
            raise FinetuneError(f"{val_filelist}: validation filelist not found")
        return filelist.resolve(), val_filelist.resolve()
    parsed = parse_filelist(filelist, "train")
    for problem in parsed.problems:
        logger.warning("%s", problem)
    rows = parsed.rows
    if len(rows) < 2:
        raise FinetuneError(f"{filelist}: {len(rows)} usable lines; fine-tuning needs at least 2 (one is held out "
                            f"for validation)")
    n_val = min(HOLD_OUT_MAX, max(1, len(rows) // HOLD_OUT_EVERY))
    step = len(rows) // n_val
    held = {i * step + step - 1 for i in range(n_val)}
    run_dir.mkdir(parents=True, exist_ok=True)
    paths = run_dir / "train_list.txt", run_dir / "val_list.txt"
    for path, keep in zip(paths, (lambda i: i not in held, lambda i: i in held)):
        lines = ["|".join([str(r.wav), r.text, r.speaker, *([r.language] if r.language else [])])
                 for i, r in enumerate(rows) if keep(i)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    logger.info("%s: %d lines for training, %d held out for validation (%s)", filelist, len(rows) - n_val, n_val,
                paths[1])
    return paths


def _speakers(*filelists: Path) -> list[str]:
    from melo.data.filelist import parse_filelist

    seen: dict[str, None] = {}
    for path in filelists:
        for row in parse_filelist(path, "train").rows:
            seen.setdefault(row.speaker, None)
    return list(seen)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m melo.finetune", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--filelist", type=Path, required=True, help="wav|text|speaker[|LANG] lines of the new voice")
    p.add_argument("--from", dest="source", required=True,
                   help="what to start from: a MeloTTS voice (myshell-ai/MeloTTS-Korean, a checkpoint.pth) or one of "
                        "our checkpoints (G_latest.pth, G_<step>.pth)")
    p.add_argument("--model", "-m", required=True, help="run name: checkpoints/NAME, logs/NAME")
    p.add_argument("--speaker-from", help="start the new speakers from this speaker of the source (e.g. KR)")
    p.add_argument("--val-filelist", type=Path, help="validation lines (default: hold out every 20th line)")
    p.add_argument("--max-steps", type=int, default=20000, help="stop at this step (default 20000)")
    p.add_argument("--freeze", nargs="*", default=[], metavar="GROUP",
                   help="generator groups to keep as loaded: text_embeddings text_encoder duration_predictors flow "
                        "posterior_encoder decoder speakers")
    p.add_argument("--config", type=Path, default=Path("configs/finetune.json"), help="default configs/finetune.json")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--checkpoints-dir", type=Path, default=Path("checkpoints"), help="parent of checkpoints/NAME")
    p.add_argument("--logs-dir", type=Path, default=Path("logs"), help="parent of logs/NAME and the log files")
    args = p.parse_args(argv)
    if args.max_steps <= 0:
        p.error("--max-steps must be > 0")
    return args


if __name__ == "__main__":
    sys.exit(main())
