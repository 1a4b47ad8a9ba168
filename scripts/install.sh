#!/usr/bin/env bash
# Creates .venv in the repository root and installs everything melo-bge-m3 needs.
# Usage: scripts/install.sh            (pip; uses pip's own configuration)
#        MELO_USE_UV=1 scripts/install.sh   (uv; pip's find-links are passed on)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "[install] creating .venv with $($PYTHON --version)"
    "$PYTHON" -m venv .venv
fi
if [ "${MELO_USE_UV:-0}" = "1" ] && command -v uv >/dev/null 2>&1; then
    # uv ignores pip's configuration: hand it the local wheel folder that holds the CPU torch build.
    export UV_FIND_LINKS="${UV_FIND_LINKS:-${PIP_FIND_LINKS:-}}"
    VIRTUAL_ENV="$PWD/.venv" uv pip install -r requirements.txt
else
    .venv/bin/python -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
    .venv/bin/python -m pip install --quiet -r requirements.txt
fi
.venv/bin/python -c "import melo, torch; print(f'[install] melo {melo.__version__} with torch {torch.__version__} is ready in .venv')"
