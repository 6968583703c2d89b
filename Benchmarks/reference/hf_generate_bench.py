"""The Hugging Face side of the `hf-generate` rows of `make compare`: GPT-2 124M shapes with random
weights, a 16-token prompt, 64 new tokens, greedy, transformers' `generate` with its KV cache.

    python Benchmarks/reference/hf_generate_bench.py make-model DIR
        writes a GPT-2 124M (GPT2Config() defaults, seed 0, normal(0, 0.02) weights) with save_pretrained,
        unless DIR already holds one; hf-model reads the same folder.
    python Benchmarks/reference/hf_generate_bench.py generate DIR --threads T [--runs R]
        prints one JSON line: the median over R timed runs (after one warm-up) of the new tokens per second
        of model.generate, and the process's peak RSS after from_pretrained (float32).
    python Benchmarks/reference/hf_generate_bench.py wrap T < hf-model-output.json
        turns `hf-model generate --json` output into the same kind of line for Awesomegrad.

Every run sets its thread count explicitly (torch.set_num_threads and the *_NUM_THREADS variables).
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time

PROMPT = [464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290, 13, 383, 2068, 318, 257, 1332, 13]
NEW_TOKENS = 64


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def make_model(directory):
    import torch
    import transformers
    if os.path.exists(os.path.join(directory, "model.safetensors")):
        return
    torch.manual_seed(0)
    model = transformers.GPT2LMHeadModel(transformers.GPT2Config())
    model.save_pretrained(directory)
    print(f"wrote {directory}: {sum(p.numel() for p in model.parameters())} parameters", file=sys.stderr)


def generate(directory, threads, runs):
    import torch
    import transformers
    torch.set_num_threads(threads)
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    start = time.perf_counter()
    model = transformers.AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32).eval()
    load_seconds = time.perf_counter() - start
    load_rss = peak_rss_bytes()
    weights = sum(p.numel() for p in model.parameters()) * 4
    prompt = torch.tensor([PROMPT])
    rates = []
    outputs = None
    for run in range(runs + 1):
        with torch.no_grad():
            start = time.perf_counter()
            out = model.generate(prompt, do_sample=False, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS,
                                 use_cache=True, pad_token_id=0, eos_token_id=None)
            seconds = time.perf_counter() - start
        new = out[0, len(PROMPT):].tolist()
        assert len(new) == NEW_TOKENS
        if run > 0:  # the first is the warm-up
            rates.append(NEW_TOKENS / seconds)
        outputs = new
    rate = statistics.median(rates)
    print(json.dumps({
        "workload": "hf-generate-gpt2", "engine": "torch", "threads": threads, "steps": NEW_TOKENS,
        "median_us": 1e6 / rate, "tokens_per_second": rate, "runs": rates, "load_peak_rss_bytes": load_rss,
        "load_seconds": load_seconds, "weights_bytes": weights, "ids": outputs,
        "torch": torch.__version__, "transformers": transformers.__version__}), flush=True)


def wrap(threads):
    swift = json.load(sys.stdin)
    rate = swift["tokens_per_second"]
    print(json.dumps({
        "workload": "hf-generate-gpt2", "engine": "awesomegrad", "threads": threads, "steps": len(swift["ids"]),
        "median_us": 1e6 / rate if rate else None, "tokens_per_second": rate, "runs": swift.get("runs"),
        "peak_rss_bytes": swift["peak_rss_bytes"], "ids": swift["ids"]}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("make-model")
    make.add_argument("directory")
    gen = sub.add_parser("generate")
    gen.add_argument("directory")
    gen.add_argument("--threads", type=int, required=True)
    gen.add_argument("--runs", type=int, default=3)
    wrapper = sub.add_parser("wrap")
    wrapper.add_argument("threads", type=int)
    args = parser.parse_args()
    if args.command == "make-model":
        make_model(args.directory)
    elif args.command == "generate":
        generate(args.directory, args.threads, args.runs)
    else:
        wrap(args.threads)


if __name__ == "__main__":
    main()
