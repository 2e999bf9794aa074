#!/usr/bin/env bash
# The quick start pipeline (configs/quickstart/pipeline.yaml) with ClearML recording both
# training steps and the evaluation, beside MLflow.
#
#   bash integrations/clearml/run-quickstart.sh            # offline: no server needed
#   CLEARML_ONLINE=1 bash integrations/clearml/run-quickstart.sh   # to your clearml.conf's server
#
# Offline, each task is a session folder + zip under ClearML's cache
# (~/.clearml/cache/offline, or $CLEARML_CACHE_DIR/offline); the step's _manifest.json
# names it (extra.clearml_offline_session). Upload them later with
#   python integrations/clearml/upload_offline.py workdir/clearml-quickstart
set -euo pipefail
cd "$(dirname "$0")/../.."

offline=true
if [[ "${CLEARML_ONLINE:-}" == 1 ]]; then offline=false; fi

exec glyphflow run configs/quickstart/pipeline.yaml \
  --set pipeline.workdir=workdir/clearml-quickstart \
  --set training.clearml.enabled=true \
  --set training.clearml.offline="$offline" \
  --set training.clearml.project=glyphflow-quickstart \
  --set evaluation.clearml.enabled=true \
  --set evaluation.clearml.offline="$offline" \
  --set evaluation.clearml.project=glyphflow-quickstart \
  "$@"
