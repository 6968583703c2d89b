#!/usr/bin/env bash
# `make compare`: runs Awesomegrad's `bench` and the micrograd/PyTorch reference scripts in turns,
# one workload at a time and one thread each, then prints the table of ratios (Benchmarks/compare.py).
#
#   bash Benchmarks/compare.sh [--rounds N] [--setup-only]
#
# The references run in their own virtual environment, Benchmarks/reference/.venv, made from
# Benchmarks/reference/requirements.txt the first time (and again when that file changes).
# Set REFERENCE_PYTHON to use another interpreter that already has micrograd and torch.
# Results go to .build/compare/results.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=2
setup_only=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --setup-only) setup_only=true; shift ;;
    *) echo "usage: $0 [--rounds N] [--setup-only]" >&2; exit 2 ;;
  esac
done

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

# Makes the reference venv when it is missing or was made from another requirements.txt.
ensure_venv() {
  local want
  want="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [[ -x "$venv/bin/python" && "$(cat "$venv/.requirements.sha256" 2>/dev/null)" == "$want" ]]; then
    return
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
  echo "Creating $venv (micrograd, torch; the first time downloads a few GB) ..."
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -r "$requirements"
  echo "$want" >"$venv/.requirements.sha256"
}

if [[ -n "${REFERENCE_PYTHON:-}" ]]; then
  python="$REFERENCE_PYTHON"
else
  ensure_venv
  python="$venv/bin/python"
fi
$setup_only && exit 0

swift build -c release --product bench
bench="$(swift build -c release --show-bin-path)/bench"

out=.build/compare
mkdir -p "$out"
results="$out/results.jsonl"
: >"$results"

# Runs one side of a comparison with N BLAS threads and appends its JSON lines to the results.
run() {
  local threads="$1"
  shift
  echo "  $*" >&2
  OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads" "$@" \
    --threads "$threads" | tee -a "$results"
}

for round in $(seq 1 "$rounds"); do
  echo "Round $round of $rounds" >&2
  # Swift and reference take turns workload by workload, so that both see the same machine state.
  run 1 "$bench" moons-value --steps 20
  run 1 "$python" Benchmarks/reference/micrograd_bench.py moons-value --steps 5
  for workload in moons-tensor mlp-784 gemm-1024 fashion-mlp-epoch; do
    run 1 "$bench" "$workload"
    run 1 "$python" Benchmarks/reference/torch_bench.py "$workload"
  done
  run 2 "$bench" mlp-784
done
run 1 "$bench" moons-tensor-soak --steps 10000

"$python" Benchmarks/compare.py "$results"
