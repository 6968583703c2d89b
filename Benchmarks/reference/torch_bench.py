"""The tensor workloads of the Swift `bench` tool in PyTorch on the CPU, written as a PyTorch user would.

    python torch_bench.py WORKLOAD... [--steps N] [--threads N]

Workloads: moons-tensor (float64), mlp-784, gemm-1024, fashion-mlp-epoch, charlm, cnn-fashion, charlm-1024,
attention-1024 (float32), and numpy-gemm-1024,
the same product in numpy (its own OpenBLAS), whose 2-thread/1-thread scaling is the machine's ceiling for
mlp-784's. Each does the work
of the Swift workload of the same name: the same shapes, `nn.Linear` layers (weights [out, in], applied
as x·Wᵀ + b), the same loss, the same `torch.optim` optimizer, and `optimizer.zero_grad()` (gradients
set to None) before each forward pass, as the Swift side's `optimizer.zeroGrad()` sets them to nil.
Prints one JSON line per workload with the keys of `bench`; `torch.set_num_threads(--threads)`. The blas_*
keys describe the BLAS that ran it (PyTorch's from torch.__config__, numpy's from threadpoolctl), and
`threadpools` lists threadpoolctl.threadpool_info(): every BLAS/OpenMP pool loaded, with its threads.
"""

import argparse
import gzip
import math
import os
import re
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from threadpoolctl import threadpool_info, threadpool_limits

import benchlib

sys.path.insert(0, os.path.dirname(__file__))
from micrograd_bench import make_moons  # noqa: E402  the same moons data

# Where Debian's dataset-fashion-mnist puts the IDX files; the Swift side reads the same directory.
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"


def mlp(sizes, activation, dtype):
    """nn.Linear layers with `activation` after every one but the last (PyTorch's default init)."""
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


def threadpools():
    """threadpoolctl's view of the process: each loaded BLAS or OpenMP library (named by its package
    folder and file), its version, kernel ("architecture", OpenBLAS's core name) and thread count."""
    keys = ("user_api", "internal_api", "version", "architecture", "threading_layer", "num_threads")
    pools = []
    for pool in threadpool_info():
        path = pool.get("filepath") or ""
        entry = {"library": os.path.join(os.path.basename(os.path.dirname(path)), os.path.basename(path))}
        entry.update({k: pool[k] for k in keys if k in pool})
        pools.append(entry)
    return pools


def blas_fields(engine):
    """The blas_* keys of `bench` for the library that does the products: numpy's OpenBLAS (the pool
    threadpoolctl finds under numpy.libs) or PyTorch's BLAS (MKL in the PyPI wheels, linked statically, so
    threadpoolctl does not see it: its name and version come from torch.__config__, and the kernel level is
    ATen's CPU capability; MKL chooses its own code path and does not report it)."""
    pools = threadpools()
    if engine == "numpy":
        blas = [p for p in pools if p.get("user_api") == "blas"]
        blas = next((p for p in blas if p["library"].startswith("numpy")), blas[0] if blas else {})
        return {"blas_version": f"{blas.get('internal_api', '?')} {blas.get('version', '?')}",
                "blas_core": blas.get("architecture") or "?",
                "blas_config": f"numpy {np.__version__}, {blas.get('library', '?')}",
                "blas_threads": blas.get("num_threads"), "blas_correction": "none", "threadpools": pools}
    config = torch.__config__.show()
    blas_info = re.search(r"BLAS_INFO=(\w+)", config)
    mkl = re.search(r"Math Kernel Library Version ([\d.]+)", config)
    name = blas_info.group(1) if blas_info else "?"
    version = f"{name} {mkl.group(1)}" if name == "mkl" and mkl else name
    return {"blas_version": version, "blas_core": f"ATen {torch.backends.cpu.get_cpu_capability()}",
            "blas_config": f"torch {torch.__version__} BLAS_INFO={name}",
            "blas_threads": torch.get_num_threads(), "blas_correction": "none", "threadpools": pools}


def run(name, dtype, threads, steps, warm_up, step, warm_up_step=None, flops=None, extra=None, engine="pytorch"):
    benchlib.reset_peak_rss()
    for _ in range(warm_up):
        (warm_up_step or step)()
    times = benchlib.time_steps(step, steps)
    peak_rss = benchlib.peak_rss_bytes()
    fields = dict(extra() if extra else {})
    if flops is not None:
        fields["gflops"] = flops / (statistics.median(times) * 1e-6) / 1e9
    fields.update(blas_fields(engine))
    benchlib.emit(name, engine, dtype, threads, times, peak_rss, **fields)


