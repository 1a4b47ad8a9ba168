"""Data layer: filelist validation -> preprocessing caches -> dataset (reads caches only) -> bucket sampler.

Importing this package is cheap; submodules load torch/audio/text backends on use.
"""
