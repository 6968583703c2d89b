"""The tensor workloads of the Swift `bench` tool in PyTorch on the CPU.

    python torch_bench.py WORKLOAD... [--steps N] [--threads N]

Workloads: moons-tensor (float64), mlp-784, gemm-1024, fashion-mlp-epoch (float32, synthetic data).
Each is written the way the Swift workload is: the same shapes, layers, losses and optimizer, weights
stored [out, in] and applied as x·Wᵀ + b. Prints one JSON line per workload with the keys of `bench`;
`torch.set_num_threads(--threads)` (default 1).
"""

import argparse
import math
import os
import statistics
import sys

import torch
import torch.nn.functional as F

import benchlib

sys.path.insert(0, os.path.dirname(__file__))
from micrograd_bench import make_moons  # noqa: E402  the same moons data


class Dense:
    """Fully connected layers h ← act(h·Wᵀ + b), no activation after the last; weights uniform ±scale."""

    def __init__(self, sizes, activation, scale, dtype, generator):
        self.weights, self.biases = [], []
        for fan_in, fan_out in zip(sizes, sizes[1:]):
            bound = scale(fan_in)
            w = (torch.rand(fan_out, fan_in, dtype=dtype, generator=generator) * 2 - 1) * bound
            self.weights.append(w.requires_grad_())
            self.biases.append(torch.zeros(fan_out, dtype=dtype, requires_grad=True))
        self.activation = activation

    def __call__(self, x):
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = F.linear(x, w, b)
            if i < len(self.weights) - 1:
                x = self.activation(x)
        return x

    def parameters(self):
        return self.weights + self.biases

    def sgd_step(self, lr):
        with torch.no_grad():
            for p in self.parameters():
                p.sub_(p.grad, alpha=lr)
                p.grad = None


def run(name, dtype, threads, steps, warm_up, step, warm_up_step=None, flops=None, **extra):
    benchlib.reset_peak_rss()
    for _ in range(warm_up):
        (warm_up_step or step)()
    times = benchlib.time_steps(step, steps)
    peak_rss = benchlib.peak_rss_bytes()
    fields = dict(extra)
    if flops is not None:
        fields["gflops"] = flops / (statistics.median(times) * 1e-6) / 1e9
    benchlib.emit(name, "pytorch", dtype, threads, times, peak_rss, **fields)


def moons_tensor(threads, steps):
    X, y = make_moons()
    x = torch.tensor(X, dtype=torch.float64)
    y = torch.tensor(y, dtype=torch.float64).reshape(100, 1)
    g = torch.Generator().manual_seed(0)
    model = Dense([2, 16, 16, 1], torch.relu, lambda _: 1.0, torch.float64, g)

    def step():
        scores = model(x)
        data_loss = (1 - y * scores).relu().mean()
        reg_loss = 1e-4 * sum((p * p).sum() for p in model.parameters())
        (data_loss + reg_loss).backward()
        model.sgd_step(0.05)

    run("moons-tensor", "float64", threads, steps or 1000, 20, step)


def mlp_784(threads, steps):
    sizes, batch = [784, 512, 512, 10], 256
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 784, generator=g)
    labels = torch.randint(0, 10, (batch,), generator=g)
    model = Dense(sizes, torch.tanh, lambda n: 1 / math.sqrt(n), torch.float32, g)

    def step():
        F.cross_entropy(model(x), labels).backward()
        model.sgd_step(0.01)

    flops = sum(3 * 2 * batch * a * b for a, b in zip(sizes, sizes[1:]))
    run("mlp-784", "float32", threads, steps or 50, 5, step, flops=flops)


def gemm_1024(threads, steps):
    n = 1024
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(n, n, generator=g), torch.randn(n, n, generator=g)

    def step():
        c = a @ b
        assert c.numel() == n * n

    run("gemm-1024", "float32", threads, steps or 20, 2, step, flops=2 * n ** 3)


def fashion_mlp_epoch(threads, steps):
    samples, features, batch = 60_000, 784, 64
    g = torch.Generator().manual_seed(0)
    images = torch.randn(samples, features, generator=g)
    labels = torch.randint(0, 10, (samples,), generator=g)
    model = Dense([784, 256, 128, 10], torch.relu, lambda n: 1 / math.sqrt(n), torch.float32, g)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    shuffle = torch.Generator().manual_seed(1)

    def batches(limit):
        order = torch.randperm(samples, generator=shuffle)
        for done, start in enumerate(range(0, samples, batch)):
            if done >= limit:
                break
            index = order[start:start + batch]
            x, target = images[index], labels[index]
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), target).backward()
            optimizer.step()

    run("fashion-mlp-epoch", "float32", threads, steps or 1, 1, lambda: batches(math.inf),
        warm_up_step=lambda: batches(50), data="synthetic", step_unit="epoch",
        batches_per_step=(samples + batch - 1) // batch)


WORKLOADS = {
    "moons-tensor": moons_tensor,
    "mlp-784": mlp_784,
    "gemm-1024": gemm_1024,
    "fashion-mlp-epoch": fashion_mlp_epoch,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*")
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    names = list(WORKLOADS) if args.all else args.workloads
    if not names:
        parser.error("name a workload or pass --all")
    torch.set_num_threads(args.threads)
    for name in names:
        if name not in WORKLOADS:
            parser.error(f"unknown workload {name!r}; known: {', '.join(WORKLOADS)}")
        WORKLOADS[name](torch.get_num_threads(), args.steps)


if __name__ == "__main__":
    main()
