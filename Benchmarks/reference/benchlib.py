"""Shared helpers for the reference benchmarks: timing, peak RSS and the JSON line format of `bench`.

Every script prints one JSON object per line per workload with the keys of the Swift tool:
workload, engine, dtype, threads, steps, median_us, min_us, max_us, peak_rss_bytes,
allocations_per_step, graph_peak_bytes and workload-specific extras (gflops, data, ...).
"""

import json
import resource
import statistics
import sys
import time
import tracemalloc


def reset_peak_rss():
    """Starts a new peak: writing "5" to /proc/self/clear_refs resets VmHWM on Linux."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_bytes():
    """VmHWM (peak RSS since the last reset) or ru_maxrss where /proc is missing."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss if sys.platform == "darwin" else maxrss * 1024


def current_rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return None


def time_steps(step, steps):
    """Runs `step` `steps` times; returns the time of each in microseconds (monotonic clock)."""
    times = []
    for _ in range(steps):
        start = time.perf_counter_ns()
        step()
        times.append((time.perf_counter_ns() - start) / 1000)
    return times


def traced_peak_bytes(step):
    """Peak Python heap bytes that one call of `step` adds above the level at its start (tracemalloc).
    Covers allocations through Python's allocators; torch tensor memory is not included."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    start, _ = tracemalloc.get_traced_memory()
    step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak - start


def emit(workload, engine, dtype, threads, times, peak_rss, allocations=None, graph_peak=None, **extra):
    line = {
        "workload": workload,
        "engine": engine,
        "dtype": dtype,
        "threads": threads,
        "steps": len(times),
        "median_us": statistics.median(times),
        "min_us": min(times),
        "max_us": max(times),
        "peak_rss_bytes": peak_rss,
        "allocations_per_step": allocations,
        "graph_peak_bytes": graph_peak,
    }
    line.update(extra)
    print(json.dumps(line), flush=True)
