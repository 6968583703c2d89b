# Awesomegrad: the commands the README and CI use. Each target installs what it needs first.
SWIFT ?= swift
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: demo test deps fashion bench compare format interop fuzz

## Train micrograd's moons demo (release build).
demo: deps
	$(SWIFT) run -c release moons

## Run the test suite (Swift Testing).
test: deps
	$(SWIFT) test

deps:
	@bash scripts/install-deps

## Train the Fashion-MNIST MLP for one epoch.
fashion:
	@bash scripts/install-deps --fashion-mnist
	$(SWIFT) run -c release fashion-mnist --epochs 1

## Run the Swift benchmarks (one JSON object per line).
bench: deps
	$(SWIFT) run -c release bench --all

## Run the Swift benchmarks and the micrograd/PyTorch references in turns (ROUNDS rounds, default 3)
## and print the table of the issue's targets.
ROUNDS ?= 3
compare: deps
	@SWIFT="$(SWIFT)" COMPARE_COMMAND="make compare ROUNDS=$(ROUNDS)" bash Benchmarks/compare.sh --rounds $(ROUNDS)

format:
	$(SWIFT) format --in-place --recursive Package.swift Sources Tests Examples Tools Benchmarks

## Check that safetensors files go both ways between Awesomegrad and Python's safetensors/PyTorch
## (Benchmarks/reference/interop.py in the reference venv; prints PASS/FAIL per check).
interop: deps
	@bash Benchmarks/compare.sh --setup-only
	@[ -n "$${REFERENCE_PYTHON:-}" ] || Benchmarks/reference/.venv/bin/python -c "import safetensors" 2>/dev/null \
		|| Benchmarks/reference/.venv/bin/python -m pip install --quiet -r Benchmarks/reference/requirements.txt
	$(SWIFT) build -c release --product checkpoint
	@"$${REFERENCE_PYTHON:-Benchmarks/reference/.venv/bin/python}" Benchmarks/reference/interop.py \
		--checkpoint "$$($(SWIFT) build -c release --show-bin-path)/checkpoint"

## Run each libFuzzer target (safetensors, idx-gzip, csv) for SECONDS seconds (scripts/fuzz).
SECONDS ?= 60
fuzz: deps
	@bash scripts/fuzz --seconds $(SECONDS)
