"""The training recipe: ``setup -> loop -> save -> cleanup``, and :func:`main` (``python -m melo.train``).

Per batch: one :func:`~melo.train.step.train_step`, the step counters, the per-step learning-rate decay (when
``lr_decay_interval`` is ``"step"``), a log line every ``log_interval`` steps, and every ``eval_interval``
steps validation and a checkpoint set. The loop ends at ``--max-steps``, after ``train.epochs`` or on
SIGTERM/SIGINT (seen by any rank), and saves once more.

The learning rate is ``learning_rate * lr_decay ** k`` where ``k`` is the number of finished epochs
(``lr_decay_interval: "epoch"``, MeloTTS's schedule) or of finished steps (``"step"``); the scheduler state
is checkpointed, so a resumed run continues the same curve. ``--max-steps N`` stops when the step reaches N
(so ``--resume --max-steps`` continues to an absolute step).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import time
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import torch

from melo import checkpoint as ckpt
from melo.distributed import Distributed, init_distributed
from melo.monitor import close_logging
from melo.train import state
from melo.train.cli import parse_args
from melo.train.errors import TrainingError
from melo.train.report import evaluate, log_train
from melo.train.run import Run, setup
from melo.train.skips import SkipTracker
from melo.train.speech_eval import score_is_better
from melo.train.step import StepResult, posterior_input, train_step

if TYPE_CHECKING:
    from melo.data.batch import Batch

__all__ = ["main", "save", "train", "train_on_batch"]

logger = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    dist_ctx = init_distributed(args.device)  # type: ignore[arg-type]
    run: Run | None = None
    try:
        if args.dry_run:
            from melo.train.dry_run import dry_run

            dry_run(args, dist_ctx)
            return 0
        run = setup(args, dist_ctx)
        train(run)
        return 0
    except TrainingError as e:
        logger.error("%s", e)
        return 2
    except KeyboardInterrupt:  # a second SIGTERM/SIGINT while the first one's save was pending: one line
        step = run.progress.step if run is not None else 0
        logger.error("stopped at once by a second stop signal at step %d, without saving; the last checkpoint "
                     "set is intact (--resume continues from it)", step)
        return 130
    except BaseException:
        logger.exception("training failed")  # into the log file too, then fail loudly
        raise
    finally:
        cleanup(run, dist_ctx)


def train(run: Run) -> None:
    """Epochs of steps until ``--max-steps``, ``train.epochs`` or a stop signal."""
    t, p = run.config.train, run.progress
    run.networks.train()
    skips = SkipTracker(list(run.optimizers.by_name()), run.dist.device, t.max_consecutive_skips,
                        step=p.step, steps=p.skipped_steps, per_optimizer=p.skipped_updates)
    check_every = min(t.log_interval, t.max_consecutive_skips)
    bar = _progress_bar(run)
    step_timer = time.perf_counter()
    window: list[dict[str, torch.Tensor]] = []
    stop_requested = False
    if p.step == 0:
        _evaluate(run)  # the untrained baseline of the validation curves
    with _stop_on_signals(run):
        while p.epoch < t.epochs and not _reached_max(run):
            run.loaders.sampler.set_epoch(p.epoch, p.batch_in_epoch)
            for batch in run.loaders.train:
                batch = batch.to(run.dist.device, non_blocking=True)
                result = train_on_batch(run, batch)
                skips.update(result.skipped_updates)
                p.step += 1
                p.batch_in_epoch += 1
                if t.lr_decay_interval == "step":
                    _step_schedulers(run)
                window.append(result.scalars(run.config))
                if bar is not None:
                    bar.update(1)
                if p.step % check_every == 0 or p.step % t.log_interval == 0:
                    _check_skips(run, skips)
                if p.step % t.log_interval == 0:
                    log_train(run, window, (time.perf_counter() - step_timer) / len(window), result, batch)
                    window, step_timer = [], time.perf_counter()
                del result
                if p.step % t.eval_interval == 0:
                    paused = time.perf_counter()
                    scores = _evaluate(run)
                    _check_skips(run, skips)
                    save(run)
                    _keep_best(run, scores)
                    step_timer += time.perf_counter() - paused  # step_seconds measures training only
                stop_requested = run.dist.any_true(bool(run.stop_signal))  # a signal seen by any rank
                if stop_requested or _reached_max(run):
                    break
            else:  # the epoch ran out
                p.epoch += 1
                p.batch_in_epoch = 0
                if t.lr_decay_interval == "epoch":
                    _step_schedulers(run)
                continue
            break
    if bar is not None:
        bar.close()
    if stop_requested:
        name = signal.Signals(run.stop_signal[0]).name if run.stop_signal else "a stop signal on another rank"
        logger.warning("received %s at step %d: saving and stopping", name, p.step)
    elif p.epoch >= t.epochs:
        logger.info("finished train.epochs=%d at step %d", t.epochs, p.step)
    else:
        logger.info("reached --max-steps %d", run.args.max_steps)
    _check_skips(run, skips)
    save(run)


def train_on_batch(run: Run, batch: "Batch") -> StepResult:
    """One training step of ``run`` on ``batch`` (skipped updates are counted by the caller's
    :class:`SkipTracker`); also the dry run's step."""
    inputs = dict(phone_ids=batch.phone_ids, tone_ids=batch.tone_ids, language_ids=batch.language_ids,
                  text_lengths=batch.text_lengths, text_features=batch.text_features, spec=posterior_input(batch.spec, run.config),
                  spec_lengths=batch.spec_lengths, speaker_ids=batch.speaker_ids)
    return train_step(run.networks.generator, run.networks.discriminators, run.optimizers, inputs, batch.wav,
                      run.config, run.progress.step, autocast_dtype=run.precision.dtype,
                      scaler=run.precision.scaler)


