"""PyTorch twin of Examples/pinn: the physics-informed Poisson solver, step for step the same problem.

-Laplace(u) = 2 pi^2 sin(pi x) sin(pi y) on the unit square, u = x(1-x) y(1-y) N(x, y) with N an MLP
2-32-32-32-1 with tanh and PyTorch's default initialisation, Adam (lr 1e-3), 1024 fresh uniform
interior points per step, loss mean((u_xx + u_yy + f)^2) in float64; u_xx and u_yy by
torch.autograd.grad with create_graph=True. Prints one JSON object like `pinn --json`, with
"workload": "pinn" and "engine": "pytorch" added for Benchmarks/compare.py.

Usage: python Benchmarks/reference/pinn_torch.py [--steps 3000] [--seed 0] [--threads 1]
"""
import argparse
import json
import math
import time

import torch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("workload", nargs="?", default="pinn")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    dtype = torch.float64
    net = torch.nn.Sequential(
        torch.nn.Linear(2, 32), torch.nn.Tanh(), torch.nn.Linear(32, 32), torch.nn.Tanh(),
        torch.nn.Linear(32, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1)).to(dtype)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)

    def solution(x, y):
        return x * (1 - x) * y * (1 - y) * net(torch.cat([x, y], dim=1))

    loss_value = float("nan")
    start = time.perf_counter()
    for _ in range(args.steps):
        x = torch.rand(1024, 1, dtype=dtype, requires_grad=True)
        y = torch.rand(1024, 1, dtype=dtype, requires_grad=True)
        u = solution(x, y)
        ux, uy = torch.autograd.grad(u.sum(), [x, y], create_graph=True)
        (uxx,) = torch.autograd.grad(ux.sum(), x, create_graph=True)
        (uyy,) = torch.autograd.grad(uy.sum(), y, create_graph=True)
        f = 2 * math.pi ** 2 * torch.sin(math.pi * x.detach()) * torch.sin(math.pi * y.detach())
        loss = ((uxx + uyy + f) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_value = loss.item()
    ms_per_step = (time.perf_counter() - start) * 1000 / max(args.steps, 1)

    with torch.no_grad():
        n = 101
        c = torch.linspace(0, 1, n, dtype=dtype)
        gy, gx = torch.meshgrid(c, c, indexing="ij")
        xs, ys = gx.reshape(-1, 1), gy.reshape(-1, 1)
        u = solution(xs, ys)
        exact = torch.sin(math.pi * xs) * torch.sin(math.pi * ys)
        error = (torch.linalg.norm(u - exact) / torch.linalg.norm(exact)).item()
    print(json.dumps({
        "workload": "pinn", "engine": "pytorch", "threads": args.threads, "steps": args.steps,
        "relative_l2_error": error, "final_loss": loss_value, "ms_per_step": ms_per_step,
        "median_us": ms_per_step * 1000, "torch_version": torch.__version__}))


if __name__ == "__main__":
    main()
