#!/usr/bin/env bash
# `make compare`: runs Awesomegrad's `bench` and the micrograd/PyTorch reference scripts in turns,
# workload by workload, then prints the table of the issue's targets (Benchmarks/compare.py).
#
#   bash Benchmarks/compare.sh [--rounds N] [--setup-only] [--hf-only]   (ROUNDS=N works too; default 3)
#
# --hf-only runs only the pretrained-transformer rows (GPT-2 124M generation against transformers, the
# peak memory of loading).
#
# Each round runs every workload once on each side, Swift and reference back to back, the side that
# goes first alternating from round to round, so that both see the same machine state. Every run sets
# its thread count explicitly: OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, MKL_NUM_THREADS and --threads.
#
# The references run in their own virtual environment, Benchmarks/reference/.venv, made from
# Benchmarks/reference/requirements.txt when it is missing (the first time downloads a few GB).
# Set REFERENCE_PYTHON to use another interpreter that already has micrograd, torch and numpy.
# Results go to .build/compare/results.jsonl and the table to .build/compare/table.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds="${ROUNDS:-3}"
setup_only=false
hf_only=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --setup-only) setup_only=true; shift ;;
    --hf-only) hf_only=true; shift ;;
    *) echo "usage: $0 [--rounds N] [--setup-only] [--hf-only]" >&2; exit 2 ;;
  esac
done
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "rounds must be a positive integer, got '$rounds'" >&2; exit 2; }

venv=Benchmarks/reference/.venv
requirements=Benchmarks/reference/requirements.txt

