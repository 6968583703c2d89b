"""Record micrograd's two-moons demo as a JSON fixture (the format of micrograd_moons_seed1337.json).

Usage:  python make_moons_fixture.py --seed 7 --out micrograd_moons_seed7.json

Needs the `micrograd` and `scikit-learn` packages. The recipe is micrograd's demo notebook:
make_moons(n_samples=100, noise=0.1) with numpy seeded by SEED, labels mapped to -1/+1;
MLP(2, [16, 16, 1]) with weights from random.uniform(-1, 1) after random.seed(SEED); hinge loss
mean(relu(1 - y*score)) + 1e-4 * sum(p^2); full-batch SGD with lr = 1.0 - 0.9*k/100 at step k.
Loss and accuracy are recorded before the update of each step.
"""

import argparse
import json
import random

import numpy as np
from micrograd.engine import Value
from micrograd.nn import MLP
from sklearn.datasets import make_moons

DESCRIPTION = (
    "micrograd demo parity: make_moons(n_samples=100, noise=0.1) with numpy/random seed {seed}, labels "
    "mapped to -1/+1; MLP(2,[16,16,1]) with ReLU on hidden layers, linear output; loss = mean(relu(1 - "
    "y*score)) + 1e-4*sum(p^2); full-batch SGD, lr = 1.0 - 0.9*k/100 for step k; loss/accuracy recorded "
    "before the update of each step. Parameters are in micrograd order: for each layer, for each neuron: "
    "its weights (one per input) then its bias."
)


def demo_loss(model, X, y):
    """The demo notebook's loss(), over the full batch, written as it is there."""
    inputs = [list(map(Value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    alpha = 1e-4
    reg_loss = alpha * sum((p * p for p in model.parameters()))
    total_loss = data_loss + reg_loss
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
    return total_loss, sum(accuracy) / len(accuracy)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--out", required=True, help="the JSON file to write")
    args = parser.parse_args()

    np.random.seed(args.seed)
    random.seed(args.seed)
    X, y = make_moons(n_samples=100, noise=0.1)
    y = y * 2 - 1
    X = [[float(v) for v in row] for row in X]
    y = [int(v) for v in y]

    model = MLP(2, [16, 16, 1])
    initial_parameters = [p.data for p in model.parameters()]

    trace = []
    for k in range(args.steps):
        total_loss, acc = demo_loss(model, X, y)
        trace.append({"step": k, "loss": total_loss.data, "accuracy": float(acc)})
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad

    fixture = {
        "description": DESCRIPTION.format(seed=args.seed),
        "seed": args.seed,
        "X": X,
        "y": y,
        "layer_sizes": [2, 16, 16, 1],
        "initial_parameters": initial_parameters,
        "trace": trace,
        "final_parameters": [p.data for p in model.parameters()],
    }
    with open(args.out, "w") as f:
        json.dump(fixture, f, indent=1)


if __name__ == "__main__":
    main()
