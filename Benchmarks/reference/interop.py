"""Interoperability checks between Awesomegrad and the reference `safetensors` package / PyTorch.

Run by `make interop` in the reference venv (Benchmarks/reference/.venv):

    python Benchmarks/reference/interop.py --checkpoint PATH/TO/checkpoint [--only NAME ...]

Each check is a function registered with @check; it raises CheckFailed (or any exception) to fail.
The script prints `PASS name` or `FAIL name: why` per check, and exits with status 1 if any failed.
New checks (the model-level ones) are added the same way: write a function taking the Context.
"""

import argparse
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import traceback

try:
    import numpy as np
    import safetensors
    import safetensors.torch
    import torch
except ImportError as error:  # the venv predates safetensors in requirements.txt
    sys.exit(f"interop.py needs numpy, torch and safetensors ({error}); "
             "run: Benchmarks/reference/.venv/bin/pip install -r Benchmarks/reference/requirements.txt")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "Tests", "AwesomegradTests", "Fixtures", "safetensors")

CHECKS = []


class CheckFailed(Exception):
    pass


def check(function):
    """Registers a check; its name is the function's name with dashes."""
    CHECKS.append((function.__name__.replace("_", "-"), function))
    return function


class Context:
    """What checks share: the `checkpoint` tool and a scratch directory."""

    def __init__(self, checkpoint, scratch, fashion_mnist=None, data=None):
        self.checkpoint = checkpoint
        self.scratch = scratch
        self.fashion_mnist = fashion_mnist
        self.data = data

    def path(self, name):
        return os.path.join(self.scratch, name)

    def run(self, *args):
        """Runs the checkpoint tool; returns (status, stdout, stderr)."""
        done = subprocess.run([self.checkpoint, *args], capture_output=True, text=True)
        return done.returncode, done.stdout, done.stderr

    def inspect_json(self, path):
        status, out, err = self.run("inspect", "--json", path)
        if status != 0:
            raise CheckFailed(f"checkpoint inspect --json {os.path.basename(path)} exited {status}: {err.strip()}")
        return json.loads(out)


# MARK: - Reference data

TORCH_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool,
}


