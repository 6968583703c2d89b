"""Writes reference forward values and gradients computed by PyTorch (float64, CPU) for a battery of tensor
ops. Each case: op name, attributes, inputs (shape + row-major data), an upstream gradient for the output,
the output, and the gradient of sum(output * upstream) with respect to every floating-point input.
Usage: python make_torch_fixtures.py SEED OUT.json

The case names, ops and attributes are the same for every seed; the seed picks the sizes of the axes and
the values. `swift run -c release conformance OUT.json` compares Awesomegrad with the file.
"""

import json
import random
import sys

import torch
import torch.nn.functional as F

DESCRIPTION = __doc__.split("\n\nThe case names")[0]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: python make_torch_fixtures.py SEED OUT.json")
    seed, out_path = int(sys.argv[1]), sys.argv[2]
    torch.manual_seed(seed)
    sizes = random.Random(seed)  # axis sizes; values come from torch's generator

    def size(low=2, high=6):
        return sizes.randint(low, high)

    def normal(*shape):
        return torch.randn(shape, dtype=torch.float64)

    def positive(*shape):  # away from 0, for log, sqrt, pow and denominators
        return torch.rand(shape, dtype=torch.float64) * 2.5 + 0.5

    def labels(high, *shape):
        return torch.randint(0, high, shape, dtype=torch.int64)

    cases = []

    def case(name, op, attrs, inputs, f):
        """Runs f on copies of inputs that require grad and records output, upstream and gradients."""
        leaves = [x.clone().requires_grad_(x.is_floating_point()) for x in inputs]
        output = f(*leaves)
        upstream = normal(*output.shape)
        grads = None
        floats = [x for x in leaves if x.is_floating_point()]
        if floats:
            computed = torch.autograd.grad(output, floats, grad_outputs=upstream, allow_unused=True)
            by_leaf = iter(computed)
            grads = []
            for x in leaves:
                if x.is_floating_point():
                    g = next(by_leaf)
                    grads.append(array(g if g is not None else torch.zeros_like(x)))
                else:
                    grads.append(None)
        cases.append({
            "name": name,
            "op": op,
            "attrs": attrs,
            "inputs": [array(x, with_dtype=True) for x in inputs],
            "output": array(output),
            "upstream": array(upstream),
            "grads": grads,
        })

    # Binary arithmetic with broadcasting.
    binary = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}
    for op, f in binary.items():
        second = positive if op == "div" else normal
        m, n = size(), size()
        case(f"{op}_same", op, {}, [normal(m, n), second(m, n)], f)
        m, n = size(), size()
        case(f"{op}_bcast_row", op, {}, [normal(m, n), second(n)], f)
        a, b, c = size(), size(), size()
        case(f"{op}_bcast_both", op, {}, [normal(a, 1, c), second(b, 1)], f)
        m, n = size(), size()
        case(f"{op}_scalar_tensor", op, {}, [normal(m, n), second()], f)

    # Matrix products.
    m, k, n, b = size(), size(), size(), size()
    case("matmul_2d", "matmul", {}, [normal(m, k), normal(k, n)], torch.matmul)
    case("matmul_batched", "matmul", {}, [normal(b, m, k), normal(b, k, n)], torch.matmul)
    case("matmul_bcast_batch", "matmul", {}, [normal(b, m, k), normal(k, n)], torch.matmul)
    case("matmul_vec", "matmul", {}, [normal(m, k), normal(k)], torch.matmul)

    # Elementwise functions.
    unary = [
        ("neg", normal, torch.neg),
        ("exp", normal, torch.exp),
        ("log", positive, torch.log),
        ("tanh", normal, torch.tanh),
        ("relu", normal, torch.relu),
        ("sigmoid", normal, torch.sigmoid),
        ("sqrt", positive, torch.sqrt),
        ("abs", normal, torch.abs),
        ("gelu", normal, F.gelu),
        ("gelu_tanh", normal, lambda x: F.gelu(x, approximate="tanh")),
        ("silu", normal, F.silu),
        ("softplus", normal, F.softplus),
    ]
    for op, make, f in unary:
        case(op, op, {}, [make(size(), size())], f)
    for exponent in (3.0, -1.0, 0.5):
        case(f"pow_{exponent}", "pow", {"exponent": exponent}, [positive(size(), size())],
             lambda x, e=exponent: torch.pow(x, e))
    case("leaky_relu", "leaky_relu", {"negative_slope": 0.1}, [normal(size(), size())],
         lambda x: F.leaky_relu(x, 0.1))

    # Reductions.
    def reduce(f, axes, keepdims):
        return lambda x: f(x) if axes is None else f(x, dim=axes, keepdim=keepdims)

    m, n = size(), size()
    case("sum_all", "sum", {"axes": None, "keepdims": False}, [normal(m, n)], torch.sum)
    case("sum_axis0", "sum", {"axes": [0], "keepdims": False}, [normal(size(), size())],
         reduce(torch.sum, [0], False))
    case("sum_axis1_keep", "sum", {"axes": [1], "keepdims": True}, [normal(size(), size())],
         reduce(torch.sum, [1], True))
    case("sum_axes02", "sum", {"axes": [0, 2], "keepdims": False}, [normal(size(), size(), size())],
         reduce(torch.sum, [0, 2], False))
    case("mean_all", "mean", {"axes": None, "keepdims": False}, [normal(size(), size())], torch.mean)
    case("mean_axis1", "mean", {"axes": [1], "keepdims": False}, [normal(size(), size())],
         reduce(torch.mean, [1], False))
    case("max_axis1", "max", {"axes": [1], "keepdims": False}, [normal(size(), size())],
         reduce(torch.amax, [1], False))
    case("max_all", "max", {"axes": None, "keepdims": False}, [normal(size(), size())], torch.max)
    case("var_axis1", "var", {"axes": [1], "keepdims": False, "unbiased": False}, [normal(size(), size())],
         lambda x: torch.var(x, dim=[1], keepdim=False, unbiased=False))
    case("softmax", "softmax", {"axis": -1}, [normal(size(), size())], lambda x: torch.softmax(x, -1))
    case("log_softmax", "log_softmax", {"axis": -1}, [normal(size(), size())],
         lambda x: torch.log_softmax(x, -1))
    case("logsumexp", "logsumexp", {"axis": -1, "keepdims": False}, [normal(size(), size())],
         lambda x: torch.logsumexp(x, -1, keepdim=False))

    # Losses.
    batch, classes = size(4, 10), size(2, 6)
    case("cross_entropy", "cross_entropy", {"reduction": "mean"}, [normal(batch, classes), labels(classes, batch)],
         lambda z, y: F.cross_entropy(z, y, reduction="mean"))
    m, n = size(), size()
    case("mse_loss", "mse_loss", {"reduction": "mean"}, [normal(m, n), normal(m, n)],
         lambda p, t: F.mse_loss(p, t, reduction="mean"))
    m, n = size(), size()
    targets = torch.rand(m, n, dtype=torch.float64)
    case("binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits", {"reduction": "mean"},
         [normal(m, n), targets], lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="mean"))

    # Shape ops.
    case("transpose", "transpose", {"axes": [1, 0]}, [normal(size(), size())], lambda x: x.transpose(1, 0))
    case("permute", "permute", {"axes": [2, 0, 1]}, [normal(size(), size(), size())],
         lambda x: x.permute(2, 0, 1))
    m, n = size(), size()
    case("reshape", "reshape", {"shape": [n, m]}, [normal(m, n)], lambda x: x.reshape(n, m))
    m = size()
    case("concat_axis1", "concat", {"axis": 1}, [normal(m, size()), normal(m, size())],
         lambda a, b: torch.cat([a, b], dim=1))
    case("slice_rows", "slice", {"axis": 0, "start": 1, "end": 3}, [normal(size(3, 6), size())],
         lambda x: x[1:3])

    # Layers.
    for name, stride, padding in (("conv2d_pad1", 1, 1), ("conv2d_stride2", 2, 0)):
        n, c, o, h, w = size(1, 3), size(1, 4), size(2, 5), size(5, 9), size(5, 9)
        case(name, "conv2d", {"stride": stride, "padding": padding},
             [normal(n, c, h, w), normal(o, c, 3, 3), normal(o)],
             lambda x, w_, b_, s=stride, p=padding: F.conv2d(x, w_, b_, stride=s, padding=p))
    for name, f in (("max_pool2d", F.max_pool2d), ("avg_pool2d", F.avg_pool2d)):
        shape = (size(1, 3), size(1, 4), 2 * size(2, 4), 2 * size(2, 4))
        case(name, name, {"kernel": 2, "stride": 2}, [normal(*shape)],
             lambda x, f=f: f(x, kernel_size=2, stride=2))
    m, n = size(), size()
    case("layer_norm", "layer_norm", {"eps": 1e-05}, [normal(m, n), normal(n), normal(n)],
         lambda x, w, b: F.layer_norm(x, (n,), w, b, eps=1e-5))
    vocabulary, dimension = size(5, 12), size()
    case("embedding", "embedding", {}, [normal(vocabulary, dimension), labels(vocabulary, size(), size())],
         lambda w, i: F.embedding(i, w))
    for name, causal in (("attention", False), ("attention_causal", True)):
        shape = (size(1, 3), size(1, 3), size(2, 6), size(2, 6))
        case(name, "scaled_dot_product_attention", {"causal": causal}, [normal(*shape) for _ in range(3)],
             lambda q, k, v, c=causal: F.scaled_dot_product_attention(q, k, v, is_causal=c))

    fixture = {
        "description": DESCRIPTION,
        "reference": f"torch {torch.__version__.split('+')[0]}, float64, CPU",
        "gradient_definition": "grads[i] = d/d(inputs[i]) of sum(output * upstream)",
        "seed": seed,
        "cases": cases,
    }
    with open(out_path, "w") as f:
        json.dump(fixture, f)


def array(x, with_dtype=False):
    """A tensor as {shape, data (row-major)}, plus its dtype for inputs."""
    x = x.detach()
    result = {"shape": list(x.shape), "data": x.reshape(-1).tolist()}
    if with_dtype:
        result["dtype"] = "int64" if x.dtype == torch.int64 else "float64"
    return result


if __name__ == "__main__":
    main()