def moons_tensor(threads, steps):
    """micrograd's demo step on the whole batch: MLP(2, [16, 16, 1]) with micrograd's U(-1, 1) weights
    and zero biases, hinge loss + 1e-4·Σp², SGD lr 0.05."""
    X, y = make_moons()
    x = torch.tensor(X, dtype=torch.float64)
    y = torch.tensor(y, dtype=torch.float64).reshape(100, 1)
    torch.manual_seed(0)
    model = mlp([2, 16, 16, 1], nn.ReLU, torch.float64)
    with torch.no_grad():
        for layer in model:
            if isinstance(layer, nn.Linear):
                layer.weight.uniform_(-1, 1)
                layer.bias.zero_()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    alpha = 1e-4

    def step():
        optimizer.zero_grad()
        scores = model(x)
        data_loss = (1 - y * scores).relu().mean()
        reg_loss = alpha * sum((p * p).sum() for p in model.parameters())
        total_loss = data_loss + reg_loss
        total_loss.backward()
        optimizer.step()

    run("moons-tensor", "float64", threads, steps or 1000, 2000, step)  # as many warm-up steps as Swift's


def mlp_784(threads, steps):
    sizes, batch = [784, 512, 512, 10], 256
    torch.manual_seed(0)
    x = torch.randn(batch, 784)
    labels = torch.randint(0, 10, (batch,))
    model = mlp(sizes, nn.Tanh, torch.float32)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
        optimizer.step()

    # Forward and ∂W products for every layer, ∂input for all but the first (autograd skips the data's).
    layers = list(zip(sizes, sizes[1:]))
    flops = sum((2 if i == 0 else 3) * 2 * batch * a * b for i, (a, b) in enumerate(layers))
    run("mlp-784", "float32", threads, steps or 50, 5, step, flops=flops)


def gemm_1024(threads, steps):
    n = 1024
    torch.manual_seed(0)
    a, b = torch.randn(n, n), torch.randn(n, n)

    def step():
        c = a @ b
        assert c.numel() == n * n

    run("gemm-1024", "float32", threads, steps or 20, 2, step, flops=2 * n ** 3)


def numpy_gemm_1024(threads, steps):
    """gemm-1024 in numpy (float32 sgemm through numpy's own OpenBLAS) on `threads` threads: run with 1
    and with 2, it gives the scaling the machine allows for a product, the ceiling mlp-784's is held to."""
    n = 1024
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)

    def step():
        c = a @ b
        assert c.size == n * n

    with threadpool_limits(limits=threads, user_api="blas"):
        run("numpy-gemm-1024", "float32", threads, steps or 20, 2, step, flops=2 * n ** 3, engine="numpy")


