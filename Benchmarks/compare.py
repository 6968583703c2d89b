"""Reads the JSON lines of `bench` and the reference scripts and prints the comparison table.

    python Benchmarks/compare.py RESULTS.jsonl

Each workload may appear several times (compare.sh runs rounds); a row uses the median over rounds
of each run's median time per step. A ratio above 1 means Awesomegrad is faster (or smaller) by that
factor. The targets are in TARGETS below.
"""

import json
import statistics
import sys
from collections import defaultdict

SWIFT = "awesomegrad"

# (label, target text, predicate over the measured value)
TARGETS = {
    "value-speed": ("≥ 10×", lambda r: r >= 10),
    "value-memory": ("≤ 0.10", lambda r: r <= 0.10),
    "tensor-vs-torch": ("≥ 1.0×", lambda r: r >= 1.0),
    "tensor-vs-value": ("≥ 10×", lambda r: r >= 10),
    "mlp-vs-torch": ("≥ 1.0×", lambda r: r >= 1.0),
    "mlp-of-gemm": ("≥ 70%", lambda r: r >= 0.70),
    "mlp-threads": ("≥ 1.5×", lambda r: r >= 1.5),
    "fashion-vs-torch": ("≥ 1.0×", lambda r: r >= 1.0),
    "soak-rss": ("≤ 1 MiB", lambda r: r <= 1 << 20),
    "soak-allocs": ("last = first", lambda r: r == 0),
}


def load(path):
    runs = defaultdict(list)
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                row = json.loads(line)
                runs[(row["workload"], row["engine"], row["threads"])].append(row)
    return runs


def med(runs, workload, engine, threads=1, key="median_us"):
    values = [r[key] for r in runs.get((workload, engine, threads), []) if r.get(key) is not None]
    return statistics.median(values) if values else None


def fmt_us(us):
    if us is None:
        return "—"
    return f"{us / 1e6:.3g} s" if us >= 1e6 else f"{us / 1e3:.3g} ms" if us >= 1e3 else f"{us:.3g} µs"


def fmt_bytes(b):
    if b is None:
        return "—"
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(b) >= size:
            return f"{b / size:.3g} {unit}"
    return f"{b} B"


