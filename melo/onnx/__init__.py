"""Synthesis from an exported folder (``python -m melo.export``) with onnxruntime, numpy, ``tokenizers`` and the
text frontend only: importing it, and synthesising with it, imports no torch.

    from melo.onnx import OnnxTTS
    tts = OnnxTTS("exported/melo_bge_m3", threads=2)
    audio = tts.synthesize("안녕하세요. BGE-M3로 학습한 모델입니다.", speaker_id=0, output_path="test.wav")
"""

from melo.onnx.acoustic import NoiseSource, NumpyNoise, ReplayedNoise
from melo.onnx.manifest import Manifest, ManifestError, read_manifest
from melo.onnx.tts import PRECISIONS, OnnxTTS, SynthesisError, Timings

__all__ = ["PRECISIONS", "Manifest", "ManifestError", "NoiseSource", "NumpyNoise", "OnnxTTS", "ReplayedNoise", "SynthesisError",
           "Timings", "read_manifest"]
