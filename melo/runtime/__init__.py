"""The inference runtime: a trained generator made fast, without changing what it computes.

It depends on :mod:`melo.model`; the model knows nothing of it. :class:`~melo.runtime.engine.InferenceEngine`
is what :class:`melo.api.TTS` holds: the model with weight norm folded, one :class:`~melo.runtime.precision.
PrecisionPolicy` resolved once, and on CPU the fast runners -- the packed decoder (``packed_decoder``, built on
``packed_conv``), the packed flow and text encoder (``packed_flow``), checked TorchScript traces (``tracing``)
-- with length buckets and warm-up. ``cpu`` probes what this CPU and PyTorch build can run.

Importing this package sets oneDNN's kernel-cache capacity (below), so import it before the first CPU kernel
of a process is made (``melo.api`` and ``melo.features`` do).
"""

import os as _os

# oneDNN (PyTorch's CPU convolutions) keeps the kernels it compiled for each input shape in an LRU cache of
# 1024 entries by default. The tiled CPU decoder keeps ~600 (every convolution at each tile width), and the
# flow and text encoders add a few dozen per new sentence length; with the default, those would soon evict
# the decoder's and every sentence would pay ~0.1 s to compile them again (measured on 2 cores). oneDNN reads
# this when it creates its first kernel; a value the user set is kept.
_os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "16384")