# Installs Debian packages, through sudo when not root.
apt_install() {
  local sudo=""
  if [[ "$(id -u)" -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "Need root or sudo to install: $*" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

# Makes the reference venv when it is missing; an existing one is used as it is, after installing what
# requirements.txt gained since it was made (threadpoolctl, safetensors, transformers, peft).
ensure_venv() {
  if [[ -x "$venv/bin/python" ]]; then
    "$venv/bin/python" -c "import threadpoolctl, safetensors, transformers, peft" 2>/dev/null && return
    echo "Updating $venv from $requirements ..."
    "$venv/bin/python" -m pip install --quiet -r "$requirements" && return
    echo "Could not install $requirements into $venv." >&2
    exit 1
  fi
  if ! command -v python3 >/dev/null || ! python3 -c "import ensurepip, venv" 2>/dev/null; then
    if [[ "$(uname -s)" == "Linux" ]] && command -v apt-get >/dev/null; then
      echo "Installing python3 and python3-venv ..."
      apt_install python3 python3-venv
    else
      echo "Python 3 with the venv module is needed for the reference benchmarks." >&2
      exit 1
    fi
  fi
  echo "Creating $venv from $requirements (micrograd, torch, numpy; the first time downloads a few GB) ..."
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  if ! "$venv/bin/python" -m pip install --quiet -r "$requirements"; then
    rm -rf "$venv"  # a half-made venv would be taken as ready next time
    echo "Could not install $requirements into $venv." >&2
    exit 1
  fi
}

if [[ -n "${REFERENCE_PYTHON:-}" ]]; then
  python="$REFERENCE_PYTHON"
else
  ensure_venv
  python="$venv/bin/python"
fi
$setup_only && exit 0

swift="${SWIFT:-swift}"
"$swift" build -c release --product bench
"$swift" build -c release --product hf-model
"$swift" build -c release --product pinn
bench="$("$swift" build -c release --show-bin-path)/bench"
pinn="$("$swift" build -c release --show-bin-path)/pinn"
hf_model="$("$swift" build -c release --show-bin-path)/hf-model"

out=.build/compare
mkdir -p "$out"
results="$out/results.jsonl"
: >"$results"

# Runs one side of a comparison with N threads and appends its JSON lines to the results.
run() {
  local threads="$1"
  shift
  echo "  OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads $* --threads $threads" >&2
  OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads" "$@" \
    --threads "$threads" >>"$results"
}

# Runs the Swift side and the reference side of one workload, in the given order, on THREADS threads
# (1 unless set).
pair() {
  local swift_first="$1" workload="$2" reference="$3" threads="${THREADS:-1}"
  if $swift_first; then
    run "$threads" "$bench" "$workload"
    run "$threads" "$python" "$reference" "$workload"
  else
    run "$threads" "$python" "$reference" "$workload"
    run "$threads" "$bench" "$workload"
  fi
}

# Generation with GPT-2 124M shapes and random weights: one folder, written by transformers, read by
# both sides; a 16-token prompt, 64 new tokens, greedy, each side timing 3 runs after a warm-up.
gpt2_dir="$out/gpt2-124m-random"
"$python" Benchmarks/reference/hf_bench.py make-model "$gpt2_dir"
hf_prompt=464,2068,7586,21831,18045,625,262,16931,3290,13,383,2068,318,257,1332,13
hf_pair() {
  local swift_first="$1" threads="$2"
  local swift_side=(env OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads" "$hf_model" generate
    --model "$gpt2_dir" --ids "$hf_prompt" --max-new-tokens 64 --greedy --ignore-eos --threads "$threads"
    --runs 3 --json)
  echo "  ${swift_side[*]}" >&2
  if $swift_first; then
    "${swift_side[@]}" | "$python" Benchmarks/reference/hf_bench.py wrap "$threads" >>"$results"
    run "$threads" "$python" Benchmarks/reference/hf_bench.py generate "$gpt2_dir"
  else
    run "$threads" "$python" Benchmarks/reference/hf_bench.py generate "$gpt2_dir"
    "${swift_side[@]}" | "$python" Benchmarks/reference/hf_bench.py wrap "$threads" >>"$results"
  fi
}

# The physics-informed Poisson example (3000 Adam steps, seed 0, 1 thread) and its PyTorch twin; the
# Swift side's `pinn --json` gets the workload and engine keys compare.py reads.
pinn_pair() {
  local swift_first="$1"
  local swift_side=(env OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$pinn" --steps 3000 --seed 0 --threads 1 --json)
  local wrap='import json, sys; d = json.load(sys.stdin); d.update(workload="pinn", engine="awesomegrad", threads=1, median_us=d["ms_per_step"] * 1000); print(json.dumps(d))'
  echo "  ${swift_side[*]}" >&2
  if $swift_first; then
    "${swift_side[@]}" | "$python" -c "$wrap" >>"$results"
    run 1 "$python" Benchmarks/reference/pinn_torch.py --steps 3000 --seed 0
  else
    run 1 "$python" Benchmarks/reference/pinn_torch.py --steps 3000 --seed 0
    "${swift_side[@]}" | "$python" -c "$wrap" >>"$results"
  fi
}

# COMPARE_WORKLOADS="charlm charlm-1024 attention-1024" limits a run to those PyTorch pairs (and skips
# the micrograd, 2-thread, DDP and soak rows); by default every row runs.
only="${COMPARE_WORKLOADS:-}"
for round in $(seq 1 "$rounds"); do
  echo "Round $round of $rounds" >&2
  swift_first=true
  (( round % 2 == 0 )) && swift_first=false
  if [[ -n "$only" ]]; then
    for workload in $only; do pair $swift_first "$workload" Benchmarks/reference/torch_bench.py; done
    continue
  fi
  if ! $hf_only; then
    pair $swift_first moons-value Benchmarks/reference/micrograd_bench.py
    for workload in moons-tensor mlp-784 gemm-1024 fashion-mlp-epoch charlm cnn-fashion charlm-1024 attention-1024; do
      pair $swift_first "$workload" Benchmarks/reference/torch_bench.py
    done
    # The same workloads on 2 threads, against PyTorch on 2 threads in the same round: each side's
    # speed-up over its own 1-thread run above, and the ratio between the sides at 2 threads.
    for workload in mlp-784 fashion-mlp-epoch cnn-fashion charlm; do
      THREADS=2 pair $swift_first "$workload" Benchmarks/reference/torch_bench.py
    done
    # numpy's own sgemm on 1 and 2 threads: the 2-thread scaling this machine gives a product right now,
    # the ceiling for mlp-784's.
    run 1 "$python" Benchmarks/reference/torch_bench.py numpy-gemm-1024
    run 2 "$python" Benchmarks/reference/torch_bench.py numpy-gemm-1024
    run 1 "$bench" ddp-fashion-epoch  # 2 MPI ranks of 1 thread against 1 process, both timed by bench
    run 1 "$bench" ddp-cnn            # the CNN the same way: 2 ranks of 32 against 1 process of 64
    pinn_pair $swift_first
  fi
  hf_pair $swift_first 1
  hf_pair $swift_first 2
  "$python" Benchmarks/reference/hf_bench.py bandwidth >>"$results"
  "$python" Benchmarks/reference/hf_bench.py tokenize Tests/AwesomegradModelsTests/Fixtures/hf/tokenizer/tokenizer.json \
    --hf-model "$hf_model" >>"$results"
  # The memory of loading alone: generate 0 tokens, peak RSS against the Float weights.
  "$hf_model" generate --model "$gpt2_dir" --ids "$hf_prompt" --max-new-tokens 0 --json \
    | "$python" Benchmarks/reference/hf_bench.py wrap 1 "$gpt2_dir" >>"$results"
done
echo "Load average after the rounds: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)" >&2
if ! $hf_only && [[ -z "$only" ]]; then
  echo "Soak" >&2
  run 1 "$bench" moons-tensor-soak --steps 10000
fi

command="${COMPARE_COMMAND:-bash Benchmarks/compare.sh --rounds $rounds}"
[[ -n "$only" ]] && command="COMPARE_WORKLOADS=\"$only\" $command"
"$python" Benchmarks/compare.py "$results" --command "$command" | tee "$out/table.txt"
