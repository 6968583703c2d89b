"""The PyTorch twin of the Swift `char-lm` example: the same character-level GPT, data, split and
training settings, to confirm the validation loss the Swift example reaches.

    python char_lm_torch.py [--data FILE] [--steps 1000] [--seed 0] [--threads 1] [--json]
                            [--save FILE] [--load FILE] [--sample N --temperature T --top-k K]

The model follows nanoGPT's `model.py` (pre-norm blocks, one fused c_attn, learned positions, GELU MLP
4x), written here from that description, with nanoGPT's parameter names. The defaults are char-lm's,
the issue's configuration in plain PyTorch: context 64, 4 layers, 4 heads, width 128, no dropout, exact
GELU (nn.GELU()); every module with PyTorch's own defaults (nn.Linear with biases and its
U(+-1/sqrt(fan_in)) weights, nn.Embedding N(0, 1), nn.LayerNorm 1 and 0), a separate lm_head; AdamW lr
1e-3 throughout, betas (0.9, 0.99), weight decay 0.1 on matrices (parameters of rank >= 2) only; no
gradient clipping; batch 32, 1000 steps. nanoGPT's recipe (config/train_shakespeare_char.py with
train.py, scaled down as its README's CPU recipe) is --init nanogpt --no-bias --tied --schedule cosine
--grad-clip 1: N(0, 0.02) init with c_proj scaled by 1/sqrt(2 layers), no biases, lm_head tied to wte,
warm-up over 100 steps then cosine decay to lr/10 at the last step (the Swift library's
CosineWithWarmup: nanoGPT's get_lr warms up as (k+1)/101 instead of (k+1)/100), gradients clipped to
global norm 1.0. The data: every file without an extension in Debian's fortunes folder, sorted by
name, concatenated, split 90/10; the vocabulary is the file's distinct bytes. val_loss is the mean
cross-entropy (nats per byte) over 20 random validation batches (--eval-batches), train_loss the same
over 20 training batches, both after the last step; ms_per_step times the training steps only.

With these defaults, 1000 steps, 1 thread, seeds 0, 1, 2, this twin reached val_loss 1.962, 1.918 and
1.957 (median 1.957; the issue quotes 1.952 for PyTorch); with nanoGPT's recipe 2.074, 2.059 and 2.048.
See the README's char-lm section for char-lm's own runs.
"""

import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

FORTUNES_DIR = "/usr/share/games/fortunes"


class CausalSelfAttention(nn.Module):
    def __init__(self, width, heads, bias):
        super().__init__()
        self.c_attn = nn.Linear(width, 3 * width, bias=bias)
        self.c_proj = nn.Linear(width, width, bias=bias)
        self.heads = heads

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.c_attn(x).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).contiguous().view(b, t, c))


class MLP(nn.Module):
    def __init__(self, width, bias, gelu):
        super().__init__()
        self.c_fc = nn.Linear(width, 4 * width, bias=bias)
        self.gelu = nn.GELU(approximate=gelu)
        self.c_proj = nn.Linear(4 * width, width, bias=bias)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, width, heads, bias, gelu):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width, bias=bias)
        self.attn = CausalSelfAttention(width, heads, bias)
        self.ln_2 = nn.LayerNorm(width, bias=bias)
        self.mlp = MLP(width, bias, gelu)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocab, context, layers, heads, width, bias=True, tie=False, gelu="none", init="torch"):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab, width),
            wpe=nn.Embedding(context, width),
            h=nn.ModuleList([Block(width, heads, bias, gelu) for _ in range(layers)]),
            ln_f=nn.LayerNorm(width, bias=bias),
        ))
        self.lm_head = nn.Linear(width, vocab, bias=False)
        if tie:
            self.transformer.wte.weight = self.lm_head.weight
        if init == "torch":
            return  # PyTorch's own defaults: Linear U(+-1/sqrt(fan_in)), Embedding N(0, 1)
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * layers))

    def forward(self, tokens):
        t = tokens.shape[1]
        x = self.transformer.wte(tokens) + self.transformer.wpe(torch.arange(t, device=tokens.device))
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x))


def adamw(model, lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1):
    """AdamW with weight decay on the matrices (rank >= 2: linear weights, embeddings) only."""
    params = list(model.parameters())  # each tensor once, tied weights included
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=betas)


