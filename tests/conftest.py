"""Shared fixtures. Tests never reach the network: the Hugging Face hub is offline for every test."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny random XLM-RoBERTa smoke-test stand-in for bge-m3 (NOT bge-m3), built once per session."""
    from melo.testing.tiny_encoder import build_tiny_encoder

    return build_tiny_encoder(tmp_path_factory.mktemp("tiny_encoder"))


@pytest.fixture(scope="session")
def demo_corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The espeak-ng demo corpus (4 speakers, seed 0), built once per test session. Treat as read-only."""
    from melo.demo.corpus import build_corpus

    out = tmp_path_factory.mktemp("demo_corpus")
    build_corpus(out, speakers=4, seed=0)
    return out


@pytest.fixture()
def one_thread():
    """One torch thread: tiny ops are faster single-threaded and the timing of a shared machine matters less.
    Use with ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--cuda", action="store_true",
                     help="also run the tests marked cuda (they need a CUDA GPU; scripts/gpu_check.sh passes this)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``cuda`` need a GPU: they are deselected (listed as such) unless ``--cuda`` is given."""
    if config.getoption("--cuda"):
        return
    gpu_only = [item for item in items if item.get_closest_marker("cuda")]
    if gpu_only:
        config.hook.pytest_deselected(items=gpu_only)
        items[:] = [item for item in items if not item.get_closest_marker("cuda")]