def main():
    runs = load(sys.argv[1])
    rows = []

    def row(name, key, measured, display, detail):
        target, ok = TARGETS[key]
        verdict = "—" if measured is None else ("met" if ok(measured) else "NOT met")
        rows.append((name, target, display if measured is not None else "—", verdict, detail))

    def ratio(a, b):
        return a / b if a is not None and b else None

    # Speed: reference time / Awesomegrad time.
    swift_value = med(runs, "moons-value", "micrograd-swift")
    python_value = med(runs, "moons-value", "micrograd-python")
    r = ratio(python_value, swift_value)
    row("moons-value vs micrograd (speed)", "value-speed", r, f"{r:.1f}×" if r else "",
        f"{fmt_us(swift_value)} vs {fmt_us(python_value)} per step")

    swift_graph = med(runs, "moons-value", "micrograd-swift", key="graph_peak_bytes")
    python_graph = med(runs, "moons-value", "micrograd-python", key="graph_peak_bytes")
    r = ratio(swift_graph, python_graph)
    row("moons-value vs micrograd (graph memory)", "value-memory", r, f"{r:.3f}" if r else "",
        f"{fmt_bytes(swift_graph)} vs {fmt_bytes(python_graph)} peak per step")

    swift_tensor = med(runs, "moons-tensor", SWIFT)
    torch_tensor = med(runs, "moons-tensor", "pytorch")
    r = ratio(torch_tensor, swift_tensor)
    row("moons-tensor vs PyTorch", "tensor-vs-torch", r, f"{r:.2f}×" if r else "",
        f"{fmt_us(swift_tensor)} vs {fmt_us(torch_tensor)} per step")

    r = ratio(swift_value, swift_tensor)
    row("moons-tensor vs moons-value", "tensor-vs-value", r, f"{r:.0f}×" if r else "",
        f"{fmt_us(swift_tensor)} vs {fmt_us(swift_value)} per step")

    swift_mlp = med(runs, "mlp-784", SWIFT)
    torch_mlp = med(runs, "mlp-784", "pytorch")
    r = ratio(torch_mlp, swift_mlp)
    row("mlp-784 vs PyTorch", "mlp-vs-torch", r, f"{r:.2f}×" if r else "",
        f"{fmt_us(swift_mlp)} vs {fmt_us(torch_mlp)} per step")

    mlp_gflops = med(runs, "mlp-784", SWIFT, key="gflops")
    gemm_gflops = med(runs, "gemm-1024", SWIFT, key="gflops")
    r = ratio(mlp_gflops, gemm_gflops)
    row("mlp-784 throughput as % of gemm-1024", "mlp-of-gemm", r, f"{100 * r:.0f}%" if r else "",
        f"{mlp_gflops or 0:.1f} vs {gemm_gflops or 0:.1f} GFLOP/s"
        + (f" (PyTorch gemm {med(runs, 'gemm-1024', 'pytorch', key='gflops'):.1f})"
           if med(runs, "gemm-1024", "pytorch", key="gflops") else ""))

    swift_mlp2 = med(runs, "mlp-784", SWIFT, threads=2)
    r = ratio(swift_mlp, swift_mlp2)
    row("mlp-784 on 2 threads vs 1", "mlp-threads", r, f"{r:.2f}×" if r else "",
        f"{fmt_us(swift_mlp2)} vs {fmt_us(swift_mlp)} per step")

    swift_fashion = med(runs, "fashion-mlp-epoch", SWIFT)
    torch_fashion = med(runs, "fashion-mlp-epoch", "pytorch")
    r = ratio(torch_fashion, swift_fashion)
    row("fashion-mlp-epoch vs PyTorch", "fashion-vs-torch", r, f"{r:.2f}×" if r else "",
        f"{fmt_us(swift_fashion)} vs {fmt_us(torch_fashion)} per epoch (synthetic data)")

    soak = runs.get(("moons-tensor-soak", SWIFT, 1), [])
    if soak:
        s = soak[-1]
        growth = s["rss_end_bytes"] - s["rss_start_bytes"]
        row(f"moons-tensor × {s['steps']} steps: RSS end − start", "soak-rss", growth, fmt_bytes(growth),
            f"{fmt_bytes(s['rss_start_bytes'])} → {fmt_bytes(s['rss_end_bytes'])}, heap growth "
            f"{fmt_bytes(s.get('heap_growth_bytes'))}")
        drift = None
        if s.get("allocations_per_step_first") is not None:
            drift = s["allocations_per_step_last"] - s["allocations_per_step_first"]
        row(f"moons-tensor × {s['steps']} steps: mallocs per step", "soak-allocs", drift,
            f"{s['allocations_per_step_first']} → {s['allocations_per_step_last']}" if drift is not None else "",
            f"median of first → last 10% of steps (min {s.get('allocations_per_step_min')}, "
            f"max {s.get('allocations_per_step_max')})")
    else:
        row("moons-tensor soak: RSS end − start", "soak-rss", None, "", "not run")

    headers = ("comparison", "target", "measured", "", "detail")
    widths = [max(len(str(x[i])) for x in rows + [headers]) for i in range(5)]
    print()
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
    print("  ".join("-" * w for w in widths))
    for x in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(x, widths)).rstrip())
    rounds = max((len(v) for v in runs.values()), default=0)
    print(f"\nMedian over {rounds} round(s) of each run's median per step; 1 thread unless stated.")
    allocs = {k[0]: med(runs, *k, key="allocations_per_step") for k in runs if k[1] != "pytorch"
              and k[1] != "micrograd-python"}
    print("Awesomegrad mallocs per step: " + ", ".join(
        f"{w} {int(a)}" for w, a in allocs.items() if a is not None))


if __name__ == "__main__":
    main()
