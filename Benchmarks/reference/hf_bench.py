"""The Hugging Face side of the pretrained-transformer rows of `make compare`: generation with GPT-2
124M shapes and random weights (a 16-token prompt, 64 new tokens, greedy, transformers' `generate`
with its KV cache), the memory of loading, and tokenizing 1 MB of text.

    python Benchmarks/reference/hf_bench.py make-model DIR
        writes a GPT-2 124M (GPT2Config() defaults, seed 0, normal(0, 0.02) weights) with save_pretrained,
        unless DIR already holds one; hf-model reads the same folder.
    python Benchmarks/reference/hf_bench.py generate DIR --threads T [--runs R]
        prints one JSON line: the median over R timed runs (after one warm-up) of the new tokens per second
        of model.generate, and the process's peak RSS after from_pretrained (float32).
    python Benchmarks/reference/hf_bench.py wrap T [DIR] < hf-model-output.json
        turns `hf-model generate --json` output into the same kind of line for Awesomegrad (with
        --max-new-tokens 0: the peak RSS of loading DIR, against the size of its weights in Float).
    python Benchmarks/reference/hf_bench.py bandwidth
        the rate one core streams 498 MB (the Float weights) through numpy's sum: the ceiling of decoding.
    python Benchmarks/reference/hf_bench.py tokenize TOKENIZER --hf-model BIN
        1 MB of text (the fortunes the test tokenizer was trained on when the machine has them, else the
        fixture texts shuffled): the wall time of `hf-model tokenize` on it (process, file reads and all)
        and of `tokenizers`' encode, best of 3 each, and whether the ids are identical.

Every run sets its thread count explicitly (torch.set_num_threads and the *_NUM_THREADS variables).
"""

import argparse
import json
import math
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
        "workload": "hf-generate-gpt2", "engine": "pytorch", "threads": threads, "steps": NEW_TOKENS,
        "median_us": 1e6 / rate, "tokens_per_second": rate, "runs": rates, "load_peak_rss_bytes": load_rss,
        "load_seconds": load_seconds, "weights_bytes": weights, "ids": outputs,
        "torch": torch.__version__, "transformers": transformers.__version__}), flush=True)


def bandwidth(megabytes):
    """The rate this machine streams a GPT-2 124M's worth of Float weights through one core, as numpy's
    sum reads them (best of 5): the memory-bandwidth ceiling of decoding, which reads every weight once
    per token."""
    import numpy as np
    values = np.ones(int(megabytes * 1e6 / 4), dtype=np.float32)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        values.sum()
        best = min(best, time.perf_counter() - start)
    print(json.dumps({"workload": "hf-bandwidth", "engine": "numpy", "threads": 1, "bytes": values.nbytes,
                      "median_us": best * 1e6, "gigabytes_per_second": values.nbytes / best / 1e9}), flush=True)


def megabyte_of_text():
    import glob
    import random
    files = sorted(glob.glob("/usr/share/games/fortunes/*.u8"))
    if files:
        text = "".join(open(f, encoding="utf-8", errors="replace").read() for f in files)
        source = "fortunes"
    else:
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        expected = json.load(open(os.path.join(root, "Tests", "AwesomegradModelsTests", "Fixtures", "hf",
                                               "expected.json")))
        pieces = [t["text"] for t in expected["tokenizer"]["texts"]]
        words = " ".join(pieces).split(" ")
        rng = random.Random(0)
        text = " ".join(rng.choice(words) for _ in range(400_000))
        source = "fixture texts"
    encoded = text.encode("utf-8")[:1_000_000]
    return encoded.decode("utf-8", errors="ignore"), source


def tokenize(tokenizer_path, hf_model):
    import subprocess
    import tempfile
    from tokenizers import Tokenizer
    text, source = megabyte_of_text()
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8", delete=False) as f:
        f.write(text)
        path = f.name
    ours, theirs = [], []
    tokenizer = Tokenizer.from_file(tokenizer_path)
    for _ in range(3):
        start = time.perf_counter()
        result = subprocess.run([hf_model, "tokenize", "--tokenizer", tokenizer_path, "--text-file", path, "--json"],
                                capture_output=True, text=True, check=True)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        expected = tokenizer.encode(text, add_special_tokens=False).ids
        theirs.append(time.perf_counter() - start)
    os.unlink(path)
    ids = json.loads(result.stdout)["ids"]
    print(json.dumps({"workload": "hf-tokenize-1mb", "engine": "awesomegrad", "threads": 1, "source": source,
                      "bytes": len(text.encode("utf-8")), "tokens": len(ids), "median_us": min(ours) * 1e6,
                      "tokenizers_us": min(theirs) * 1e6, "identical": ids == expected}), flush=True)


def wrap(threads, directory):
    swift = json.load(sys.stdin)
    if not swift["ids"]:  # --max-new-tokens 0: the memory of loading alone
        from safetensors import safe_open
        weights = 0
        with safe_open(os.path.join(directory, "model.safetensors"), "np") as f:
            for name in f.keys():
                weights += 4 * math.prod(f.get_slice(name).get_shape())
        print(json.dumps({"workload": "hf-load-gpt2", "engine": "awesomegrad", "threads": threads,
                          "peak_rss_bytes": swift["peak_rss_bytes"], "weights_bytes": weights}), flush=True)
        return
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
    wrapper.add_argument("directory", nargs="?", help="the model folder (for the weights' size, with 0 new tokens)")
    tok = sub.add_parser("tokenize")
    tok.add_argument("tokenizer")
    tok.add_argument("--hf-model", required=True)
    band = sub.add_parser("bandwidth")
    band.add_argument("--megabytes", type=float, default=497.76)
    args = parser.parse_args()
    if args.command == "make-model":
        make_model(args.directory)
    elif args.command == "generate":
        generate(args.directory, args.threads, args.runs)
    elif args.command == "tokenize":
        tokenize(args.tokenizer, args.hf_model)
    elif args.command == "bandwidth":
        bandwidth(args.megabytes)
    else:
        wrap(args.threads, args.directory)


if __name__ == "__main__":
    main()
