#!/usr/bin/env bash
# Run one framework integration's tests in its own virtual environment.
#
#   bash scripts/test-integration.sh zenml|clearml|mlserver|bentoml
#
# Each framework pins its own pydantic, fastapi, protobuf...; none of them may constrain
# the base install, so each gets .venvs/NAME with glyphflow, the extras the adapter needs
# and the framework, installed with integrations/NAME/constraints.txt (a set known to
# install together), then runs tests/integrations/test_NAME.py with the framework required
# (GLYPHFLOW_INTEGRATION=NAME turns "not installed" into a failure instead of a skip).
set -euo pipefail
cd "$(dirname "$0")/.."

name="${1:?usage: test-integration.sh zenml|clearml|mlserver|bentoml}"
case "$name" in
  zenml) extras="train,zenml,test" ;;
  clearml) extras="train,clearml,test" ;;
  mlserver) extras="train,serve,mlserver,test" ;;
  bentoml) extras="train,serve,bentoml,test" ;;
  *) echo "unknown integration '$name' (expected zenml, clearml, mlserver or bentoml)" >&2; exit 2 ;;
esac

python="${PYTHON:-python3}"
venv=".venvs/$name"
constraints="integrations/$name/constraints.txt"
stamp="$venv/.glyphflow-installed"

if [[ ! -f "$stamp" || pyproject.toml -nt "$stamp" || ( -f "$constraints" && "$constraints" -nt "$stamp" ) ]]; then
  echo "== setting up $venv (glyphflow[$extras])"
  test -x "$venv/bin/python" || "$python" -m venv "$venv"
  # torch first, pinned, with pip: the CPU wheel on disk (any other spec pulls a CUDA
  # build, and uv does not look on this disk). Then the rest with uv, which installs a
  # framework's hundred-odd pinned packages in seconds where pip takes minutes; torch is
  # already there, so uv keeps it.
  "$venv/bin/python" -m pip install -q torch==2.13.0 'uv>=0.4'
  args=(-q -e ".[$extras]")
  if [[ -f "$constraints" ]]; then args+=(-c "$constraints"); fi
  "$venv/bin/uv" pip install --python "$venv/bin/python" "${args[@]}"
  touch "$stamp"
fi

echo "== $name integration tests"
export GLYPHFLOW_INTEGRATION="$name"
export PATH="$PWD/$venv/bin:$PATH"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "tests/integrations/test_$name.py" "${@:2}"
