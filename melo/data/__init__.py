"""Data layer: filelist validation -> preprocessing caches -> dataset (reads caches only) -> bucket sampler.

Importing this package is cheap; submodules load torch/audio/text backends on use.
"""

__all__ = ["DataError"]


class DataError(RuntimeError):
    """Preprocessing cannot produce usable data (too many speakers, ``--strict`` with bad rows, ...)."""
