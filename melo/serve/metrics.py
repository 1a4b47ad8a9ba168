"""Prometheus-style metrics in the text exposition format (version 0.0.4), without a client library.

Counters, gauges and histograms with fixed label names; every update takes one lock, so the synthesis
thread and the event loop can both write. :class:`ServeMetrics` names what the server measures.
"""

from __future__ import annotations

import abc
import bisect
import math
import threading
from collections.abc import Callable

__all__ = ["Counter", "Gauge", "Histogram", "ServeMetrics"]

_LabelValues = tuple[str, ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: tuple[str, ...], values: _LabelValues, extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values)] + ([extra] if extra else [])
    return "{" + ",".join(parts) + "}" if parts else ""


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class _Metric(abc.ABC):
    kind = ""

    def __init__(self, name: str, help_text: str, labels: tuple[str, ...] = ()) -> None:
        self.name, self.help_text, self.label_names = name, help_text, labels
        self._lock = threading.Lock()

    def _key(self, labels: dict[str, str]) -> _LabelValues:
        if set(labels) != set(self.label_names):
            raise ValueError(f"{self.name} takes labels {self.label_names}, got {tuple(labels)}")
        return tuple(str(labels[n]) for n in self.label_names)

    def render(self) -> list[str]:
        return [f"# HELP {self.name} {self.help_text}", f"# TYPE {self.name} {self.kind}", *self._samples()]

    @abc.abstractmethod
    def _samples(self) -> list[str]:
        """The sample lines, without HELP and TYPE."""


class Counter(_Metric):
    kind = "counter"

    def __init__(self, name: str, help_text: str, labels: tuple[str, ...] = ()) -> None:
        super().__init__(name, help_text, labels)
        self._values: dict[_LabelValues, float] = {} if labels else {(): 0.0}

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        with self._lock:
            return self._values.get(self._key(labels), 0.0)

    def _samples(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return [f"{self.name}{_labels(self.label_names, k)} {_number(v)}" for k, v in items]


class Gauge(_Metric):
    """A value read when the metrics are rendered (``read``), or set."""

    kind = "gauge"

    def __init__(self, name: str, help_text: str, read: Callable[[], float] | None = None) -> None:
        super().__init__(name, help_text)
        self._read, self._value = read, 0.0

    def read_from(self, read: Callable[[], float]) -> None:
        self._read = read

    def set(self, value: float) -> None:
        with self._lock:
            self._value = value

    def value(self) -> float:
        if self._read is not None:
            return float(self._read())
        with self._lock:
            return self._value

    def _samples(self) -> list[str]:
        return [f"{self.name} {_number(self.value())}"]


class Histogram(_Metric):
    kind = "histogram"

    def __init__(self, name: str, help_text: str, buckets: tuple[float, ...]) -> None:
        super().__init__(name, help_text)
        self.buckets = tuple(sorted(buckets))
        self._counts = [0] * (len(self.buckets) + 1)  # the last one is +Inf
        self._sum = 0.0

    def observe(self, value: float) -> None:
        with self._lock:
            self._counts[bisect.bisect_left(self.buckets, value)] += 1
            self._sum += value

    @property
    def count(self) -> int:
        with self._lock:
            return sum(self._counts)

    def _samples(self) -> list[str]:
        with self._lock:
            counts, total = list(self._counts), self._sum
        lines, running = [], 0
        for bound, n in zip((*self.buckets, math.inf), counts):
            running += n
            lines.append(f'{self.name}_bucket{{le="{_number(bound)}"}} {running}')
        return lines + [f"{self.name}_sum {_number(total)}", f"{self.name}_count {running}"]


class ServeMetrics:
    """Everything ``GET /metrics`` reports. The gauges read the scheduler when rendered (see ``bind``)."""

    def __init__(self) -> None:
        self.requests = Counter("melo_http_requests_total", "HTTP requests answered, by route and status code.",
                                ("route", "code"))
        self.errors = Counter("melo_errors_total",
                              "Requests answered with an error or cut short, by reason (invalid_request, "
                              "unauthorized, queue_full, timeout, client_disconnected, not_ready, internal).",
                              ("reason",))
        self.sentences = Counter("melo_sentences_synthesized_total", "Sentences synthesised.")
        self.audio_seconds = Counter("melo_audio_seconds_total", "Seconds of audio synthesised.")
        self.synthesis_seconds = Counter("melo_synthesis_seconds_total", "Seconds the model spent synthesising.")
        self.time_to_first_audio = Histogram(
            "melo_time_to_first_audio_seconds", "From a speech request's arrival to its first sentence's audio.",
            (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
        self.real_time_factor = Histogram(
            "melo_real_time_factor", "Per finished request: model seconds / audio seconds.",
            (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0))
        self.queue_depth = Gauge("melo_queue_depth", "Speech requests waiting for a synthesis slot.")
        self.active = Gauge("melo_active_requests", "Speech requests being synthesised.")
        self.ready = Gauge("melo_ready", "1 once warm-up has finished and the server takes requests.")

    def bind(self, queue_depth: Callable[[], float], active: Callable[[], float], ready: Callable[[], float]) -> None:
        self.queue_depth.read_from(queue_depth)
        self.active.read_from(active)
        self.ready.read_from(ready)

    def render(self) -> str:
        metrics: list[_Metric] = [self.requests, self.errors, self.sentences, self.audio_seconds,
                                  self.synthesis_seconds, self.time_to_first_audio, self.real_time_factor,
                                  self.queue_depth, self.active, self.ready]
        return "\n".join(line for m in metrics for line in m.render()) + "\n"
