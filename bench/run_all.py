"""Run every benchmark under bench/ and gather their figures into one Markdown table.

Each benchmark is its own script that prints Markdown table rows (``| measure | ... |``)
and lines naming its goals; this runner starts each in a fresh process (so one cannot
warm the caches of the next), collects those rows under the benchmark's name, and writes
one table to ``bench/results.md`` (or ``--output``). A benchmark that fails is listed
with its exit code instead of stopping the others.

    python bench/run_all.py            # full runs (several minutes)
    python bench/run_all.py --quick    # smaller inputs, for a smoke check
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# name -> (script, extra arguments for --quick)
BENCHMARKS: dict[str, tuple[str, list[str]]] = {
    "cli": ("cli_startup.py", ["--runs", "3"]),
    "render": ("render.py", ["--quick"]),
    "train": ("train.py", ["--quick"]),
    "serve": ("serve.py", ["--quick"]),
}


def _rows(output: str) -> tuple[list[list[str]], list[str]]:
    """Table rows (cells) and goal lines from a benchmark's output."""
    rows: list[list[str]] = []
    notes: list[str] = []
    for line in output.splitlines():
        text = line.strip()
        if text.startswith("|") and text.endswith("|"):
            cells = [c.strip() for c in text.strip("|").split("|")]
            if all(set(c) <= set("-: ") for c in cells):
                continue  # separator row
            rows.append(cells)
        elif "goal" in text.lower():
            notes.append(text)
    return rows, notes


def _escape(cell: str) -> str:
    return cell.replace("|", "\\|")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller inputs for each benchmark")
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), default=None)
    parser.add_argument("--output", default=str(HERE / "results.md"))
    args = parser.parse_args()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    lines = [
        "# glyphflow benchmarks",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; load average at start "
        f"{os.getloadavg()[0]:.1f}; {'quick' if args.quick else 'full'} runs.",
        "",
        "| benchmark | measure | figures |",
        "|---|---|---|",
    ]
    goals: list[str] = []
    failed = 0
    for name in args.only or list(BENCHMARKS):
        script, quick_args = BENCHMARKS[name]
        path = HERE / script
        if not path.exists():
            lines.append(f"| {name} | (missing: bench/{script}) | |")
            continue
        cmd = [sys.executable, str(path), *(quick_args if args.quick else [])]
        print(f"running {name}: {' '.join(cmd[1:])}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        result = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
        seconds = time.perf_counter() - start
        if result.returncode != 0:
            failed += 1
            tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or [""]
            lines.append(f"| {name} | FAILED (exit {result.returncode}) | {_escape(tail[0])} |")
            continue
        rows, notes = _rows(result.stdout)
        header = rows[0] if rows else []
        for cells in rows[1:] if len(rows) > 1 else rows:
            measure = cells[0]
            figures = " · ".join(
                f"{h}: {c}" if h and len(header) == len(cells) else c
                for h, c in zip(header[1:] or [""] * (len(cells) - 1), cells[1:], strict=False)
            )
            lines.append(f"| {name} | {_escape(measure)} | {_escape(figures)} |")
        goals.extend(f"- {name}: {note}" for note in notes)
        print(f"  {name} done in {seconds:.0f} s", file=sys.stderr)
    if goals:
        lines += ["", "Goals:", "", *goals]
    text = "\n".join(lines) + "\n"
    Path(args.output).write_text(text)
    print(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
