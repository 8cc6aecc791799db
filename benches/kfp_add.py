"""The add pipeline ((v1 + v2) * (v1 - v2), 3 tasks) end to end: kfp.local's SubprocessRunner beside skiff.

Run through benches/kfp_add.sh, which makes a virtual environment with kfp in it. Both sides start from a
process each run: kfp.local runs the pipeline function in this interpreter (its tasks are subprocesses);
skiff is `skiff submit PIPELINE.yaml --wait -o name`, its own process start included.
"""

import os
import statistics
import subprocess
import sys
import time

from kfp import dsl, local


@dsl.component
def add(a: int, b: int) -> int:
    return a + b


@dsl.component
def subtract(a: int, b: int) -> int:
    return a - b


@dsl.component
def multiply(a: int, b: int) -> int:
    return a * b


@dsl.pipeline(name="add-pipeline")
def add_pipeline(v1: int = 7, v2: int = 3) -> int:
    s = add(a=v1, b=v2)
    d = subtract(a=v1, b=v2)
    return multiply(a=s.output, b=d.output).output


def main():
    skiff, pipeline = sys.argv[1], sys.argv[2]
    runs = int(os.environ.get("SKIFF_BENCH_RUNS", "5"))
    local.init(runner=local.SubprocessRunner(use_venv=False))

    kfp_times = []
    for _ in range(runs):
        t = time.perf_counter()
        task = add_pipeline(v1=7, v2=3)
        kfp_times.append(time.perf_counter() - t)
        assert task.output == 40, task.output

    skiff_times = []
    for _ in range(runs):
        t = time.perf_counter()
        out = subprocess.run(
            [skiff, "submit", pipeline, "--wait", "-o", "json"],
            capture_output=True,
            text=True,
        )
        skiff_times.append(time.perf_counter() - t)
        assert out.returncode == 0, out.stderr
        assert '"value": "40"' in out.stdout, out.stdout[-2000:]

    k, s = statistics.median(kfp_times), statistics.median(skiff_times)
    print(f"add pipeline, 3 tasks, median of {runs} runs each")
    print(f"{'kfp.local SubprocessRunner(use_venv=False)':<44} {k * 1e3:>10.1f} ms")
    print(f"{'skiff submit --wait (process start included)':<44} {s * 1e3:>10.1f} ms")
    print(f"{'kfp.local / skiff':<44} {k / s:>10.1f}x")


if __name__ == "__main__":
    main()
