"""Speaker ids on ``--resume``: the checkpoint's, whatever order the filelists now list the speakers in.

A resumed run's speaker-embedding rows were trained under the ``spk2id`` of the run that wrote them
(``checkpoints/NAME/config.json``, also in ``G_latest.pth``). :func:`pin_trained_speakers` puts that mapping
into the config before preprocessing, so names keep their ids and new names are appended after them
(:func:`melo.data.filelist.assign_speaker_ids`); :func:`report_speaker_changes` says what changed. A
``data.spk2id`` in the config that gives a trained name another id is refused: those rows cannot be moved.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from melo import checkpoint as ckpt
from melo.config import Config
from melo.train.errors import TrainingError

if TYPE_CHECKING:
    from melo.data.preprocess import PreparedData

__all__ = ["pin_trained_speakers", "prepared_speakers", "report_speaker_changes", "trained_speakers"]

logger = logging.getLogger(__name__)

RUN_CONFIG_NAME = "config.json"
"""The resolved config the trainer writes beside its checkpoints."""


def trained_speakers(ckpt_dir: Path) -> dict[str, int] | None:
    """The ``spk2id`` the checkpoints of ``ckpt_dir`` were trained with (its ``config.json``, else
    ``G_latest.pth``), or ``None`` when neither says."""
    try:
        raw = json.loads((ckpt_dir / RUN_CONFIG_NAME).read_text(encoding="utf-8"))
        spk2id = raw["data"]["spk2id"]
        if isinstance(spk2id, dict) and spk2id:
            return {str(k): int(v) for k, v in spk2id.items()}
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        spk2id = ckpt.load_checkpoint_file(ckpt_dir / ckpt.LATEST_NAME).get("spk2id")
    except ckpt.CheckpointError:
        return None
    return {str(k): int(v) for k, v in spk2id.items()} if isinstance(spk2id, dict) and spk2id else None


def pin_trained_speakers(config: Config, ckpt_dir: Path) -> tuple[Config, dict[str, int] | None]:
    """``config`` with ``data.spk2id`` starting from the trained mapping; also that mapping (``None``: unknown)."""
    trained = trained_speakers(ckpt_dir)
    if trained is None:
        logger.warning("%s: no record of the speaker ids this run was trained with; ids come from the filelists",
                       ckpt_dir)
        return config, None
    moved = {name: (trained[name], i) for name, i in config.data.spk2id.items() if name in trained and trained[name] != i}
    if moved:
        listed = ", ".join(f"{n}: trained as {a}, data.spk2id says {b}" for n, (a, b) in sorted(moved.items()))
        raise TrainingError(f"--resume: data.spk2id renumbers trained speakers ({listed}); a resumed run keeps the "
                            f"ids of {ckpt_dir / RUN_CONFIG_NAME} (new names may be added)")
    merged = dict(trained)
    owner = {i: n for n, i in trained.items()}
    for name, i in config.data.spk2id.items():
        if name in merged:
            continue
        if i in owner:
            raise TrainingError(f"--resume: data.spk2id gives {name!r} id {i}, which the checkpoint's speaker "
                                f"{owner[i]!r} was trained as; leave new names out of data.spk2id to append them")
        merged[name], owner[i] = i, name
    return config.replace(data={"spk2id": merged}), trained


def prepared_speakers(prepared: "PreparedData") -> set[str]:
    """The speakers of the kept rows of both manifests."""
    from melo.data.preprocess import load_manifest

    return {it.speaker for path in (prepared.train_manifest, prepared.val_manifest)
            for it in load_manifest(path).items}


def report_speaker_changes(trained: dict[str, int] | None, resolved: dict[str, int], used: set[str]) -> None:
    """Log the speakers a resumed run added, and the trained ones no kept row uses any more (ids kept)."""
    if trained is None:
        return
    added = {n: i for n, i in resolved.items() if n not in trained}
    unused = sorted(n for n in trained if n not in used)
    logger.info("speaker ids kept from the checkpoint (%d speakers)", len(trained))
    if added:
        logger.warning("speakers added on resume (new embedding rows): %s",
                       ", ".join(f"{n}={i}" for n, i in sorted(added.items(), key=lambda kv: kv[1])))
    if unused:
        logger.warning("trained speakers with no rows in the filelists now (ids kept, not trained further): %s",
                       ", ".join(unused))
