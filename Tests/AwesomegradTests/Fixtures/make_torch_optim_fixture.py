"""Writes torch_optim.json: parameters after each of 5 optimizer steps, from torch.optim in float64.

Two parameters p0 [3, 2] and p1 [4] start at fixed values. Each step minimises
    loss = sum(c0 * p0 * p0) + sum(d0 * p0) + sum(c1 * p1 * p1) + sum(d1 * p1)
so grad p = 2 c p + d, which the Swift test recomputes with the tensor engine.

Run from the repository root:
    python Tests/AwesomegradTests/Fixtures/make_torch_optim_fixture.py
"""

import json
import os

import torch

torch.set_default_dtype(torch.float64)
STEPS = 5

INITIAL = {
    "p0": ([3, 2], [0.5, -1.25, 2.0, 0.75, -0.3, 1.5]),
    "p1": ([4], [1.0, -2.0, 0.25, 3.0]),
}
COEFFICIENTS = {
    "p0": ([0.5, 1.0, 2.0, 0.25, 1.5, 0.75], [0.1, -0.2, 0.3, 0.0, -0.5, 0.4]),
    "p1": ([1.0, 0.3, 2.5, 0.6], [-1.0, 0.5, 0.0, 0.2]),
}

CASES = [
    ("sgd", "sgd", dict(lr=0.1)),
    ("sgd_momentum_nesterov_weight_decay", "sgd", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("sgd_momentum_dampening", "sgd", dict(lr=0.05, momentum=0.8, dampening=0.3)),
    ("adam", "adam", dict(lr=0.1, betas=(0.9, 0.999), eps=1e-8)),
    ("adam_weight_decay", "adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("adamw", "adamw", dict(lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)),
]


def make_parameters():
    return {
        name: torch.tensor(values).reshape(shape).requires_grad_()
        for name, (shape, values) in INITIAL.items()
    }


def loss_of(params):
    total = torch.zeros(())
    for name, p in params.items():
        c, d = (torch.tensor(v).reshape(p.shape) for v in COEFFICIENTS[name])
        total = total + (c * p * p).sum() + (d * p).sum()
    return total


def run(kind, options):
    params = make_parameters()
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[kind]
    optimizer = cls(list(params.values()), foreach=False, **options)
    steps = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss_of(params).backward()
        optimizer.step()
        steps.append({name: p.detach().flatten().tolist() for name, p in params.items()})
    return steps


def clipping_case(max_norm):
    params = make_parameters()
    loss_of(params).backward()
    norm = torch.nn.utils.clip_grad_norm_(list(params.values()), max_norm)
    return {
        "max_norm": max_norm,
        "total_norm": norm.item(),
        "grads": {name: p.grad.flatten().tolist() for name, p in params.items()},
    }


fixture = {
    "description": "torch.optim float64: parameters after each step; loss = sum(c*p*p) + sum(d*p) per parameter",
    "torch_version": torch.__version__,
    "initial": {name: {"shape": shape, "values": values} for name, (shape, values) in INITIAL.items()},
    "coefficients": {name: {"c": c, "d": d} for name, (c, d) in COEFFICIENTS.items()},
    "cases": [
        {
            "name": name,
            "optimizer": kind,
            "lr": options["lr"],
            "momentum": options.get("momentum", 0.0),
            "dampening": options.get("dampening", 0.0),
            "nesterov": options.get("nesterov", False),
            "weight_decay": options.get("weight_decay", 0.0),
            "betas": list(options.get("betas", (0.9, 0.999))),
            "eps": options.get("eps", 1e-8),
            "steps": run(kind, options),
        }
        for name, kind, options in CASES
    ],
    "clipping": [clipping_case(0.5), clipping_case(100.0)],
}

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_optim.json")
with open(path, "w") as f:
    json.dump(fixture, f, indent=1)
print("wrote", path)
