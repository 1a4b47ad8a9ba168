"""The optional evaluation extra: finding its packages and their bundled models, with one clear error.

The model-based metrics need packages outside the core install (``requirements-eval.txt``): pocketsphinx
(English recogniser), onnxruntime + speechmos (DNSMOS models) and resemblyzer (speaker encoder weights;
installed with ``--no-deps``, since only its weight file is read). Every model ships inside its wheel, so
nothing is downloaded. Importing this module imports none of them.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from types import ModuleType

__all__ = ["INSTALL_HINT", "REQUIREMENTS", "MissingExtraError", "check_extras", "import_extra", "package_file"]

INSTALL_HINT = (
    "install the evaluation extra: pip install -r requirements-eval.txt (or pip install '.[eval]'), "
    "then pip install --no-deps resemblyzer==0.1.4 (scripts/install_eval.sh does both)"
)

REQUIREMENTS: dict[str, tuple[str, ...]] = {
    "asr": ("pocketsphinx",),  # the recogniser and its US-English model
    "speaker": ("resemblyzer",),  # the speaker encoder's weights
    "dnsmos": ("onnxruntime", "speechmos"),  # the runtime and the DNSMOS models
}
"""The packages each model-based metric needs (import names)."""


class MissingExtraError(RuntimeError):
    """A metric needs a package of the evaluation extra that is not installed."""


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # ValueError: a module whose import was blocked (sys.modules[name] = None)
        return False


def _missing(name: str, metric: str) -> MissingExtraError:
    return MissingExtraError(f"metric '{metric}' needs the Python package '{name}', which is not installed; {INSTALL_HINT}")


def import_extra(name: str, metric: str) -> ModuleType:
    """Import ``name`` (a package of the extra) or raise :class:`MissingExtraError` naming the install command."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise _missing(name, metric) from None


def package_file(package: str, relative: str, metric: str) -> Path:
    """A data file inside an installed package, found without importing the package (resemblyzer's
    ``__init__`` imports librosa and webrtcvad, which melo does not need)."""
    spec = None
    if _installed(package):
        spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise _missing(package, metric)
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise MissingExtraError(f"metric '{metric}': {path} is missing from the installed '{package}'; reinstall it ({INSTALL_HINT})")
    return path


def check_extras(metrics: tuple[str, ...] = tuple(REQUIREMENTS)) -> None:
    """Raise :class:`MissingExtraError` for the first package that ``metrics`` need and that is missing."""
    for metric in metrics:
        for name in REQUIREMENTS.get(metric, ()):
            if not _installed(name):
                raise _missing(name, metric)
