#!/usr/bin/env bash
# `make run`: run the quick-start pipeline on this machine's fonts, then say where
# everything is. The Makefile has already set up .venv and the Debian font packages.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${VENV:-.venv}
pipeline=configs/quickstart/pipeline.yaml
work=workdir/quickstart
"$venv/bin/glyphflow" run "$pipeline" "$@"
"$venv/bin/glyphflow" lineage "$work"
verdict=$(ls "$work/evaluate" 2>/dev/null | grep -E '^(NOT_)?BLESSED$' || echo "no verdict")
cat <<TXT

The quick start is done. What it made:
  fonts accepted and rejected, with reasons:  $work/validate/report.html
  glyph contact sheet:                        $work/glyphs/contact_sheet.png
  model evaluation ($verdict):           $work/evaluate/report.html
  everything each step wrote:                 glyphflow lineage $work

Look at the training runs (losses, sample grids every epoch) in the MLflow UI:
  $venv/bin/mlflow ui --backend-store-uri sqlite:///$work/mlflow.db --port 5000

Explore the style space, complete a font, download a generated OTF:
  $venv/bin/glyphflow serve -c configs/quickstart/serve.yaml    # then open http://127.0.0.1:8000/
TXT
