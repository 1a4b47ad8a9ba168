"""Shared fixtures. Tests never reach the network: the Hugging Face hub is offline for every test."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny random XLM-RoBERTa smoke-test stand-in for bge-m3 (NOT bge-m3), built once per session."""
    from melo.testing.tiny_encoder import build_tiny_encoder

    return build_tiny_encoder(tmp_path_factory.mktemp("tiny_encoder"))
