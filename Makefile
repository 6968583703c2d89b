# Awesomegrad: the commands the README and CI use. Each target installs what it needs first.
SWIFT ?= swift
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: demo test deps fashion bench compare format interop hf-interop fuzz docs

## Train micrograd's moons demo (release build).
demo: deps
	$(SWIFT) run -c release moons

## Run the test suite (Swift Testing), then type-check the fuzz build's sources (scripts/fuzz
## --typecheck, about 16 s of CPU), so that `make fuzz` cannot break unseen.
test: deps
	$(SWIFT) test
	@bash scripts/fuzz --typecheck

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

# Data-parallel training on this machine's cores with Open MPI (see the DocC article "Distributed
# training"). A plain mpirun: Distributed.initialize chooses the transport itself (shared memory
# without CMA, no default core binding, ...); root allowed (containers, CI). RANKS processes; DDP_ARGS
# go to the example.
.PHONY: ddp ddp-check ddp-bench ddp-hosts
RANKS ?= 2
DDP_ARGS ?= --epochs 1
MPIRUN_LOCAL = OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun -np $(RANKS) --oversubscribe \
	--timeout 3600

## Train the Fashion-MNIST MLP on RANKS ranks (--batch-size is per rank).
ddp:
	@bash scripts/install-deps --fashion-mnist
	$(SWIFT) build -c release --product fashion-mnist
	$(MPIRUN_LOCAL) "$$($(SWIFT) build -c release --show-bin-path)/fashion-mnist" --distributed $(DDP_ARGS)

## Check that RANKS ranks at batch B train exactly as one process at batch RANKS·B (SGD, Adam; Double).
ddp-check: deps
	$(SWIFT) build --product ddp-check
	$(MPIRUN_LOCAL) "$$($(SWIFT) build --show-bin-path)/ddp-check"

## Time 2 ranks of 1 thread against 1 process of 1 thread: a fashion MLP epoch (total batch 128) and
## 150 global batches of the CNN (total batch 64).
ddp-bench:
	@bash scripts/install-deps --fashion-mnist
	$(SWIFT) build -c release --product bench
	"$$($(SWIFT) build -c release --show-bin-path)/bench" ddp-fashion-epoch ddp-cnn --threads 1

## Two hosts on this machine: network namespaces joined by a veth link shaped to RATE (tc tbf) and
## DELAY (tc netem, where the kernel has it); ddp-check across them, then a CNN step averaged after
## against during backward (scripts/ddp-hosts; needs root).
RATE ?= 1gbit
DELAY ?= 0.2ms
ddp-hosts: deps
	@bash scripts/ddp-hosts --rate $(RATE) --delay $(DELAY)

## Check that safetensors files go both ways between Awesomegrad and Python's safetensors/PyTorch
## (Benchmarks/reference/interop.py in the reference venv; prints PASS/FAIL per check).
interop: deps
	@bash scripts/install-deps --fashion-mnist
	@bash Benchmarks/compare.sh --setup-only
	@[ -n "$${REFERENCE_PYTHON:-}" ] || Benchmarks/reference/.venv/bin/python -c "import safetensors" 2>/dev/null \
		|| Benchmarks/reference/.venv/bin/python -m pip install --quiet -r Benchmarks/reference/requirements.txt
	$(SWIFT) build -c release --product checkpoint
	$(SWIFT) build -c release --product fashion-mnist
	@"$${REFERENCE_PYTHON:-Benchmarks/reference/.venv/bin/python}" Benchmarks/reference/interop.py \
		--checkpoint "$$($(SWIFT) build -c release --show-bin-path)/checkpoint" \
		--fashion-mnist "$$($(SWIFT) build -c release --show-bin-path)/fashion-mnist"

## Check that Hugging Face transformers, tokenizers and PEFT read what hf-model writes and that hf-model
## runs what they make (Benchmarks/reference/hf_interop.py in the reference venv; PASS/FAIL per check).
hf-interop: deps
	@bash Benchmarks/compare.sh --setup-only
	@[ -n "$${REFERENCE_PYTHON:-}" ] || Benchmarks/reference/.venv/bin/python -c "import transformers, peft" 2>/dev/null \
		|| Benchmarks/reference/.venv/bin/python -m pip install --quiet -r Benchmarks/reference/requirements.txt
	$(SWIFT) build -c release --product hf-model
	@"$${REFERENCE_PYTHON:-Benchmarks/reference/.venv/bin/python}" Benchmarks/reference/hf_interop.py \
		--hf-model "$$($(SWIFT) build -c release --show-bin-path)/hf-model"

## Run each libFuzzer target (safetensors, idx-gzip, csv, checkpoint-directory, tokenizer-json,
## tokenizer-text, model-config) for SECONDS seconds (scripts/fuzz).
SECONDS ?= 60
fuzz: deps
	@bash scripts/fuzz --seconds $(SECONDS)

## Build the DocC documentation of Awesomegrad, Micrograd, AwesomegradModels, AwesomegradTokenizers and
## AwesomegradDatasets as a static site under .build/docs
## (warnings are errors; prints DocC's documentation-coverage summary).
docs:
	SWIFT="$(SWIFT)" bash scripts/docs
