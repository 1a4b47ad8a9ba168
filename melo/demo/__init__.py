"""Demo material: a synthetic espeak-ng corpus (``python -m melo.demo.corpus OUT_DIR``)."""