def random_tensors(seed=0):
    """Tensors of every dtype with awkward values: NaN, ±inf, −0, the smallest subnormal, the
    extremes of each integer type, a rank-0 tensor and an empty one."""
    g = torch.Generator().manual_seed(seed)
    tensors = {}
    for name, dtype in TORCH_DTYPES.items():
        if dtype.is_floating_point:
            t = torch.randn(3, 5, generator=g, dtype=torch.float64).to(dtype)
            info = torch.finfo(dtype)
            special = [math.nan, math.inf, -math.inf, -0.0, info.smallest_normal * 2.0 ** -(info.bits // 4), info.max]
            special = torch.tensor(special, dtype=torch.float64).to(dtype)
            t.view(-1)[: len(special)] = special
        elif dtype == torch.bool:
            t = torch.randint(0, 2, (4, 2), generator=g).bool()
        else:
            info = torch.iinfo(dtype)
            t = torch.randint(max(info.min, -1000), min(info.max, 1000), (2, 3, 2), generator=g, dtype=torch.int64).to(dtype)
            t.view(-1)[0], t.view(-1)[1] = info.min, info.max
        tensors[f"layers.{len(tensors)}.{name.lower()}"] = t
    tensors["scalar.f32"] = torch.tensor(-2.5, dtype=torch.float32)
    tensors["empty.f64"] = torch.zeros(0, 7, dtype=torch.float64)
    return tensors


METADATA = {"format": "pt", "note": "unicode é ✓ and \"quotes\"\nnewline"}


def as_float64(values):
    """A flat float64 array of any tensor or list (BF16 goes through float32, exactly)."""
    if isinstance(values, torch.Tensor):
        t = values.detach()
        if t.dtype == torch.bfloat16 or t.dtype == torch.float16:
            t = t.float()
        return t.reshape(-1).double().numpy() if t.dtype != torch.bool else t.reshape(-1).numpy().astype(np.float64)
    return np.asarray(values, dtype=np.float64).reshape(-1)


def same_values(a, b):
    """Bit-for-bit equal as float64, NaN equal to NaN, −0 distinct from +0."""
    a, b = as_float64(a), as_float64(b)
    if a.shape != b.shape:
        return False
    nan = np.isnan(a)
    return bool(np.array_equal(nan, np.isnan(b))
                and np.array_equal(a[~nan], b[~nan])
                and np.array_equal(np.signbit(a[~nan]), np.signbit(b[~nan])))


def compare_with_json(expected, report, where):
    """expected: {name: torch.Tensor}; report: the JSON of `checkpoint inspect --json`."""
    names = set(report["tensors"])
    if names != set(expected):
        raise CheckFailed(f"{where}: names differ: {sorted(names ^ set(expected))}")
    for name, tensor in expected.items():
        entry = report["tensors"][name]
        want_dtype = next(k for k, v in TORCH_DTYPES.items() if v == tensor.dtype)
        if entry["dtype"] != want_dtype:
            raise CheckFailed(f"{where}: {name}: dtype {entry['dtype']}, expected {want_dtype}")
        if entry["shape"] != list(tensor.shape):
            raise CheckFailed(f"{where}: {name}: shape {entry['shape']}, expected {list(tensor.shape)}")
        if tensor.dtype == torch.int64:  # exact beyond 2^53: compare as integers
            if [int(v) for v in entry["values"]] != tensor.reshape(-1).tolist():
                raise CheckFailed(f"{where}: {name}: I64 values differ")
        elif not same_values(tensor, entry["values"]):
            raise CheckFailed(f"{where}: {name}: values differ")


# MARK: - Checks

@check
def swift_reads_pytorch_fixture(ctx):
    """The PyTorch-written fixture: the tool's JSON equals what safetensors.torch loads."""
    path = os.path.join(FIXTURES, "tensors.safetensors")
    report = ctx.inspect_json(path)
    compare_with_json(safetensors.torch.load_file(path), report, "tensors.safetensors")
    with safetensors.safe_open(path, framework="pt") as f:
        if report["metadata"] != f.metadata():
            raise CheckFailed(f"metadata {report['metadata']} != {f.metadata()}")


@check
def swift_reads_python_written(ctx):
    """Every dtype with NaN, ±inf, −0, subnormals and integer extremes, written by safetensors.torch."""
    path = ctx.path("from_python.safetensors")
    tensors = random_tensors()
    safetensors.torch.save_file(tensors, path, metadata=METADATA)
    report = ctx.inspect_json(path)
    compare_with_json(tensors, report, "from_python.safetensors")
    if report["metadata"] != METADATA:
        raise CheckFailed(f"metadata {report['metadata']!r} != {METADATA!r}")


@check
def python_reads_swift_written(ctx):
    """A file written by Awesomegrad's writer (checkpoint convert) loads in safetensors.torch and
    safetensors.numpy with equal values: F32/F64 kept, F16/BF16 as F32, integers as I64, BOOL kept."""
    source, written = ctx.path("from_python.safetensors"), ctx.path("from_swift.safetensors")
    tensors = random_tensors()
    safetensors.torch.save_file(tensors, source, metadata=METADATA)
    status, _, err = ctx.run("convert", source, written)
    if status != 0:
        raise CheckFailed(f"checkpoint convert exited {status}: {err.strip()}")
    loaded = safetensors.torch.load_file(written)
    if set(loaded) != set(tensors):
        raise CheckFailed(f"names differ: {sorted(set(loaded) ^ set(tensors))}")
    expected_dtype = {torch.float16: torch.float32, torch.bfloat16: torch.float32, torch.int32: torch.int64,
                      torch.int16: torch.int64, torch.int8: torch.int64, torch.uint8: torch.int64}
    for name, original in tensors.items():
        got = loaded[name]
        if got.dtype != expected_dtype.get(original.dtype, original.dtype):
            raise CheckFailed(f"{name}: dtype {got.dtype} from {original.dtype}")
        if got.shape != original.shape:
            raise CheckFailed(f"{name}: shape {tuple(got.shape)} != {tuple(original.shape)}")
        if original.dtype.is_floating_point or original.dtype == torch.bool:
            if not same_values(original, got):
                raise CheckFailed(f"{name}: values differ")
        elif got.reshape(-1).tolist() != original.to(torch.int64).reshape(-1).tolist():
            raise CheckFailed(f"{name}: integer values differ")
    with safetensors.safe_open(written, framework="np") as f:
        if f.metadata() != METADATA:
            raise CheckFailed(f"metadata {f.metadata()!r} != {METADATA!r}")
        array = f.get_tensor("layers.1.f32")
        if array.dtype != np.float32 or not same_values(tensors["layers.1.f32"], array):
            raise CheckFailed("safetensors.numpy: layers.1.f32 differs")


@check
def swift_file_layout(ctx):
    """The writer's layout: header length a multiple of 8, padded with spaces, data offsets tiling the
    data from 0 to the end, every tensor aligned to its element size."""
    path = ctx.path("layout.safetensors")
    status, _, err = ctx.run("convert", os.path.join(FIXTURES, "tensors.safetensors"), path)
    if status != 0:
        raise CheckFailed(f"checkpoint convert exited {status}: {err.strip()}")
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header_bytes = data[8:8 + n]
    if n % 8 != 0:
        raise CheckFailed(f"header length {n} is not a multiple of 8")
    stripped = header_bytes.rstrip(b" ")
    if not stripped.endswith(b"}") or len(header_bytes) - len(stripped) >= 8:
        raise CheckFailed("header is not padded with fewer than 8 spaces")
    header = json.loads(header_bytes)
    header.pop("__metadata__", None)
    sizes = {"F64": 8, "I64": 8, "F32": 4, "BOOL": 1}
    end = 0
    for name, info in sorted(header.items(), key=lambda item: tuple(item[1]["data_offsets"])):
        begin, stop = info["data_offsets"]
        if begin != end:
            raise CheckFailed(f"{name} begins at {begin}, the previous tensor ends at {end}")
        if begin % sizes[info["dtype"]] != 0:
            raise CheckFailed(f"{name} ({info['dtype']}) begins at {begin}, not aligned")
        end = stop
    if end != len(data) - 8 - n:
        raise CheckFailed(f"offsets end at {end}, the data has {len(data) - 8 - n} bytes")


@check
def malformed_rejected_by_both(ctx):
    """Every malformed fixture is rejected by the reference reader and by the tool (status 1, one line)."""
    directory = os.path.join(FIXTURES, "malformed")
    names = sorted(name for name in os.listdir(directory) if name.endswith(".safetensors"))
    if not names:
        raise CheckFailed("no malformed fixtures found")
    for name in names:
        path = os.path.join(directory, name)
        try:
            safetensors.torch.load_file(path)
            raise CheckFailed(f"{name}: the reference reader accepted it")
        except CheckFailed:
            raise
        except Exception:
            pass
        status, out, err = ctx.run("inspect", path)
        if status != 1 or out or len(err.strip().splitlines()) != 1:
            raise CheckFailed(f"{name}: exit {status}, stdout {out!r}, stderr {err!r}")


# MARK: - Models: the fashion MLP both ways

FASHION_DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    """An IDX file (gzip'd) as a numpy array, as the example reads it."""
    import gzip
    with gzip.open(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = struct.unpack(">" + "I" * dims, raw[4:4 + 4 * dims])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion_split(ctx, prefix):
    """Images as float32 in [0, 1], flattened (the example's default preprocessing), and labels."""
    images = read_idx(os.path.join(ctx.data, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(ctx.data, f"{prefix}-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255)
    return x, torch.from_numpy(labels.astype(np.int64))


class FashionMLP(torch.nn.Module):
    """The example's MLP as PyTorch holds it: nn.Sequential in an attribute `layers`, so the
    state-dict names are layers.0.weight … layers.4.bias."""

    def __init__(self):
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128), torch.nn.ReLU(),
            torch.nn.Linear(128, 10))

    def forward(self, x):
        return self.layers(x)


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).double().mean().item()


def run_fashion(ctx, *args):
    done = subprocess.run([ctx.fashion_mnist, "--data", ctx.data, "--json", *args], capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise CheckFailed(f"fashion-mnist {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def need_fashion(ctx):
    if not ctx.fashion_mnist:
        raise CheckFailed("pass --fashion-mnist PATH (make interop does)")
    if not os.path.isdir(ctx.data):
        raise CheckFailed(f"no Fashion-MNIST in {ctx.data}; run bash scripts/install-deps --fashion-mnist")


@check
def mlp_trained_here_same_accuracy_in_pytorch(ctx):
    """fashion-mnist trains one epoch and saves; PyTorch loads the file into nn.Sequential and gets
    the same test accuracy."""
    need_fashion(ctx)
    path = ctx.path("swift-mlp.safetensors")
    report = run_fashion(ctx, "--epochs", "1", "--save", path)
    model = FashionMLP()
    model.load_state_dict(safetensors.torch.load_file(path))
    x, y = fashion_split(ctx, "t10k")
    torch_accuracy = accuracy(model, x, y)
    print(f"  Swift test accuracy {report['test_accuracy']:.4f}, PyTorch on the same weights "
          f"{torch_accuracy:.4f}")
    if abs(torch_accuracy - report["test_accuracy"]) > 1e-4:  # at most one image of 10,000
        raise CheckFailed(f"accuracies differ: {report['test_accuracy']} vs {torch_accuracy}")


@check
def mlp_trained_in_pytorch_same_accuracy_here(ctx):
    """PyTorch trains the same MLP (Adam, batch 64, one epoch) and saves with safetensors;
    fashion-mnist --epochs 0 --load evaluates it and gets PyTorch's test accuracy."""
    need_fashion(ctx)
    torch.manual_seed(0)
    model = FashionMLP()
    x, y = fashion_split(ctx, "train")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    order = torch.randperm(len(x))
    for start in range(0, len(x), 64):
        batch = order[start:start + 64]
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
        optimizer.step()
    tx, ty = fashion_split(ctx, "t10k")
    torch_accuracy = accuracy(model, tx, ty)
    path = ctx.path("torch-mlp.safetensors")
    safetensors.torch.save_file(model.state_dict(), path)
    report = run_fashion(ctx, "--epochs", "0", "--load", path)
    print(f"  PyTorch test accuracy {torch_accuracy:.4f}, Swift on the same weights "
          f"{report['test_accuracy']:.4f}")
    if abs(torch_accuracy - report["test_accuracy"]) > 1e-4:
        raise CheckFailed(f"accuracies differ: {torch_accuracy} vs {report['test_accuracy']}")


# MARK: - Main

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True, help="the built `checkpoint` executable")
    parser.add_argument("--only", nargs="*", help="run only these checks")
    parser.add_argument("--fashion-mnist", help="the built `fashion-mnist` example, for the model checks")
    parser.add_argument("--data", default=FASHION_DATA, help="the Fashion-MNIST IDX directory")
    args = parser.parse_args()
    failed = 0
    with tempfile.TemporaryDirectory(prefix="awesomegrad-interop-") as scratch:
        context = Context(args.checkpoint, scratch, args.fashion_mnist, args.data)
        for name, function in CHECKS:
            if args.only and name not in args.only:
                continue
            try:
                function(context)
                print(f"PASS {name}", flush=True)
            except CheckFailed as error:
                failed += 1
                print(f"FAIL {name}: {error}", flush=True)
            except Exception as error:  # a bug in the check or a crash: still one line
                failed += 1
                last = traceback.extract_tb(error.__traceback__)[-1]
                print(f"FAIL {name}: {type(error).__name__}: {error} (line {last.lineno})", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
