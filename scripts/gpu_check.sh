#!/usr/bin/env bash
# One check that training and synthesis work on a CUDA machine; prints a verdict per step and overall.
#
#   scripts/gpu_check.sh                # on a CUDA machine: exit 0 when every check passed, 1 otherwise,
#                                       # 3 (at once) when torch sees no CUDA GPU
#   scripts/gpu_check.sh --cpu-dry-run  # the same steps and entry points on CPU (fp32, gloo): checks the script
#
# Steps:
#   1. pytest --cuda -m cuda: the training step in fp16 and bf16 under CUDA's sync debug mode (no host
#      synchronisation), the alignment search on the GPU against the CPU, native-bf16 detection.
#      (CPU dry run: their CPU counterparts, tests/test_train_syncs.py, test_train_skips.py, test_precision.py.)
#   2. a workspace: the espeak-ng demo corpus (2 speakers), the tiny stand-in encoder, configs/tiny.json
#      pointed at them, preprocessed (python -m melo.preprocess).
#   3. python -m melo.train --dry-run: one step on each of the heaviest batches, peak memory.
#   4. fp16: torchrun, one process per GPU up to 2 (NCCL; one GPU: one process, DDP not exercised), 4 steps with
#      2 DataLoader workers, then --resume to step 6.
#   5. bf16: the same with bf16_run on a GPU that computes bf16 natively; on an older GPU, bf16_run must be
#      refused with a clear error.
#   6. inference: python -m melo.infer on the fp16 run's G_latest.pth on the GPU.
#   7. benchmarks/bench_mas.py --device cuda: the alignment search's GPU numbers (written to the work folder).
#
# Environment: PYTHON (default .venv/bin/python), TORCHRUN (default torchrun beside PYTHON), GPU_CHECK_DIR (the
# work folder; default a new temporary folder, removed when every check passed).
set -uo pipefail
cd "$(dirname "$0")/.."

MODE=cuda
case "${1:-}" in
    "") ;;
    --cpu-dry-run) MODE=cpu ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "gpu_check: unknown option '$1' (use --cpu-dry-run or nothing)" >&2; exit 2 ;;
esac

PYTHON=${PYTHON:-.venv/bin/python}
TORCHRUN=${TORCHRUN:-$(dirname "$PYTHON")/torchrun}
for tool in "$PYTHON" "$TORCHRUN"; do
    if [ ! -x "$tool" ]; then
        echo "gpu_check: FAIL: $tool not found (run scripts/install.sh, or set PYTHON/TORCHRUN)" >&2
        exit 2
    fi
done
if ! command -v espeak-ng >/dev/null 2>&1; then
    echo "gpu_check: FAIL: espeak-ng not found (the demo corpus needs it: apt-get install espeak-ng)" >&2
    exit 2
fi

GPUS=0
if [ "$MODE" = cuda ]; then
    GPUS=$("$PYTHON" -c "import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)")
    if [ "$GPUS" = 0 ]; then
        "$PYTHON" - >&2 <<'EOF'
import torch
print("gpu_check: FAIL: no CUDA device. torch.cuda.is_available() is False "
      f"(torch {torch.__version__}, {'built for CUDA ' + torch.version.cuda if torch.version.cuda else 'a CPU-only build'}).")
print("gpu_check: this script checks training and synthesis on a CUDA GPU; nothing was run. "
      "scripts/gpu_check.sh --cpu-dry-run runs the same steps on CPU.")
EOF
        exit 3
    fi
fi

WORK=${GPU_CHECK_DIR:-$(mktemp -d -t melo-gpu-check-XXXXXX)}
mkdir -p "$WORK"
export HF_HUB_OFFLINE=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if [ "$MODE" = cuda ]; then
    DEVICE=cuda
    NPROC=$(( GPUS >= 2 ? 2 : 1 ))
    DESCRIBE=$("$PYTHON" -c "import torch; print(f'{torch.cuda.get_device_name(0)} x{torch.cuda.device_count()}, torch {torch.__version__}, CUDA {torch.version.cuda}')")
else
    DEVICE=cpu
    NPROC=2
    DESCRIBE=$("$PYTHON" -c "import torch; print(f'CPU dry run, torch {torch.__version__}')")
fi
echo "gpu_check: $DESCRIBE; work folder $WORK"

