#!/usr/bin/env bash
# Train melo-bge-m3.
#
#   ./train.sh                                  # one GPU (or CPU when none)
#   NUM_GPUS=4 CUDA_VISIBLE_DEVICES=0,1,2,3 ./train.sh
#   ./train.sh --resume                         # extra arguments go to `python -m melo.train`
#   CONFIG=configs/tiny.json MODEL_NAME=tiny ./train.sh --max-steps 100
#
# NUM_GPUS=1 runs `python -m melo.train`; NUM_GPUS>1 runs it under
# `torchrun --nproc_per_node=$NUM_GPUS --master_port=${MASTER_PORT:-29500}`.
# The trainer itself writes logs/train_${MODEL_NAME}_<timestamp>.log (follow it with
# `tail -f logs/train_melo_bge_m3_*.log`) and TensorBoard events to logs/${MODEL_NAME}.
# The script runs training once and exits with the trainer's exit status (no restart loop).
set -euo pipefail
cd "$(dirname "$0")"

NUM_GPUS="${NUM_GPUS:-1}"
CONFIG="${CONFIG:-configs/config_bge_m3.json}"
MODEL_NAME="${MODEL_NAME:-melo_bge_m3}"
MASTER_PORT="${MASTER_PORT:-29500}"

if ! [[ "$NUM_GPUS" =~ ^[1-9][0-9]*$ ]]; then
    echo "train.sh: NUM_GPUS must be a positive integer, got '$NUM_GPUS'" >&2
    exit 2
fi

# Interpreter and launcher: $PYTHON / $TORCHRUN when set, else the project's .venv, else PATH.
if [ -z "${PYTHON:-}" ]; then
    if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python; fi
fi
if [ -z "${TORCHRUN:-}" ]; then
    if [ -x .venv/bin/torchrun ]; then TORCHRUN=.venv/bin/torchrun; else TORCHRUN=torchrun; fi
fi

if [ -n "${CUDA_VISIBLE_DEVICES+x}" ]; then
    echo "train.sh: CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES" >&2
fi

if [ "$NUM_GPUS" -eq 1 ]; then
    cmd=("$PYTHON" -m melo.train --config "$CONFIG" --model "$MODEL_NAME" "$@")
else
    cmd=("$TORCHRUN" --nproc_per_node="$NUM_GPUS" --master_port="$MASTER_PORT"
         -m melo.train --config "$CONFIG" --model "$MODEL_NAME" "$@")
fi
echo "train.sh: ${cmd[*]}" >&2
exec "${cmd[@]}"