def read_idx(path):
    """An IDX file (gzip-compressed or not) as a numpy array of its shape (unsigned bytes)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes")
    rank = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(shape)


def training_images(samples):
    """Fashion-MNIST's training set as uint8 [60000, 784] and labels when installed, else synthetic
    float pixels in [0, 1) of the same shape; the source name for the JSON line."""
    def find(name):
        for candidate in (os.path.join(FASHION_MNIST_DIR, name + ".gz"), os.path.join(FASHION_MNIST_DIR, name)):
            if os.path.exists(candidate):
                return candidate
        return None

    images_path, labels_path = find("train-images-idx3-ubyte"), find("train-labels-idx1-ubyte")
    if images_path and labels_path:
        images = torch.from_numpy(read_idx(images_path).reshape(-1, 784).copy())
        labels = torch.from_numpy(read_idx(labels_path).astype(np.int64))
        return images, labels, "fashion-mnist"
    g = torch.Generator().manual_seed(42)
    return torch.rand(samples, 784, generator=g), torch.randint(0, 10, (samples,), generator=g), "synthetic"


def fashion_mlp_epoch(threads, steps):
    """One training epoch of the Fashion-MNIST example: MLP 784-256-128-10 ReLU, Adam lr 1e-3, batch 64,
    a new shuffled order each epoch, pixels scaled to [0, 1], the loss read each batch."""
    batch = 64
    images, labels, source = training_images(60_000)
    samples = len(labels)
    torch.manual_seed(0)
    model = mlp([784, 256, 128, 10], nn.ReLU, torch.float32)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    first_epoch_loss = []  # the mean loss of the first whole (timed) epoch, to check against Swift's

    def train(batch_limit):
        order = torch.randperm(samples)
        loss_sum, seen = 0.0, 0
        for done, start in enumerate(range(0, samples, batch)):
            if done >= batch_limit:
                break
            index = order[start:start + batch]
            x = images[index].to(torch.float32) / 255 if images.dtype == torch.uint8 else images[index]
            target = labels[index]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), target)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(index)
            seen += len(index)
        if batch_limit == math.inf and not first_epoch_loss:
            first_epoch_loss.append(loss_sum / max(seen, 1))

    run("fashion-mlp-epoch", "float32", threads, steps or 1, 1, lambda: train(math.inf),
        warm_up_step=lambda: train(50),
        extra=lambda: {"data": source, "step_unit": "epoch",
                       "batches_per_step": (samples + batch - 1) // batch, "mean_loss": first_epoch_loss[0]})


def charlm(threads, steps, context=64, batch=32, name="charlm", default_steps=20):
    """One training step of char-lm's defaults (char_lm_torch.py's model: vocabulary 128, context 64, 4 layers,
    4 heads, width 128, exact GELU, biases, a separate lm_head, PyTorch's default init) on a fixed batch of 32
    random sequences: AdamW lr 1e-3 betas (0.9, 0.99) with weight decay 0.1 on matrices only, no clipping.
    charlm-1024 is the same at context 1024, batch 2 (the same 2048 tokens a step)."""
    from char_lm_torch import GPT, adamw

    vocab, layers, width = 128, 4, 128
    torch.manual_seed(0)
    x = torch.randint(0, vocab, (batch, context))
    y = torch.randint(0, vocab, (batch, context))
    model = GPT(vocab, context, layers, 4, width, bias=True, tie=False, gelu="none", init="torch")
    optimizer = adamw(model)
    cpu_times = []  # thread CPU time per step, warm-up included (µs), as cnn_fashion's

    def step():
        start = time.thread_time_ns()
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x).view(-1, vocab), y.view(-1))
        loss.backward()
        optimizer.step()
        cpu_times.append((time.thread_time_ns() - start) / 1000)

    # The same count as the Swift workload: linear layers 24·N·C² and attention 4·B·T²·C per block,
    # lm_head 2·N·C·V, and backward twice the forward.
    n = batch * context
    flops = 3 * (layers * (24 * n * width ** 2 + 4 * batch * context ** 2 * width) + 2 * n * width * vocab)
    run(name, "float32", threads, steps or default_steps, 3, step, flops=flops,
        extra=lambda: {"cpu_median_us": statistics.median(cpu_times)})


def charlm_1024(threads, steps):
    charlm(threads, steps, context=1024, batch=2, name="charlm-1024", default_steps=10)


def attention_1024(threads, steps):
    """Causal attention alone, forward and backward: q, k, v [2, 4, 1024, 32] (float32),
    F.scaled_dot_product_attention(q, k, v, is_causal=True) with a fixed upstream gradient. GFLOP/s count
    the products on the causal half: q·kᵀ and p·v forward, twice that backward."""
    batch, heads, context, depth = 2, 4, 1024, 32
    torch.manual_seed(0)
    shape = (batch, heads, context, depth)
    q, k, v = (torch.randn(shape, requires_grad=True) for _ in range(3))
    upstream = torch.randn(shape)
    cpu_times = []

    def step():
        start = time.thread_time_ns()
        for t in (q, k, v):
            t.grad = None
        F.scaled_dot_product_attention(q, k, v, is_causal=True).backward(upstream)
        cpu_times.append((time.thread_time_ns() - start) / 1000)

    flops = 3 * 2 * context * context * depth * batch * heads
    run("attention-1024", "float32", threads, steps or 20, 3, step, flops=flops,
        extra=lambda: {"cpu_median_us": statistics.median(cpu_times)})


def cnn_fashion(threads, steps):
    """One Adam step (lr 1e-3) of the Fashion-MNIST example's CNN on a batch of 64, float32:
    conv(1→32, 3×3, pad 1), ReLU, maxpool 2, conv(32→64, 3×3, pad 1), ReLU, maxpool 2, flatten,
    linear(3136→128), ReLU, linear(128→10), cross-entropy. The batches are the first 16 × 64 training
    images scaled to [0, 1] (or synthetic ones), built before timing; steps cycle through them."""
    batch, count = 64, 16
    images, labels, source = training_images(batch * count)
    images = images[:batch * count]
    x_all = images.to(torch.float32) / 255 if images.dtype == torch.uint8 else images
    batches = [(x_all[b * batch:(b + 1) * batch].reshape(batch, 1, 28, 28).contiguous(),
                labels[b * batch:(b + 1) * batch]) for b in range(count)]
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    position = [0]
    cpu_times = []  # thread CPU time per step, warm-up included (µs): less sensitive to a busy machine

    def step():
        start = time.thread_time_ns()
        timed_step()
        cpu_times.append((time.thread_time_ns() - start) / 1000)

    def timed_step():
        x, target = batches[position[0]]
        position[0] = (position[0] + 1) % count
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), target)
        loss.backward()
        optimizer.step()

    # Forward and ∂W per convolution, ∂input for the second; forward, ∂W and ∂input per linear layer.
    conv1, conv2 = 2 * batch * 32 * 9 * 28 * 28, 2 * batch * 64 * 288 * 14 * 14
    fc1, fc2 = 2 * batch * 3136 * 128, 2 * batch * 128 * 10
    flops = 2 * conv1 + 3 * conv2 + 3 * fc1 + 3 * fc2
    run("cnn-fashion", "float32", threads, steps or 30, 5, step, flops=flops,
        extra=lambda: {"data": source, "batch": batch, "mkldnn": torch.backends.mkldnn.is_available(),
                       "cpu_median_us": statistics.median(cpu_times)})


WORKLOADS = {
    "moons-tensor": moons_tensor,
    "mlp-784": mlp_784,
    "gemm-1024": gemm_1024,
    "fashion-mlp-epoch": fashion_mlp_epoch,
    "numpy-gemm-1024": numpy_gemm_1024,
    "charlm": charlm,
    "cnn-fashion": cnn_fashion,
    "charlm-1024": charlm_1024,
    "attention-1024": attention_1024,
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
