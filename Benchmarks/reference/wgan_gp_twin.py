"""PyTorch twin of the WGAN-GP gradient-penalty test (Tests/AwesomegradTests/GradientPenaltyTests.swift).

A critic D(x) = tanh(x W1^T + b1) W2^T + b2 (2 -> 8 -> 1) trained for a few SGD steps, float64, on
  loss = mean D(fake) - mean D(real) + lambda * mean((||grad_x D(x_hat)||_2 - 1)^2),
  x_hat = eps * real + (1 - eps) * fake,
with grad_x D(x_hat) taken with create_graph=True, so that the penalty is differentiated through it.
Writes the initial parameters, the data, the per-step losses and the final parameters as JSON.

Usage (from the repository root, in Benchmarks/reference/.venv):
  python Benchmarks/reference/wgan_gp_twin.py Tests/AwesomegradTests/Fixtures/wgan_gp_seed0.json
"""
import json
import sys

import torch

SEED, STEPS, LR, LAMBDA, BATCH, HIDDEN = 0, 5, 0.05, 10.0, 6, 8


def main(out_path):
    torch.manual_seed(SEED)
    dtype = torch.float64
    w1 = torch.randn(HIDDEN, 2, dtype=dtype) * 0.7
    b1 = torch.randn(HIDDEN, dtype=dtype) * 0.1
    w2 = torch.randn(1, HIDDEN, dtype=dtype) * 0.5
    b2 = torch.zeros(1, dtype=dtype)
    real = torch.randn(BATCH, 2, dtype=dtype) + torch.tensor([2.0, 0.0], dtype=dtype)
    fake = torch.randn(BATCH, 2, dtype=dtype)
    eps = torch.rand(BATCH, 1, dtype=dtype)
    initial = {name: t.clone() for name, t in [("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2)]}
    params = [t.requires_grad_() for t in (w1, b1, w2, b2)]

    def critic(x):
        return torch.tanh(x @ w1.T + b1) @ w2.T + b2

    losses, penalties = [], []
    for _ in range(STEPS):
        x_hat = (eps * real + (1 - eps) * fake).requires_grad_()
        (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
        penalty = ((grad.pow(2).sum(dim=1).sqrt() - 1) ** 2).mean()
        loss = critic(fake).mean() - critic(real).mean() + LAMBDA * penalty
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
        losses.append(loss.item())
        penalties.append(penalty.item())

    def dump(t):
        return {"shape": list(t.shape), "data": t.detach().reshape(-1).tolist()}

    fixture = {
        "description": "WGAN-GP critic (2-8-1, tanh) trained by SGD in float64 with a gradient penalty "
        "whose input gradient is taken with create_graph=True; made by Benchmarks/reference/wgan_gp_twin.py",
        "reference": f"torch {torch.__version__.split('+')[0]}, float64, CPU",
        "seed": SEED, "steps": STEPS, "learning_rate": LR, "lambda": LAMBDA,
        "initial": {k: dump(v) for k, v in initial.items()},
        "real": dump(real), "fake": dump(fake), "eps": dump(eps),
        "losses": losses, "penalties": penalties,
        "final": {name: dump(p) for name, p in zip(["w1", "b1", "w2", "b2"], params)},
    }
    with open(out_path, "w") as f:
        json.dump(fixture, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
