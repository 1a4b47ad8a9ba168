"""scripts/gpu_check.sh without a GPU: it stops at once, saying why and what to run instead. (Its steps run on
a CUDA machine; ``--cpu-dry-run`` runs them on CPU, minutes long, so outside the suite.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_gpu_check_fails_loudly_without_a_cuda_device(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHON": sys.executable, "CUDA_VISIBLE_DEVICES": "", "GPU_CHECK_DIR": str(tmp_path)}
    proc = subprocess.run([str(REPO / "scripts" / "gpu_check.sh")], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "gpu_check: FAIL: no CUDA device. torch.cuda.is_available() is False" in proc.stderr
    assert "nothing was run" in proc.stderr and "--cpu-dry-run" in proc.stderr
    assert list(tmp_path.iterdir()) == []  # it stopped before doing anything
