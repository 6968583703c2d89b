"""The `moons-value` workload with the PyPI `micrograd` package: one step of micrograd's moons demo.

    python micrograd_bench.py [moons-value] [--steps N] [--threads N]

A step is the demo's loop body over all 100 points, as the Swift `moons-value` workload runs it on
the Value engine: forward through MLP(2, [16, 16, 1]), SVM hinge loss mean(relu(1 − yᵢ·scoreᵢ)) +
1e-4·Σp², zero_grad, backward, SGD update. The points come from the same distribution as the Swift
side's (two moons, noise 0.1), not the same draws: the graph and its work do not depend on them.
Prints one JSON line with the keys of the Swift `bench` tool; graph_peak_bytes is the tracemalloc peak
of one step.
"""

import argparse
import random

import sklearn.datasets

from micrograd.engine import Value
from micrograd.nn import MLP

import benchlib


def make_moons(count=100, noise=0.1, seed=0):
    """The data of micrograd's demo: scikit-learn's make_moons, labels mapped to -1/+1."""
    X, y = sklearn.datasets.make_moons(n_samples=count, noise=noise, random_state=seed)
    return X.tolist(), [float(2 * label - 1) for label in y]


def moons_value(steps):
    random.seed(0)  # micrograd's Neuron draws from the module-level random
    X, y = make_moons()
    model = MLP(2, [16, 16, 1])
    alpha, learning_rate = 1e-4, 0.05

    def step():
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = alpha * sum((p * p for p in model.parameters()))
        total_loss = data_loss + reg_loss
        model.zero_grad()
        total_loss.backward()
        for p in model.parameters():
            p.data -= learning_rate * p.grad

    benchlib.reset_peak_rss()
    for _ in range(2):
        step()
    times = benchlib.time_steps(step, steps)
    peak_rss = benchlib.peak_rss_bytes()  # read before tracemalloc adds its own bookkeeping
    graph_peak = benchlib.traced_peak_bytes(step)
    benchlib.emit("moons-value", "micrograd-python", "float64", 1, times, peak_rss,
                  allocations=None, graph_peak=graph_peak)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", default=["moons-value"])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1, help="accepted for symmetry; micrograd has no threads")
    args = parser.parse_args()
    for name in args.workloads:
        if name != "moons-value":
            parser.error(f"unknown workload {name!r}; micrograd_bench.py runs moons-value")
        moons_value(args.steps)


if __name__ == "__main__":
    main()
