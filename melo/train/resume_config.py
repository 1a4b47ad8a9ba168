"""``--resume`` with a config that differs from the one the checkpoints were trained with: every difference
is reported, the ones a resumed run cannot honour are refused, and the optimiser settings are applied.

The checkpoints' config is ``checkpoints/NAME/config.json`` (written by every run). Differences fall into:

* **refused** -- the ``model`` section, the audio front end and the text features (``data.sampling_rate``,
  ``filter_length``, ``hop_length``, ``win_length``, ``n_mel_channels``, ``mel_fmin``, ``mel_fmax``,
  ``add_blank``, ``bert_model``, ``bert_layer``, ``korean_coda_classes``, ``n_speakers``) and
  ``train.freeze``: the weights and optimiser state were made for them. Start a new run with
  ``train.init_from`` pointing at the checkpoint instead.
* **applied to the restored optimisers** -- ``train.learning_rate`` (the schedule continues as
  ``learning_rate * lr_decay ** k`` with the new value), ``train.lr_decay`` (from the current rate on),
  ``train.betas``, ``train.eps``. The optimiser state is what is compared (not ``config.json``), so a change
  is applied once however many resumes follow.
* **ignored on resume** -- ``train.init_from*``, ``pretrained_*``, ``init_speaker_map``, ``init_min_fraction``,
  ``allow_shape_mismatch``: a resumed run continues from its own checkpoints.
* **may change** -- everything else (filelists, batch size, loss weights, intervals, workers, evaluation, ...):
  it takes effect from the resumed step. A changed ``batch_size`` or ``seed`` also changes which utterances the
  rest of the current epoch draws. ``data.spk2id`` is :mod:`melo.train.speakers`' business.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import torch

from melo.config import Config
from melo.train.errors import TrainingError

__all__ = ["REFUSED_DATA", "apply_optimizer_settings", "check_resume_config", "config_differences"]

logger = logging.getLogger(__name__)

REFUSED_DATA = frozenset({"sampling_rate", "filter_length", "hop_length", "win_length", "n_mel_channels", "mel_fmin",
                          "mel_fmax", "add_blank", "bert_model", "bert_layer", "korean_coda_classes", "n_speakers"})
REFUSED_TRAIN = frozenset({"freeze"})
APPLIED_TRAIN = frozenset({"learning_rate", "lr_decay", "betas", "eps"})
IGNORED_TRAIN = frozenset({"init_from", "init_from_D", "init_from_DUR", "pretrained_G", "pretrained_D",
                           "init_speaker_map", "init_min_fraction", "allow_shape_mismatch"})
NOT_COMPARED = frozenset({"data.spk2id"})


def config_differences(saved: dict[str, Any], config: Config) -> list[tuple[str, Any, Any]]:
    """``(section.key, saved value, new value)`` for every field that differs, in config order."""
    new = config.to_dict()
    out = []
    for section, fields in new.items():
        before = saved.get(section) or {}
        for key, value in fields.items():
            name = f"{section}.{key}"
            if name not in NOT_COMPARED and key in before and before[key] != value:
                out.append((name, before[key], value))
    return out


def check_resume_config(ckpt_dir: Path, config: Config, report: bool = True) -> None:
    """Report (when ``report``: rank 0) every difference between ``config`` and the checkpoints' config; raise
    :class:`TrainingError` naming all those a resumed run cannot honour."""
    log = logger.warning if report else logger.debug
    path = ckpt_dir / "config.json"
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        log("%s: unreadable (%s); the config cannot be compared with the checkpoints'", path, e)
        return
    refused = []
    for name, before, after in config_differences(saved, config):
        section, key = name.split(".", 1)
        change = f"{name}: {_show(before)} -> {_show(after)}"
        if section == "model" or (section == "data" and key in REFUSED_DATA) or \
                (section == "train" and key in REFUSED_TRAIN):
            refused.append(change)
        elif section == "train" and key in IGNORED_TRAIN:
            log("resume: %s (ignored: a resumed run continues from its own checkpoints)", change)
        elif section == "train" and key in APPLIED_TRAIN:
            log("resume: %s (applied to the restored optimisers)", change)
        else:
            log("resume: %s (takes effect from the resumed step)", change)
    if refused:
        raise TrainingError(
            f"--resume: the config differs from the checkpoints' ({path}) in settings a resumed run cannot change:\n  "
            + "\n  ".join(refused)
            + "\nput them back, or start a new run from these weights (train.init_from: "
              f"{ckpt_dir / 'G_latest.pth'})")


def apply_optimizer_settings(optimizers: dict[str, torch.optim.Optimizer],
                             schedulers: dict[str, torch.optim.lr_scheduler.LRScheduler], config: Config,
                             report: bool = True) -> None:
    """Put ``train.learning_rate``, ``lr_decay``, ``betas`` and ``eps`` into restored optimisers and schedules
    where their state holds other values (logged once per setting when ``report``)."""
    t = config.train
    said: set[str] = set()

    def say(setting: str, before: Any, after: Any) -> None:
        if report and setting not in said:
            said.add(setting)
            logger.warning("resume: train.%s %s in the checkpoint, %s now: applied", setting, _show(before),
                           _show(after))

    for name, opt in optimizers.items():
        scheduler = schedulers[name]
        gamma = getattr(scheduler, "gamma", None)
        if gamma is not None and not math.isclose(gamma, t.lr_decay, rel_tol=1e-12):
            say("lr_decay", gamma, t.lr_decay)
            scheduler.gamma = t.lr_decay  # type: ignore[attr-defined]
        for i, group in enumerate(opt.param_groups):
            base = scheduler.base_lrs[i]
            if not math.isclose(base, t.learning_rate, rel_tol=1e-12):
                say("learning_rate", base, t.learning_rate)
                group["lr"] = t.learning_rate * group["lr"] / base  # the decay so far, on the new base
                group["initial_lr"] = scheduler.base_lrs[i] = t.learning_rate
            if tuple(group["betas"]) != tuple(t.betas):
                say("betas", list(group["betas"]), list(t.betas))
                group["betas"] = tuple(t.betas)
            if group["eps"] != t.eps:
                say("eps", group["eps"], t.eps)
                group["eps"] = t.eps
        scheduler._last_lr = [group["lr"] for group in opt.param_groups]  # type: ignore[attr-defined]


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, float) else f"{value:g}"
