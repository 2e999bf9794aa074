"""Run a glyphflow pipeline file as a ZenML pipeline, then read back what ZenML recorded.

    python integrations/zenml/example.py [PIPELINE.yaml [STEP.path=VALUE ...]]

Default: the quick start (configs/quickstart/pipeline.yaml). Run it twice: the second
ZenML run records every step again, but glyphflow skips all but ingestion.
"""

from __future__ import annotations

import sys

from zenml.client import Client

from glyphflow.integrations.zenml import run

pipeline_file = sys.argv[1] if len(sys.argv) > 1 else "configs/quickstart/pipeline.yaml"
pipeline_run = run(pipeline_file, sys.argv[2:])

# Read the run back from ZenML's store, as a dashboard or a later script would.
recorded = Client().get_pipeline_run(pipeline_run.id)
print(f"{recorded.name}: {recorded.status.value}")
for name, step_run in recorded.steps.items():
    meta = step_run.run_metadata
    output = step_run.outputs["output"][0]  # the step's output URL, a str artifact
    print(
        f"{name}: zenml {step_run.status.value}, glyphflow {meta['glyphflow_status']} "
        f"({meta['glyphflow_why']}), fingerprint {str(meta['glyphflow_fingerprint'])[:12]}, "
        f"output {output.load()}"
    )
