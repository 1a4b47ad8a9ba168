#!/usr/bin/env bash
# Quick start: install into .venv, then run the main job (training) on the built-in demo data.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install.sh
if ! command -v espeak-ng >/dev/null 2>&1; then
    echo "[quickstart] installing espeak-ng (builds the demo corpus)"
    if [ "$(id -u)" = 0 ]; then apt-get install -y -q espeak-ng >/dev/null; else sudo apt-get install -y -q espeak-ng >/dev/null; fi
fi
exec .venv/bin/python -m melo.demo "$@"
