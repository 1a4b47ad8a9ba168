#!/usr/bin/env bash
# Installs the evaluation extra (python -m melo.eval's model-based metrics) into .venv; wheels only.
# Usage: scripts/install_eval.sh            (after scripts/install.sh)
#        MELO_USE_UV=1 scripts/install_eval.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RESEMBLYZER="resemblyzer==0.1.4"   # --no-deps: melo.eval reads its weights only (see requirements-eval.txt)
if [ "${MELO_USE_UV:-0}" = "1" ] && command -v uv >/dev/null 2>&1; then
    VIRTUAL_ENV="$PWD/.venv" uv pip install -r requirements-eval.txt
    VIRTUAL_ENV="$PWD/.venv" uv pip install --no-deps "$RESEMBLYZER"
else
    .venv/bin/python -m pip install --quiet -r requirements-eval.txt
    .venv/bin/python -m pip install --quiet --no-deps "$RESEMBLYZER"
fi
.venv/bin/python -c "from melo.eval.extras import check_extras; check_extras(); print('[install] evaluation extra is ready in .venv')"
