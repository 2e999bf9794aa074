"""Upload the ClearML offline sessions a glyphflow run wrote to the server in clearml.conf.

    python integrations/clearml/upload_offline.py WORKDIR_OR_OUTPUT [...]

Finds every stage output under the given folders whose ``_manifest.json`` names an
offline session (``extra.clearml_offline_session``), and imports its zip with
``Task.import_offline_session``: the server gets the task with its config, scalars,
debug images, artifacts and output model. Needs ``pip install 'glyphflow[clearml]'`` and
a configured server (``clearml-init``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def sessions(roots: list[str]) -> list[tuple[Path, str]]:
    """(stage output, session zip) for every output under ``roots`` recorded offline."""
    found = []
    for root in roots:
        for manifest in sorted(Path(root).rglob("_manifest.json")):
            extra = json.loads(manifest.read_text()).get("extra") or {}
            folder = extra.get("clearml_offline_session")
            if folder:
                found.append((manifest.parent, f"{folder}.zip"))
    return found


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    from clearml import Task

    found = sessions(argv)
    if not found:
        print(f"no ClearML offline sessions recorded under {', '.join(argv)}", file=sys.stderr)
        return 1
    for output, archive in found:
        if not Path(archive).is_file():
            print(f"{output}: {archive} is missing (was the task closed?)", file=sys.stderr)
            continue
        task_id = Task.import_offline_session(archive)
        print(f"{output}: uploaded as task {task_id}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
