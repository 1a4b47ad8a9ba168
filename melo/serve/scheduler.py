"""The synthesis scheduler: a bounded queue in front of the one model, served by one thread.

``TTS`` runs one synthesis at a time, so one worker thread owns it: it warms the model first
(``TTS.warmup()``; :attr:`SynthesisScheduler.state` is ``"warming up"`` until then), then serves jobs.

- Up to ``concurrency`` jobs are *active*. The worker synthesises one sentence of the first active job
  (``TTS.stream`` yields per sentence), hands the audio to the job's event loop, and moves the job to the
  back: active jobs share the model sentence by sentence, so a newly admitted request's first audio waits
  for at most one sentence of each other active request.
- Up to ``queue_size`` more jobs wait for a slot; beyond that :meth:`SynthesisScheduler.submit` raises
  :class:`ServerBusy` with a Retry-After estimate: the recent model seconds per job, about how often a
  place frees up.
- :meth:`SpeechJob.cancel` (client gone, timed out) stops a job between sentences: the sentence in
  progress finishes, no other one starts, and the job's slot is freed.
- ``TTS.stream`` says a text is done only when asked for a sentence after its last, so with several active
  jobs a request's end (its audio has all been sent) waits for one turn of the others' sentences. A job's
  slot is freed before its request hears the end, so a client that sends its next request at once finds room.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np

from melo.serve.errors import new_error_id
from melo.serve.metrics import ServeMetrics

__all__ = ["InternalFault", "NotReady", "ServerBusy", "SpeechInput", "SpeechJob", "SynthesisScheduler"]

logger = logging.getLogger(__name__)

STATES = ("starting", "warming up", "ready", "failed", "stopped")


class ServerBusy(Exception):
    """Every slot and queue place is taken; try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"the synthesis queue is full; retry after {retry_after} s")
        self.retry_after = retry_after


class NotReady(Exception):
    """The model is warming up, failed to warm up, or the server is stopping."""


class InternalFault(Exception):
    """Synthesis failed for a reason that is not the request's; the log has the traceback under ``error_id``."""

    def __init__(self, error_id: str) -> None:
        super().__init__(f"internal error {error_id}")
        self.error_id = error_id


@dataclass(frozen=True)
class SpeechInput:
    """What to say and how, already checked against the model (voice, language) and the limits."""

    text: str
    voice: int | str
    speed: float = 1.0
    language: str | None = None


_END = object()
_CANCELLED = object()


class SpeechJob:
    """One request's synthesis. The worker thread posts each sentence's audio to the request's event loop;
    the request awaits :meth:`next_chunk`. Counters are written by the worker and read after the end."""

    def __init__(self, spec: SpeechInput, loop: asyncio.AbstractEventLoop) -> None:
        self.spec = spec
        self.arrived = time.monotonic()
        self.first_audio_seconds: float | None = None
        self.model_seconds = 0.0
        self.samples = 0
        self.sentences = 0
        self._loop = loop
        self._items: asyncio.Queue[Any] = asyncio.Queue()
        self._cancelled = threading.Event()
        self._chunks: Generator[np.ndarray, None, None] | None = None

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        """Stop before the next sentence (from any thread; a finished job ignores it)."""
        self._cancelled.set()

    async def next_chunk(self) -> np.ndarray | None:
        """The next sentence's float32 audio; None after the last. Raises the synthesis error, if any
        (``SynthesisError`` for bad input, :class:`InternalFault`, :class:`NotReady`)."""
        item = await self._items.get()
        if item is _END:
            self._items.put_nowait(_END)  # later calls see the end too
            return None
        if isinstance(item, BaseException):
            raise item
        return item

    def _post(self, item: Any) -> None:
        try:
            self._loop.call_soon_threadsafe(self._items.put_nowait, item)
        except RuntimeError:  # the event loop is closed: nobody is listening any more
            self._cancelled.set()


