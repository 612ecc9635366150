"""Reading Google Benchmark JSON in the benchmark smoke tests (properties/*_bench_test.sh)."""
import json


def benchmarks(path):
    """{name: entry} of one --benchmark_out file."""
    with open(path) as f:
        return {b["name"]: b for b in json.load(f)["benchmarks"]}


def entry(got, name, bad):
    """The entry `name` of `got`, or None with the reason appended to `bad` (missing, or the
    benchmark reported an error)."""
    b = got.get(name)
    if b is None:
        bad.append(f"{name}: missing")
        return None
    if b.get("error_occurred"):
        bad.append(f"{name}: {b.get('error_message')}")
        return None
    return b
