"""``python -m melo.train``: train the VITS2 generator against its discriminators.

Usage::

    python -m melo.train --config configs/config_bge_m3.json --model melo_bge_m3 [--resume] [--max-steps N]
    torchrun --nproc_per_node=4 --master_port=29500 -m melo.train --config ... --model ...
    python -m melo.train --config ... --model ... --dry-run     # peak memory of the heaviest batches, then exit

or, in-process, ``from melo import train; train.main([...])`` (the exit status: 0, or 2 for a run that
cannot start or continue). The package reads as the recipe's rooms:

=============  ==========================================================================================
``cli``        the command line (:class:`Args`)
``run``        run setup: logging, config, data, networks, optimizers, resume, DDP, loaders (:class:`Run`)
``data``       preprocessing on demand and the loaders
``models``     building the networks, pretrained initialisation (with a load report), DDP wrapping
``state``      where the run is and what resuming needs (:class:`TrainingState`, saved by ``melo.checkpoint``)
``step``       THE GAN training step (also run by the model tests and ``benchmarks/bench_train_step.py``)
``skips``      counting skipped updates on the device; stopping after ``train.max_consecutive_skips`` in a row
``report``     log lines, TensorBoard, validation
``loop``       ``setup -> loop -> save -> cleanup`` and :func:`main`
``dry_run``    ``--dry-run``: one step on each of the heaviest batches, peak memory, exit
=============  ==========================================================================================
"""

from melo.train.cli import Args, parse_args
from melo.train.errors import TrainingError
from melo.train.loop import main
from melo.train.step import clip_gradients, train_step

__all__ = ["Args", "TrainingError", "clip_gradients", "main", "parse_args", "train_step"]