class SynthesisScheduler:
    """Owns the ``TTS`` and its worker thread; see the module docstring."""

    def __init__(self, tts: Any, *, concurrency: int, queue_size: int, metrics: ServeMetrics) -> None:
        self._tts = tts
        self._concurrency, self._queue_size = concurrency, queue_size
        self._metrics = metrics
        self._cond = threading.Condition()
        self._waiting: deque[SpeechJob] = deque()  # guarded by _cond
        self._active: deque[SpeechJob] = deque()  # the worker's own; its length is mirrored in _active_count
        self._active_count = 0
        self._state = "starting"
        self._stopping = False
        self._recent_job_seconds: deque[float] = deque(maxlen=32)
        self._thread: threading.Thread | None = None
        metrics.bind(queue_depth=self.queue_depth, active=lambda: self._active_count,
                     ready=lambda: float(self._state == "ready"))

    # -- state ----------------------------------------------------------------------------------
    @property
    def state(self) -> str:
        """One of ``starting``, ``warming up``, ``ready``, ``failed``, ``stopped``."""
        return self._state

    def queue_depth(self) -> int:
        with self._cond:
            return sum(not job.cancelled for job in self._waiting)

    @property
    def active_count(self) -> int:
        return self._active_count

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="melo-synthesis", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the sentence in progress; jobs not finished get :class:`NotReady`."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._cond:
            self._state = "stopped"
            leftover = list(self._waiting) + list(self._active)
            self._waiting.clear()
        for job in leftover:
            job._post(NotReady("the server is shutting down"))

    # -- admission ------------------------------------------------------------------------------
    def submit(self, spec: SpeechInput, loop: asyncio.AbstractEventLoop) -> SpeechJob:
        """Queue ``spec``; raises :class:`NotReady` before warm-up ends and :class:`ServerBusy` when full."""
        with self._cond:
            if self._state != "ready" or self._stopping:
                state = "stopping" if self._stopping else self._state
                raise NotReady(f"the model is not ready ({state})")
            waiting = sum(not job.cancelled for job in self._waiting)
            if self._active_count + waiting >= self._concurrency + self._queue_size:
                raise ServerBusy(self._retry_after())
            job = SpeechJob(spec, loop)
            self._waiting.append(job)
            self._cond.notify()
        return job

    def _retry_after(self) -> int:
        recent = list(self._recent_job_seconds)
        return max(1, math.ceil(sum(recent) / len(recent))) if recent else 1

    # -- the worker thread ----------------------------------------------------------------------
    def _serve(self) -> None:
        self._state = "warming up"
        started = time.perf_counter()
        try:
            self._tts.warmup()
        except Exception:
            logger.exception("warm-up failed; the server will not take requests (GET /health says 'failed')")
            self._state = "failed"
            return
        logger.info("warm-up done in %.1f s; ready", time.perf_counter() - started)
        self._state = "ready"
        while True:
            with self._cond:
                self._promote()
                while not self._active and not self._stopping:
                    self._cond.wait()
                    self._promote()
                if self._stopping:
                    return
                job = self._active[0]
            last = self._step(job)
            with self._cond:
                if last is None:
                    self._active.rotate(-1)
                else:
                    self._active.popleft()
                    self._active_count -= 1
            if last is not None and last is not _CANCELLED:
                job._post(last)  # once the slot is free: a client that sends its next request at once finds room

    def _promote(self) -> None:
        """Waiting jobs take free slots in arrival order (under ``_cond``); cancelled ones are dropped."""
        while self._waiting and len(self._active) < self._concurrency:
            job = self._waiting.popleft()
            if not job.cancelled:
                self._active.append(job)
                self._active_count += 1

    def _step(self, job: SpeechJob) -> Any:
        """Synthesise ``job``'s next sentence and post its audio: None. When the job is over instead, what its
        request is told last: the end, the synthesis error, or nothing (``_CANCELLED``: nobody listens)."""
        from melo.api import SynthesisError

        if job.cancelled:
            if job._chunks is not None:
                job._chunks.close()
            logger.info("request stopped after %d sentence(s): cancelled", job.sentences)
            return _CANCELLED
        spec = job.spec
        t0 = time.perf_counter()
        try:
            if job._chunks is None:
                job._chunks = self._tts.stream(spec.text, speaker_id=spec.voice, language=spec.language,
                                               speed=spec.speed)
            audio = next(job._chunks)
        except StopIteration:
            self._finished(job)
            return _END
        except SynthesisError as e:
            return e
        except Exception:
            error_id = new_error_id()
            logger.exception("synthesis failed, error id %s (text of %d characters)", error_id, len(spec.text))
            return InternalFault(error_id)
        seconds = time.perf_counter() - t0
        sample_rate = self._tts.sample_rate
        job.model_seconds += seconds
        job.samples += audio.shape[0]
        job.sentences += 1
        if job.first_audio_seconds is None:
            job.first_audio_seconds = time.monotonic() - job.arrived
            self._metrics.time_to_first_audio.observe(job.first_audio_seconds)
        self._metrics.sentences.inc()
        self._metrics.synthesis_seconds.inc(seconds)
        self._metrics.audio_seconds.inc(audio.shape[0] / sample_rate)
        job._post(audio)
        return None

    def _finished(self, job: SpeechJob) -> None:
        self._recent_job_seconds.append(job.model_seconds)
        if job.samples:
            self._metrics.real_time_factor.observe(job.model_seconds / (job.samples / self._tts.sample_rate))
