"""Second-order reference cases for the ops of the v1/v2 vocabularies that torch_ops_grad2_seed0.json
leaves out (leaky_relu, transpose, permute, concat, index_select, gather, tril, triu, maximum, minimum,
clamp, min, flip, nll_loss, l1_loss, adaptive_avg_pool2d, flatten, evaluation batch_norm, ...), in the
same format: per case the output, grads[i] = d/dx_i of sum(y * upstream) taken with create_graph=True,
and grads2[i] = d/dx_i of sum_j sum(grads[j] * directions[j]) (zeros where PyTorch returns None).
Inputs keep away from kinks (relu-like ops, clamp bounds, ties of max/min/maximum) by at least 0.05.

Usage (from the repository root, in Benchmarks/reference/.venv):
  python Benchmarks/reference/make_grad2_extra_fixture.py Tests/AwesomegradTests/Fixtures/torch_ops_grad2_extra_seed0.json
"""
import json
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(0)
D = torch.float64


def randn(*shape):
    return torch.randn(tuple(shape), dtype=D)


def away(x, points, margin=0.05):
    """x with every element at least `margin` from each of `points`."""
    for p in points:
        close = (x - p).abs() < margin
        x = torch.where(close, p + torch.sign(x - p + 1e-12) * (margin + (x - p).abs()), x)
    return x


def distinct(*shape, gap=0.1):
    """Values in random order, consecutive ones `gap` apart: unique maxima and minima."""
    n = 1
    for s in shape:
        n *= s
    return (torch.randperm(n).to(D) * gap - n * gap / 2).reshape(*shape)


CASES = [
    ("leaky_relu", "leaky_relu", {"negative_slope": 0.1}, lambda: [away(randn(3, 4), [0])],
     lambda x: F.leaky_relu(x[0], 0.1)),
    ("leaky_relu_of_square", "leaky_relu", {"negative_slope": 0.2}, lambda: [away(randn(4, 3), [0])],
     lambda x: F.leaky_relu(x[0], 0.2)),
    ("transpose_02", "transpose", {"axes": [0, 2]}, lambda: [randn(2, 3, 4)], lambda x: x[0].transpose(0, 2)),
    ("permute_201", "permute", {"axes": [2, 0, 1]}, lambda: [randn(2, 3, 4)], lambda x: x[0].permute(2, 0, 1)),
    ("concat_axis1", "concat", {"axis": 1}, lambda: [randn(3, 2), randn(3, 4)], lambda x: torch.cat(x, 1)),
    ("index_select_repeats", "index_select", {"axis": 1},
     lambda: [randn(3, 5), torch.tensor([4, 0, 4, 2])], lambda x: x[0].index_select(1, x[1])),
    ("gather_axis1", "gather", {"axis": 1},
     lambda: [randn(3, 4), torch.tensor([[0, 3], [1, 1], [2, 0]])], lambda x: torch.gather(x[0], 1, x[1])),
    ("tril", "tril", {"diagonal": 0}, lambda: [randn(2, 4, 4)], lambda x: x[0].tril(0)),
    ("triu_1", "triu", {"diagonal": 1}, lambda: [randn(3, 5)], lambda x: x[0].triu(1)),
    ("maximum_bcast", "maximum", {}, lambda: [distinct(3, 4), distinct(4) + 0.05],
     lambda x: torch.maximum(x[0], x[1])),
    ("minimum", "minimum", {}, lambda: [distinct(3, 4), distinct(3, 4) + 0.05],
     lambda x: torch.minimum(x[0], x[1])),
    ("clamp", "clamp", {"min": -0.5, "max": 0.5}, lambda: [away(randn(3, 4), [-0.5, 0.5])],
     lambda x: x[0].clamp(-0.5, 0.5)),
    ("min_axis1", "min", {"axes": [1], "keepdims": False}, lambda: [distinct(3, 4)],
     lambda x: x[0].amin(dim=1)),
    ("flip_01", "flip", {"axes": [0, 1]}, lambda: [randn(3, 4)], lambda x: x[0].flip([0, 1])),
    ("nll_loss_ignore", "nll_loss", {"reduction": "mean", "ignore_index": 1},
     lambda: [F.log_softmax(randn(5, 4), 1), torch.tensor([0, 1, 3, 2, 3])],
     lambda x: F.nll_loss(x[0], x[1], ignore_index=1)),
    ("l1_loss", "l1_loss", {"reduction": "mean"}, lambda: [randn(3, 4), randn(3, 4)],
     lambda x: F.l1_loss(x[0], x[1])),
    ("adaptive_avg_pool2d", "adaptive_avg_pool2d", {"output_size": [2, 3]}, lambda: [randn(2, 2, 5, 4)],
     lambda x: F.adaptive_avg_pool2d(x[0], (2, 3))),
    ("flatten_1_2", "flatten", {"start_dim": 1, "end_dim": 2}, lambda: [randn(2, 3, 2, 2)],
     lambda x: x[0].flatten(1, 2)),
    ("batch_norm_eval", "batch_norm", {"training": False, "eps": 1e-5},
     lambda: [randn(3, 2, 4), randn(2), randn(2), randn(2), randn(2).abs() + 0.5],
     lambda x: F.batch_norm(x[0], x[3], x[4], x[1], x[2], training=False, eps=1e-5)),
    ("softmax_axis0", "softmax", {"axis": 0}, lambda: [randn(3, 4)], lambda x: x[0].softmax(0)),
    ("log_softmax_axis0", "log_softmax", {"axis": 0}, lambda: [randn(3, 4)], lambda x: x[0].log_softmax(0)),
    ("var_unbiased_all", "var", {"axes": None, "keepdims": False, "unbiased": True}, lambda: [randn(3, 4)],
     lambda x: x[0].var()),
    ("conv2d_dilation", "conv2d", {"stride": [1, 1], "padding": [2, 1], "dilation": [2, 2], "groups": 1},
     lambda: [randn(1, 2, 6, 5), randn(3, 2, 3, 2), randn(3)],
     lambda x: F.conv2d(x[0], x[1], x[2], stride=1, padding=(2, 1), dilation=2)),
    ("max_pool2d_tiles", "max_pool2d", {"kernel": [2, 2], "stride": [2, 2], "padding": [0, 0]},
     lambda: [distinct(2, 2, 4, 4, gap=0.07)], lambda x: F.max_pool2d(x[0], 2, 2)),
    ("sdpa_causal_rect", "scaled_dot_product_attention", {"causal": True},
     lambda: [randn(1, 3, 5, 2), randn(1, 3, 5, 2), randn(1, 3, 5, 4)],
     lambda x: F.scaled_dot_product_attention(x[0], x[1], x[2], is_causal=True)),
    ("gelu_tanh_3d", "gelu_tanh", {}, lambda: [randn(2, 3, 4)], lambda x: F.gelu(x[0], approximate="tanh")),
    ("mul_div_chain", "div", {}, lambda: [randn(2, 1, 3), randn(4, 1).abs() + 0.5], lambda x: x[0] / x[1]),
    ("pow_tensor_exponent_bcast_col", "pow", {}, lambda: [randn(3, 4).abs() + 0.5, randn(3, 1)],
     lambda x: torch.pow(x[0], x[1])),
]


def dump(t):
    t = t.detach()
    if t._is_zerotensor():  # PyTorch's storage-less zeros (the derivative of a linear op's gradient)
        t = torch.zeros(t.shape, dtype=t.dtype)
    return {"shape": list(t.shape), "data": t.reshape(-1).tolist()}


def main(path):
    from torch.nn.attention import sdpa_kernel, SDPBackend
    cases = []
    for name, op, attrs, make, f in CASES:
        raw = make()
        # Evaluation batch norm's running statistics are constants: no gradient, no direction (null).
        constant = {3, 4} if name == "batch_norm_eval" else set()
        wanted = [t.is_floating_point() and i not in constant for i, t in enumerate(raw)]
        inputs = [t.clone().requires_grad_() if w else t for t, w in zip(raw, wanted)]
        floats = [t for t, w in zip(inputs, wanted) if w]
        with sdpa_kernel(SDPBackend.MATH):
            y = f(inputs)
            v = randn(*y.shape)
            directions = [randn(*t.shape) for t in floats]
            grads = torch.autograd.grad(y, floats, v, create_graph=True, allow_unused=True)
            grads = [g if g is not None else torch.zeros_like(t) for g, t in zip(grads, floats)]
            terms = [(g * u).sum() for g, u in zip(grads, directions) if g.requires_grad]
            if terms:
                second = torch.autograd.grad(sum(terms), floats, allow_unused=True)
                second = [s if s is not None else torch.zeros_like(t) for s, t in zip(second, floats)]
            else:
                second = [torch.zeros_like(t) for t in floats]
        fi = iter(zip(grads, directions, second))
        g_list, d_list, s_list = [], [], []
        for t, w in zip(inputs, wanted):
            if w:
                g, u, s = next(fi)
                g_list.append(dump(g))
                d_list.append(dump(u))
                s_list.append(dump(s))
            else:
                g_list.append(None)
                d_list.append(None)
                s_list.append(None)
        cases.append({
            "name": name, "op": op, "attrs": attrs,
            "inputs": [dict(dump(t), dtype=str(t.dtype).replace("torch.", "")) for t in inputs],
            "output": dict(dump(y), dtype="float64"), "upstream": dump(v), "directions": d_list,
            "grads": g_list, "grads2": s_list,
        })
    fixture = {
        "description": __doc__.strip(),
        "reference": f"torch {torch.__version__.split('+')[0]}, float64, CPU",
        "gradient_definition": "grads[i] = d/d(inputs[i]) of sum(output * upstream), taken with create_graph=True; "
        "grads2[i] = d/d(inputs[i]) of sum_j sum(grads[j] * directions[j]); zeros where PyTorch returns None",
        "seed": 0,
        "cases": cases,
    }
    with open(path, "w") as out:
        json.dump(fixture, out)


if __name__ == "__main__":
    main(sys.argv[1])
