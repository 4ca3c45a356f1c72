#!/usr/bin/env bash
# Create .venv-bench/ (repo root) with skbal and the benchmark anchors
# (baal 2.1.0, batchbald-redux 2.0.5). Idempotent: does nothing when the venv
# is newer than every file it was built from.
#
# torch is pinned by the repo-root constraints.txt to the 2.13.0 CPU wheel;
# every pip call goes through `-c constraints.txt` so that no CUDA build is
# ever resolved, and torchvision is never installed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv-bench"
STAMP="$VENV/.installed"
PIP_FLAGS=(--quiet --disable-pip-version-check)

up_to_date() {
  [ -f "$STAMP" ] || return 1
  for f in pyproject.toml constraints.txt benchmarks/requirements.txt \
           benchmarks/requirements-nodeps.txt benchmarks/setup_env.sh; do
    [ "$STAMP" -nt "$f" ] || return 1
  done
}

if up_to_date; then
  exit 0
fi

test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip)
# skbal itself (editable, so the benchmark always measures the working tree).
"${PIP[@]}" install "${PIP_FLAGS[@]}" -c constraints.txt -e .
# Dependencies of the benchmark and the anchors' real runtime needs.
"${PIP[@]}" install "${PIP_FLAGS[@]}" -c constraints.txt -r benchmarks/requirements.txt
# The anchors without their declared dependencies (see requirements-nodeps.txt).
"${PIP[@]}" install "${PIP_FLAGS[@]}" -c constraints.txt --no-deps -r benchmarks/requirements-nodeps.txt

if "$VENV/bin/python" -c "import torchvision" 2>/dev/null; then
  echo "setup_env.sh: torchvision is installed in $VENV; it breaks 'import baal' with torch 2.13.0" >&2
  exit 1
fi
"$VENV/bin/python" - <<'PY'
import baal, batchbald_redux, skbal, torch  # noqa: F401
from baal.active.heuristics import BALD, BatchBALD, Entropy  # noqa: F401
from baal.active.heuristics.aliases import PowerBALD  # noqa: F401
from batchbald_redux.batchbald import get_batchbald_batch  # noqa: F401
assert torch.__version__.startswith("2.13.0"), torch.__version__
print("bench env ok: torch", torch.__version__, "| skbal", skbal.__version__)
PY
touch "$STAMP"
