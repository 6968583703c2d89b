# Awesomegrad: the commands the README and CI use. Each target installs what it needs first.
SWIFT ?= swift
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: demo test deps fashion bench compare format docs

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

## Build the DocC documentation of Awesomegrad and Micrograd as a static site under .build/docs
## (warnings are errors; prints DocC's documentation-coverage summary).
docs:
	SWIFT="$(SWIFT)" bash scripts/docs
