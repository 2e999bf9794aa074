"""The workdir lock: a second run on a busy workdir fails at once, naming the holder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from glyphflow.pipeline.lock import LOCK_NAME, WorkdirLockedError, workdir_lock
from tests.pipeline.test_cli import gf

REPO = Path(__file__).resolve().parents[2]

HOLDER = """\
import sys
from glyphflow.pipeline.lock import workdir_lock
with workdir_lock(sys.argv[1], "holder.yaml"):
    print("held", flush=True)
    sys.stdin.readline()  # hold until the test says so (or kills us)
"""


@contextmanager
def holding_lock(workdir: Path, *, kill: bool = False) -> Iterator[subprocess.Popen[str]]:
    """Another process holds the workdir's lock for the block (killed -9 at the end if kill)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)])}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(workdir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        yield holder
    finally:
        if kill:
            holder.send_signal(signal.SIGKILL)
        elif holder.stdin is not None:
            holder.stdin.close()
        holder.wait(timeout=60)


def test_a_second_run_fails_fast_naming_the_holder_then_proceeds(
    capsys: pytest.CaptureFixture[str], pipeline_file: Path, demo_catalogue: list[str]
) -> None:
    work = pipeline_file.parent / "work"
    with holding_lock(work) as holder:
        code, out, err = gf(capsys, "run", pipeline_file)
        info = json.loads((work / LOCK_NAME).read_text())
    assert code == 1
    assert out == ""
    assert demo_catalogue == []  # nothing ran
    assert not (work / "_pipeline.json").exists()
    assert f"workdir {work} is in use by another glyphflow run (pid {holder.pid} on " in err
    assert f"since {info['since']}, running holder.yaml" in err
    assert "Wait for that run to finish" in err
    assert info["pid"] == holder.pid

    code, out, _ = gf(capsys, "run", pipeline_file)  # the holder has exited
    assert code == 0
    assert out.splitlines()[-1].startswith("done: 3 ran")
    assert (work / LOCK_NAME).read_text() == ""  # released: no holder left behind


def test_a_killed_holder_leaves_no_lock_behind(
    capsys: pytest.CaptureFixture[str], pipeline_file: Path
) -> None:
    work = pipeline_file.parent / "work"
    with holding_lock(work, kill=True):
        assert gf(capsys, "run", pipeline_file)[0] == 1
    assert json.loads((work / LOCK_NAME).read_text())["pipeline"] == "holder.yaml"  # stale text
    code, out, _ = gf(capsys, "run", pipeline_file)
    assert code == 0, out


def test_the_lock_is_reentrant_in_one_process_and_absent_for_object_storage(
    tmp_path: Path,
) -> None:
    with workdir_lock(str(tmp_path), "a.yaml") as path:
        assert path == str(tmp_path / LOCK_NAME)
        with workdir_lock(str(tmp_path), "a.yaml"):  # a sweep's points re-enter it
            pass
        with (
            holding_lock(tmp_path / "other"),
            pytest.raises(WorkdirLockedError),
            workdir_lock(str(tmp_path / "other")),
        ):
            pass
    with workdir_lock("memory://bucket/work") as nothing:
        assert nothing is None