NAMES=()
RESULTS=()
NOTES=()
record() {  # record NAME STATUS NOTE
    NAMES+=("$1"); RESULTS+=("$2"); NOTES+=("$3")
    printf 'gpu_check: %-4s %s  %s\n' "$2" "$1" "$3"
}
run_step() {  # run_step NAME LOG COMMAND...: PASS when the command exits 0
    local name=$1 log=$2
    shift 2
    if "$@" >"$log" 2>&1; then
        record "$name" PASS "log: $log"
    else
        record "$name" FAIL "exit $?; log: $log"
        tail -n 25 "$log" | sed 's/^/    | /'
    fi
}
free_port() { "$PYTHON" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"; }
train() {  # train CONFIG NAME [ARGS...]
    local config=$1 name=$2
    shift 2
    "$TORCHRUN" --nproc_per_node="$NPROC" --master_port="$(free_port)" -m melo.train --config "$config" \
        --model "$name" --device "$DEVICE" --workers 2 --checkpoints-dir "$WORK/checkpoints" \
        --logs-dir "$WORK/logs" "$@"
}
train_and_resume() {  # train_and_resume CONFIG NAME: 4 steps, then --resume to 6; the checkpoints must show it
    train "$1" "$2" --max-steps 4 && train "$1" "$2" --max-steps 6 --resume \
        && "$PYTHON" -c "
import sys
from melo.checkpoint import complete_steps
steps = complete_steps('$WORK/checkpoints/$2')
print('complete checkpoint steps:', steps)
sys.exit(0 if steps[-1] == 6 else 1)"
}

# 1. the tests that need the device
if [ "$MODE" = cuda ]; then
    run_step "cuda tests" "$WORK/1_tests.log" "$PYTHON" -m pytest -q --cuda -m cuda tests/test_cuda.py
else
    run_step "cpu counterparts of the cuda tests" "$WORK/1_tests.log" "$PYTHON" -m pytest -q \
        tests/test_train_syncs.py tests/test_train_skips.py tests/test_precision.py
fi

# 2. a workspace
CONFIG="$WORK/tiny.json"
run_step "workspace (demo corpus, tiny encoder, preprocessing)" "$WORK/2_workspace.log" "$PYTHON" - "$WORK" <<'EOF'
import json
import subprocess
import sys
from pathlib import Path

from melo.demo.corpus import build_corpus
from melo.testing.tiny_encoder import build_tiny_encoder

work = Path(sys.argv[1])
build_corpus(work / "corpus", speakers=2, seed=0)
encoder = build_tiny_encoder(work / "tiny_encoder")
raw = json.loads(Path("configs/tiny.json").read_text(encoding="utf-8"))
raw["data"].update(training_files=str(work / "corpus" / "train_list.txt"),
                   validation_files=str(work / "corpus" / "val_list.txt"), bert_model=str(encoder))
raw["train"].update(log_interval=1, eval_interval=2, keep_ckpts=0, max_frames_per_batch=1100)
for precision in ("fp16", "bf16"):
    variant = {**raw, "train": {**raw["train"], f"{precision}_run": True}}
    (work / f"{precision}.json").write_text(json.dumps(variant, indent=2), encoding="utf-8")
(work / "tiny.json").write_text(json.dumps(raw, indent=2), encoding="utf-8")
subprocess.run([sys.executable, "-m", "melo.preprocess", "--config", str(work / "tiny.json")], check=True)
EOF

# 3. the dry run
run_step "dry run (peak memory of the heaviest batches)" "$WORK/3_dry_run.log" "$PYTHON" -m melo.train \
    --config "$WORK/fp16.json" --model dry --device "$DEVICE" --checkpoints-dir "$WORK/checkpoints" \
    --logs-dir "$WORK/logs" --dry-run

# 4. fp16 training with resume
run_step "fp16 torchrun x$NPROC, 4 steps + resume to 6" "$WORK/4_fp16.log" train_and_resume "$WORK/fp16.json" fp16

# 5. bf16 training with resume, or its refusal on a GPU without native bf16
NATIVE_BF16=1
if [ "$MODE" = cuda ]; then
    NATIVE_BF16=$("$PYTHON" -c "from melo.precision import cuda_has_native_bf16; print(int(cuda_has_native_bf16('cuda:0')))")
fi
if [ "$NATIVE_BF16" = 1 ]; then
    run_step "bf16 torchrun x$NPROC, 4 steps + resume to 6" "$WORK/5_bf16.log" train_and_resume "$WORK/bf16.json" bf16
else
    refused() {
        "$PYTHON" -m melo.train --config "$WORK/bf16.json" --model bf16 --device cuda --max-steps 1 \
            --checkpoints-dir "$WORK/checkpoints" --logs-dir "$WORK/logs" >"$WORK/5_bf16_run.log" 2>&1
        local status=$?
        cat "$WORK/5_bf16_run.log"
        [ "$status" = 2 ] && grep -q "has no native bf16" "$WORK/5_bf16_run.log"
    }
    run_step "bf16_run refused on a GPU without native bf16" "$WORK/5_bf16.log" refused
fi

# 6. inference on the device
run_step "inference (python -m melo.infer --device $DEVICE)" "$WORK/6_infer.log" "$PYTHON" -m melo.infer \
    --model "$WORK/checkpoints/fp16/G_latest.pth" --text "안녕하세요. This is a GPU check." \
    --device "$DEVICE" --seed 0 --output "$WORK/sample.wav"
if [ ! -s "$WORK/sample.wav" ]; then
    record "inference wrote a WAV" FAIL "$WORK/sample.wav is missing or empty"
fi

# 7. the alignment search's numbers on the device
run_step "MAS benchmark on $DEVICE" "$WORK/7_bench_mas.log" "$PYTHON" benchmarks/bench_mas.py --device "$DEVICE" \
    --repeats 3 --out "$WORK/model_mas_$DEVICE.md"

failed=0
echo
echo "gpu_check verdict ($DESCRIBE):"
for i in "${!NAMES[@]}"; do
    printf '  %-4s %s\n' "${RESULTS[$i]}" "${NAMES[$i]}"
    [ "${RESULTS[$i]}" = PASS ] || failed=$((failed + 1))
done
if [ "$failed" = 0 ]; then
    note=""
    [ "$MODE" = cpu ] && note="; a CPU dry run: no GPU was used"
    echo "VERDICT: PASS (${#NAMES[@]} checks$note)"
    [ -z "${GPU_CHECK_DIR:-}" ] && rm -rf "$WORK"
    exit 0
fi
echo "VERDICT: FAIL ($failed of ${#NAMES[@]} checks failed; logs in $WORK)"
exit 1
