"""melo-bge-m3: multilingual multi-speaker TTS (KR/EN/ZH/JP) on MeloTTS's VITS2 with one bge-m3 encoder.

Importing ``melo`` loads nothing heavy: no torch model, no tokenizer, no language backend.
"""

import os as _os

__version__ = "0.1.0"

# oneDNN (PyTorch's CPU convolutions) keeps the kernels it compiled for each input shape in an LRU cache of
# 1024 entries by default. The tiled CPU decoder keeps ~600 (every convolution at each tile width), and the
# flow and text encoders add a few dozen per new sentence length; with the default, those would soon evict
# the decoder's and every sentence would pay ~0.1 s to compile them again (measured on 2 cores). oneDNN reads
# this when it creates its first kernel; a value the user set is kept.
_os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "16384")