def _check_skips(run: Run, skips: SkipTracker) -> None:
    """Read the skip counters into the progress (checkpointed), warn about new skips (rank 0), and stop the
    run after ``train.max_consecutive_skips`` in a row (:meth:`SkipTracker.stop_if_stuck` raises)."""
    before, first = skips.reported, skips.reported_step + 1
    counts = skips.check(run.progress.step)
    p = run.progress
    p.skipped_steps, p.skipped_updates = counts.steps, counts.per_optimizer
    new = counts.since(before)
    if new and run.dist.is_main:
        where = f"step {p.step}" if first >= p.step else f"steps {first}-{p.step}"
        scaler = run.precision.scaler
        scale = f"; fp16 loss scale now {scaler.get_scale():g}" if scaler.is_enabled() else ""
        logger.warning("%s: skipped %s (non-finite gradients%s); %d steps with a skipped update so far", where,
                       ", ".join(f"{n} x{c}" for n, c in new.items()), scale, p.skipped_steps)
    skips.stop_if_stuck(counts)


def _evaluate(run: Run) -> dict[str, float]:
    """Validation losses and, when ``train.eval_utterances`` > 0, the speech evaluation (rank 0). Returns the
    scores by name (``val_mel_l1`` and the overall aggregates of :mod:`melo.eval`; empty on other ranks)."""
    scores: dict[str, float] = {}
    val_mel = evaluate(run)
    if val_mel is not None:
        scores["val_mel_l1"] = val_mel
    if run.speech_eval is not None:
        report = run.speech_eval(run.networks.raw_generator, run.progress.step, run.monitor, run.dist.device)
        scores.update(report.summary("model"))
    return scores


def _keep_best(run: Run, scores: dict[str, float]) -> None:
    """Write ``G_best.pth`` when this evaluation's ``train.best_metric`` beats every earlier one (rank 0)."""
    metric = run.config.train.best_metric
    if not run.dist.is_main or metric is None or metric not in scores:
        return
    value = scores[metric]
    if not score_is_better(metric, value, run.best_value):
        return
    step = run.progress.step
    ckpt.save_latest(run.ckpt_dir, step, _to_cpu(run.networks.raw_generator.state_dict()), run.config.to_dict(),
                     run.symbols, run.config.data.spk2id, name=ckpt.BEST_NAME,
                     best={"metric": metric, "value": value, "step": step})
    logger.info("step %d | best %s so far: %.4g (was %s): wrote %s", step, metric, value,
                "none" if run.best_value is None else f"{run.best_value:.4g}", run.ckpt_dir / ckpt.BEST_NAME)
    run.best_value = value


def save(run: Run) -> None:
    """Write the checkpoint set for the current step (rank 0), once per step; prune old ones."""
    p = run.progress
    if p.step == run.last_saved_step or p.step == 0:
        return
    rng = run.dist.gather_to_main(ckpt.capture_rng_state())
    if run.dist.is_main:
        assert rng is not None
        started = time.perf_counter()
        discs = run.networks.raw_discriminators
        disc_states = {"mpd": discs.mpd.state_dict()}
        if discs.duration is not None:
            disc_states["duration"] = discs.duration.state_dict()
        training = state.capture(p, run.optimizers.by_name(), run.schedulers, run.precision.scaler, rng,
                                 run.dist.world_size, run.config.train.seed).to_dict()
        # CPU copies: the files then load on any machine, with or without the GPU they came from
        generator_state, disc_states, training = _to_cpu((run.networks.raw_generator.state_dict(), disc_states,
                                                          training))
        ckpt.save_checkpoint_set(run.ckpt_dir, p.step, generator_state, disc_states, training)
        ckpt.save_latest(run.ckpt_dir, p.step, generator_state, run.config.to_dict(), run.symbols,
                         run.config.data.spk2id)
        removed = ckpt.prune_checkpoints(run.ckpt_dir, run.config.train.keep_ckpts)
        logger.info("saved checkpoint step %d in %s (%.1f s%s)", p.step, run.ckpt_dir,
                    time.perf_counter() - started, f", removed {len(removed)} old files" if removed else "")
    run.last_saved_step = p.step
    run.dist.barrier()


def cleanup(run: Run | None, dist_ctx: Distributed) -> None:
    if run is not None:
        run.monitor.close()
        if run.lock is not None:
            run.lock.release()
    dist_ctx.close()
    close_logging()


def _step_schedulers(run: Run) -> None:
    for scheduler in run.schedulers.values():
        scheduler.step()


def _reached_max(run: Run) -> bool:
    return run.args.max_steps is not None and run.progress.step >= run.args.max_steps


def _progress_bar(run: Run) -> Any:
    if not run.dist.is_main:
        return None
    from tqdm import tqdm

    return tqdm(total=run.args.max_steps, initial=run.progress.step, unit="step", dynamic_ncols=True,
                disable=not sys.stderr.isatty())


@contextlib.contextmanager
def _stop_on_signals(run: Run) -> Iterator[None]:
    """SIGTERM/SIGINT ask the loop to stop after the current step; it then saves and returns."""
    def handler(signum: int, _frame: Any) -> None:
        if not run.stop_signal:
            run.stop_signal.append(signum)
        else:  # a second signal: stop now
            raise KeyboardInterrupt

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _to_cpu(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj
