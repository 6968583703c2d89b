"""Writes batchnorm_running_stats.json: nn.BatchNorm1d / nn.BatchNorm2d in float64, trained on a few
batches and then evaluated, with the running statistics after every training batch.

Each case records the layer's settings, its initial weight and bias, and for each training batch the
input, the output, running_mean, running_var and num_batches_tracked after the update; then one
input and output in eval mode. The Swift test replays the batches through its own layers.

Run from the repository root:
    Benchmarks/reference/.venv/bin/python Tests/AwesomegradTests/Fixtures/make_batchnorm_fixture.py
"""

import json
import os

import torch

torch.set_default_dtype(torch.float64)
torch.manual_seed(0)

# name, layer class, features, batch shape, momentum, affine, training batches
CASES = [
    ("bn2d_momentum_0.1", torch.nn.BatchNorm2d, 3, [4, 3, 5, 5], 0.1, True, 3),
    ("bn1d_2d_input_cumulative", torch.nn.BatchNorm1d, 4, [8, 4], None, True, 3),
    ("bn1d_3d_input_no_affine", torch.nn.BatchNorm1d, 2, [3, 2, 5], 0.3, False, 2),
]


def flat(t):
    return [float(v) for v in t.detach().reshape(-1)]


def main():
    cases = []
    for name, layer_class, features, shape, momentum, affine, steps in CASES:
        layer = layer_class(features, eps=1e-5, momentum=momentum, affine=affine)
        if affine:
            with torch.no_grad():
                layer.weight.copy_(torch.rand(features) + 0.5)
                layer.bias.copy_(torch.randn(features))
        case = {
            "name": name,
            "layer": layer_class.__name__,
            "features": features,
            "shape": shape,
            "momentum": momentum,
            "affine": affine,
            "eps": 1e-5,
            "weight": flat(layer.weight) if affine else None,
            "bias": flat(layer.bias) if affine else None,
            "steps": [],
        }
        layer.train()
        for step in range(steps):
            # Each batch has its own scale and shift, so the running estimates move.
            x = torch.randn(shape) * (1 + step) + (step - 1)
            y = layer(x)
            case["steps"].append({
                "input": flat(x),
                "output": flat(y),
                "running_mean": flat(layer.running_mean),
                "running_var": flat(layer.running_var),
                "num_batches_tracked": int(layer.num_batches_tracked),
            })
        layer.eval()
        x = torch.randn(shape)
        case["eval"] = {"input": flat(x), "output": flat(layer(x))}
        cases.append(case)
    out = {
        "description": __doc__.strip().splitlines()[0],
        "reference": f"torch {torch.__version__}, float64, CPU",
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "batchnorm_running_stats.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
