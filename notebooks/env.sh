# Sourced by setup.sh, run.sh and open.sh: this checkout's own Jupyter data directory, where
# setup.sh registers its GoNB kernel (a go.work on this checkout) and where notebook trust is
# recorded, so two checkouts never run each other's code.
repo=${repo:-$(cd "$(dirname "$0")/.." && pwd)}
# ATTNBENCH_JUPYTER_DIR moves it (the container image keeps its kernel outside the runs/ volume).
export JUPYTER_DATA_DIR="${ATTNBENCH_JUPYTER_DIR:-$repo/runs/jupyter}"
mkdir -p "$JUPYTER_DATA_DIR"
