"""How fast does ``glyphflow --help`` answer? Goal: under 0.5 s.

Runs the console command N times beside a bare ``python -c pass`` (the interpreter's own
start-up) and prints the medians and their ratio, so the figure reads the same on a fast
or a slow machine.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

GOAL_S = 0.5


def _median_seconds(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    exe = shutil.which("glyphflow")
    cli = [exe, "--help"] if exe else [sys.executable, "-m", "glyphflow", "--help"]
    bare = _median_seconds([sys.executable, "-c", "pass"], args.runs)
    helped = _median_seconds(cli, args.runs)
    print("| measure | seconds |")
    print("|---|---|")
    print(f"| python -c pass (median of {args.runs}) | {bare:.3f} |")
    print(f"| glyphflow --help (median of {args.runs}) | {helped:.3f} |")
    print(f"| ratio --help / bare interpreter | {helped / bare:.2f}x |")
    verdict = "meets" if helped < GOAL_S else "MISSES"
    print(f"\nglyphflow --help: {helped:.3f} s, {verdict} the {GOAL_S} s goal")
    return {"cli_help_s": helped, "python_bare_s": bare}


if __name__ == "__main__":
    main()
