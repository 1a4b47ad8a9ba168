"""melo-bge-m3: multilingual multi-speaker TTS (KR/EN/ZH/JP) on MeloTTS's VITS2 with one bge-m3 encoder.

Importing ``melo`` loads nothing heavy: no torch model, no tokenizer, no language backend.
"""

import os as _os

__version__ = "0.1.0"

# oneDNN (PyTorch's CPU convolutions) keeps the kernels it compiled for each input shape in an LRU cache of
# 1024 entries by default. Synthesis compiles ~150 per sentence length (decoder, flow, encoder), so a few
# sentences evict each other and every sentence pays ~0.1-0.2 s to compile again (measured on 2 cores; see
# benchmarks/results/e2e_infer.md). oneDNN reads this when it creates its first kernel; a value the user
# set is kept.
_os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "16384")