def cosine_with_warmup(peak, minimum, warmup, total):
    """The Swift library's CosineWithWarmup: lr(k) = peak (k+1)/warmup for k < warmup, then
    minimum + (peak - minimum)(1 + cos(pi (k - warmup)/(total - warmup)))/2. nanoGPT's get_lr is the same
    with (k+1)/(warmup+1) in the warm-up (at most 1% lower there)."""
    def rate(k):
        if k < warmup:
            return peak * (k + 1) / warmup
        progress = (min(k, total) - warmup) / (total - warmup)
        return minimum + 0.5 * (peak - minimum) * (1 + math.cos(math.pi * progress))
    return rate


def fortunes_text(directory=FORTUNES_DIR):
    """Every file without an extension in `directory`, sorted by name, concatenated (bytes)."""
    names = sorted(n for n in os.listdir(directory)
                   if "." not in n and os.path.isfile(os.path.join(directory, n)))
    if not names:
        raise SystemExit(f"no fortune files in {directory}; install Debian's `fortunes` package")
    return b"".join(open(os.path.join(directory, n), "rb").read() for n in names)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a text file (default: the fortunes)")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--context", type=int, default=64)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--gelu", choices=["exact", "tanh"], default="exact",
                        help="exact (nanoGPT's nn.GELU()) or tanh (GPT-2's approximation)")
    parser.add_argument("--bias", action=argparse.BooleanOptionalAction, default=True,
                        help="biases in linear layers and layer norms (nanoGPT's train.py: bias = False)")
    parser.add_argument("--init", choices=["nanogpt", "torch"], default="torch",
                        help="nanogpt: N(0, 0.02), c_proj scaled; torch: each module's PyTorch default")
    parser.add_argument("--tied", action=argparse.BooleanOptionalAction, default=False,
                        help="lm_head shares transformer.wte's weight (nanoGPT)")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--schedule", choices=["cosine", "constant"], default="constant",
                        help="cosine: linear warm-up over --warmup steps, then cosine decay to --min-lr")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--min-lr", type=float, default=None, help="default --lr / 10")
    parser.add_argument("--grad-clip", type=float, default=0.0, help="global 2-norm; 0: no clipping (nanoGPT: 1)")
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--eval-batches", type=int, default=20)
    parser.add_argument("--sample", type=int, default=0, help="after training, print N generated bytes")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-k", type=int, default=None)
    parser.add_argument("--save", help="write the model to this safetensors file (nanoGPT's names)")
    parser.add_argument("--load", help="start from this safetensors file (char-lm --save's or nanoGPT's "
                        "state dict); its tensors decide the sizes; --steps 0 only evaluates and samples")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    text = open(args.data, "rb").read() if args.data else fortunes_text()
    vocab = sorted(set(text))
    index = {b: i for i, b in enumerate(vocab)}
    data = torch.tensor([index[b] for b in text], dtype=torch.long)
    split = int(0.9 * len(data))
    train, val = data[:split], data[split:]

    def batch(source):
        starts = torch.randint(len(source) - args.context, (args.batch_size,))
        x = torch.stack([source[i:i + args.context] for i in starts])
        y = torch.stack([source[i + 1:i + 1 + args.context] for i in starts])
        return x, y

    if args.load:
        model = load_model(args.load, args, vocab)
        args.context = model.transformer.wpe.weight.shape[0]
    else:
        model = GPT(len(vocab), args.context, args.layers, args.heads, args.width, bias=args.bias,
                    tie=args.tied, gelu="none" if args.gelu == "exact" else "tanh", init=args.init)
    optimizer = adamw(model, lr=args.lr)
    schedule = cosine_with_warmup(args.lr, args.lr / 10 if args.min_lr is None else args.min_lr,
                                  args.warmup, args.steps)

    @torch.no_grad()
    def estimated_loss(source):
        """The mean loss over --eval-batches random batches of `source`, in nats per byte."""
        losses = []
        for _ in range(args.eval_batches):
            x, y = batch(source)
            losses.append(F.cross_entropy(model(x).view(-1, len(vocab)), y.view(-1)).item())
        return sum(losses) / len(losses)

    log = sys.stderr if args.json else sys.stdout
    print(f"{len(text)} bytes, vocabulary {len(vocab)}, {sum(p.numel() for p in model.parameters())} "
          f"parameters, torch {torch.__version__}, {torch.get_num_threads()} thread(s); {vars(args)}", file=log)
    training_seconds = 0.0  # the training steps only, not the evaluations
    loss = float("nan")
    for step in range(1, args.steps + 1):
        start = time.perf_counter()
        x, y = batch(train)
        loss = F.cross_entropy(model(x).view(-1, len(vocab)), y.view(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if args.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        for group in optimizer.param_groups:
            group["lr"] = schedule(step - 1) if args.schedule == "cosine" else args.lr
        optimizer.step()
        training_seconds += time.perf_counter() - start
        if step % args.eval_every == 0:
            print(f"step {step}  train loss {loss.item():.4f}  val loss {estimated_loss(val):.4f}  "
                  f"{1000 * training_seconds / step:.1f} ms/step", file=log)
    ms_per_step = 1000 * training_seconds / max(args.steps, 1)
    result = {"steps": args.steps, "train_loss": estimated_loss(train), "val_loss": estimated_loss(val),
              "ms_per_step": ms_per_step}
    if args.save:
        save_model(model, args, vocab, args.save)
    if args.sample > 0:
        start = vocab.index(10) if 10 in vocab else 0
        tokens = generate(model, start, args.sample, args.context, args.temperature, args.top_k)
        print(f"--- sample ({args.sample} bytes, temperature {args.temperature}, top-k {args.top_k or 'all'}) ---",
              file=log)
        print(bytes(vocab[t] for t in tokens).decode("utf-8", errors="replace"), file=log)
    print(json.dumps(result) if args.json else result)


@torch.no_grad()
def generate(model, start, count, context, temperature=1.0, top_k=None):
    """`count` tokens after `start`, each drawn from softmax(logits / temperature) over the top_k most likely
    (all when None), reading at most the last `context` tokens: the Swift GPT.generate's rule."""
    tokens = [start]
    for _ in range(count):
        logits = model(torch.tensor([tokens[-context:]]))[0, -1].double() / temperature
        if top_k is not None and top_k < logits.numel():
            threshold = torch.topk(logits, top_k).values[-1]
            logits[logits < threshold] = -math.inf
        tokens.append(torch.multinomial(F.softmax(logits, dim=-1), 1).item())
    return tokens[1:]


def save_model(model, args, vocab, path):
    """The state dict (both names of the tied weight, as state_dict() lists them) as F32 safetensors, with the
    metadata char-lm --save writes."""
    from safetensors.torch import save_file
    tensors = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    wte = model.transformer.wte.weight
    metadata = {"format": "char-lm", "n_layer": str(len(model.transformer.h)), "n_head": str(args.heads),
                "n_embd": str(wte.shape[1]), "block_size": str(model.transformer.wpe.weight.shape[0]),
                "vocab_size": str(wte.shape[0]), "bias": str(model.transformer.ln_f.bias is not None),
                "tied": str(model.lm_head.weight is wte), "gelu": args.gelu,
                "vocabulary": ",".join(str(b) for b in vocab)}
    save_file(tensors, path, metadata=metadata)


def load_model(path, args, vocab):
    """A GPT from a safetensors state dict: the sizes from the tensors' shapes, biases from
    transformer.ln_f.bias, heads, GELU and tying from the metadata (else the flags), as char-lm --load."""
    from safetensors import safe_open
    with safe_open(path, framework="pt") as f:
        metadata = f.metadata() or {}
        tensors = {k: f.get_tensor(k).float() for k in f.keys()}
    if "vocabulary" in metadata and [int(b) for b in metadata["vocabulary"].split(",")] != vocab:
        raise SystemExit(f"{path} was trained on another vocabulary; pass the --data it was trained on")
    wte = tensors.get("transformer.wte.weight", tensors.get("lm_head.weight"))
    layers = 1 + max(int(k.split(".")[2]) for k in tensors if k.startswith("transformer.h."))
    if "tied" in metadata:
        tie = metadata["tied"] == "True"
    elif "transformer.wte.weight" in tensors and "lm_head.weight" in tensors:
        tie = torch.equal(tensors["transformer.wte.weight"], tensors["lm_head.weight"])
    else:
        tie = args.tied
    if tie:
        tensors.setdefault("transformer.wte.weight", wte)
        tensors.setdefault("lm_head.weight", wte)
    gelu = metadata.get("gelu", args.gelu)
    model = GPT(wte.shape[0], tensors["transformer.wpe.weight"].shape[0], layers,
                int(metadata.get("n_head", args.heads)), wte.shape[1], bias="transformer.ln_f.bias" in tensors,
                tie=tie, gelu="none" if gelu == "exact" else "tanh")
    model.load_state_dict(tensors, strict=True)
    return model


if __name__ == "__main__":
    main()
