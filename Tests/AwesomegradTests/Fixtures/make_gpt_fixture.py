"""Writes gpt_tiny_seed0.json: a tiny nanoGPT-style model in PyTorch (float64) with its parameters, a batch
of tokens and targets, the logits, the mean cross-entropy loss and the gradient of that loss with respect
to every parameter, and the losses of five AdamW steps on that batch (lr 1e-2, betas (0.9, 0.99), weight
decay 0.1 on matrices only), for the Swift GPT to reproduce by name.

    python Tests/AwesomegradTests/Fixtures/make_gpt_fixture.py OUT.json

The model is Benchmarks/reference/char_lm_torch.py's GPT (vocabulary 11, context 6, 2 layers, 2 heads,
width 8, tied lm_head, exact GELU). Layer-norm weights and biases and the linear biases are drawn at
random so that every parameter matters.
"""

import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "Benchmarks", "reference"))
from char_lm_torch import GPT  # noqa: E402


def array(t):
    return {"shape": list(t.shape), "data": [float(x) for x in t.detach().reshape(-1).tolist()]}


def main():
    torch.manual_seed(0)
    torch.set_default_dtype(torch.float64)
    config = dict(vocab=11, context=6, layers=2, heads=2, width=8)
    model = GPT(config["vocab"], config["context"], config["layers"], config["heads"], config["width"],
                bias=True, tie=True, gelu="none", init="nanogpt")
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:
                p.copy_(torch.randn_like(p) * 0.3 + (1.0 if "ln_" in name and name.endswith("weight") else 0.0))
    tokens = torch.randint(0, config["vocab"], (2, 5))
    targets = torch.randint(0, config["vocab"], (2, 5))
    logits = model(tokens)
    loss = F.cross_entropy(logits.view(-1, config["vocab"]), targets.view(-1))
    loss.backward()
    grads = {name: array(p.grad) for name, p in model.named_parameters()}
    # Five AdamW steps (lr 1e-2, betas (0.9, 0.99), weight decay 0.1 on matrices only) on the same
    # batch, from the parameters saved above: the loss before each step.
    from char_lm_torch import adamw  # noqa: E402
    initial = {name: array(p) for name, p in model.named_parameters()}
    optimizer = adamw(model, lr=1e-2)
    trace = []
    for _ in range(5):
        optimizer.zero_grad()
        step_loss = F.cross_entropy(model(tokens).view(-1, config["vocab"]), targets.view(-1))
        trace.append(step_loss.item())
        step_loss.backward()
        optimizer.step()
    out = {
        "description": __doc__.strip(),
        "reference": f"torch {torch.__version__}, float64, CPU",
        "config": config,
        "parameters": initial,
        "tokens": array(tokens),
        "targets": array(targets),
        "logits": array(logits),
        "loss": loss.item(),
        "grads": grads,
        "adamw_losses": trace,
    }
    with open(sys.argv[1], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
