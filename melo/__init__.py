"""melo-bge-m3: multilingual multi-speaker TTS (KR/EN/ZH/JP) on MeloTTS's VITS2 with one bge-m3 encoder.

Importing ``melo`` loads nothing heavy: no torch model, no tokenizer, no language backend.
"""

__version__ = "0.1.0"
