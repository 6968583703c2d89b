"""Checks that char-lm's model files are nanoGPT state dicts, with nanoGPT's own model.py.

    python char_lm_nanogpt_check.py NANOGPT_DIR MODEL.safetensors [--sample 300] [--write OUT.safetensors]

NANOGPT_DIR is a checkout of github.com/karpathy/nanoGPT (its model.py is imported from there, not copied).
The script builds nanoGPT's GPT from the file's metadata (n_layer, n_head, n_embd, block_size, vocab_size,
bias; dropout 0), loads the file with `load_state_dict(..., strict=True)`, and prints nanoGPT's greedy
continuation (top_k=1) of a newline, which `char-lm --load MODEL.safetensors --steps 0 --sample N --top-k 1`
must reproduce byte for byte. With --write it also saves the loaded model's `state_dict()` (both names of
the tied weight, as nanoGPT's checkpoints hold them) as safetensors: a file written by nanoGPT for char-lm
to load. nanoGPT's MLP uses the exact GELU, so the file must have been trained with `--gelu exact`.
"""

import argparse
import contextlib
import os
import sys

import torch
from safetensors import safe_open
from safetensors.torch import save_file


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("nanogpt_dir")
    parser.add_argument("model")
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--write", help="save nanoGPT's state_dict() of the loaded model here")
    args = parser.parse_args()
    sys.path.insert(0, os.path.abspath(args.nanogpt_dir))
    from model import GPT, GPTConfig  # nanoGPT's

    with safe_open(args.model, framework="pt") as f:
        meta = f.metadata()
        state = {k: f.get_tensor(k) for k in f.keys()}
    if meta.get("gelu", "exact") != "exact":
        raise SystemExit("nanoGPT's MLP is the exact GELU; this file was trained with --gelu tanh")
    config = GPTConfig(n_layer=int(meta["n_layer"]), n_head=int(meta["n_head"]), n_embd=int(meta["n_embd"]),
                       block_size=int(meta["block_size"]), vocab_size=int(meta["vocab_size"]),
                       bias=meta["bias"] == "True", dropout=0.0)
    with contextlib.redirect_stdout(sys.stderr):  # nanoGPT prints its parameter count
        model = GPT(config)
    if meta.get("tied") == "False":
        raise SystemExit("nanoGPT ties lm_head to wte; this file is untied")
    missing, unexpected = model.load_state_dict(state, strict=True)
    print(f"nanoGPT loaded {len(state)} tensors from {args.model} (strict; missing {missing}, "
          f"unexpected {unexpected})", file=sys.stderr)
    model.eval()
    vocab = [int(b) for b in meta["vocabulary"].split(",")]
    start = vocab.index(10) if 10 in vocab else 0
    with torch.no_grad():
        tokens = model.generate(torch.tensor([[start]]), args.sample, top_k=1)[0, 1:].tolist()
    sys.stdout.write(bytes(vocab[t] for t in tokens).decode("utf-8", errors="replace") + "\n")
    if args.write:
        save_file({k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}, args.write,
                  metadata={k: v for k, v in meta.items() if k in ("n_head", "vocabulary")})
        print(f"wrote nanoGPT's state_dict() to {args.write} (metadata: n_head and vocabulary only)",
              file=sys.stderr)


if __name__ == "__main__":
    main()
