#!/bin/sh
# Executes every notebook in quick mode (ATTNBENCH_MODE=full for full mode) on the GoNB kernel
# with `workbench notebook run` (the mode is passed as the parameter ATTNBENCH_MODE, one progress
# line per cell), fails on any cell error, then checks that each notebook exported its figures:
# to figures/ in full mode, to runs/figures/<mode>/ otherwise, so a quick run leaves the committed
# figures alone. The executed notebooks, outputs included and signed as trusted, are kept in
# runs/notebooks/, with each kernel's log beside them.
# Run setup.sh first.
# Usage: notebooks/run.sh [notebook.ipynb ...]   (default: all, in order)
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/notebooks/env.sh" # this checkout's kernel
cd "$repo/notebooks"
export ATTNBENCH_MODE="${ATTNBENCH_MODE:-quick}"
timeout=30m # per cell; full-mode cells train for longer and run without a limit
[ "$ATTNBENCH_MODE" = quick ] || timeout=0
out="$repo/runs/notebooks" # the executed notebooks, with their outputs
figs="$repo/runs/figures/$ATTNBENCH_MODE"
[ "$ATTNBENCH_MODE" != full ] || figs="$repo/figures"
mkdir -p "$out"

# The figures each notebook exports (PNG, SVG and PDF of each).
figures_of() {
	case "$1" in
	01-quickstart.ipynb) echo quickstart-loss quickstart-attention-h0 quickstart-attention-h1 quickstart-attention-h2 quickstart-attention-h3 ;;
	02-stability.ipynb) echo stability conversion ;;
	03-speed.ipynb) echo speed-fwd speed-fwdbwd memory-fwd memory-fwdbwd ;;
	04-extrapolation.ipynb) echo extrapolation-code position-code windowed-code extrapolation-latex position-latex windowed-latex ;;
	05-kernels.ipynb) echo kernels-kerple_log kernels-kerple_power kernels-t5 kernels-fire kernels-luo_rpe kernels-alibi ;;
	06-approximation.ipynb) echo approximation ;;
	07-listops.ipynb) echo listops-loss ;;
	08-recall.ipynb) echo recall ;;
	*) echo "" ;;
	esac
}

bin="$repo/runs/bin/workbench"
(cd "$repo" && GOEXPERIMENT=simd go build -o "$bin" ./workbench/cmd/workbench)

notebooks="$*"
[ -n "$notebooks" ] || notebooks=$(ls [0-9]*.ipynb)
for nb in $notebooks; do
	start=$(date +%s)
	for f in $(figures_of "$nb"); do rm -f "$figs/$f".png "$figs/$f".svg "$figs/$f".pdf; done
	if [ -z "$(figures_of "$nb")" ]; then
		echo "$nb has no entry in figures_of: every notebook exports its figures" >&2
		exit 1
	fi
	echo "== $nb ($ATTNBENCH_MODE mode)"
	"$bin" notebook run "$nb" -p ATTNBENCH_MODE="$ATTNBENCH_MODE" -out "$out" -timeout "$timeout"
	for f in $(figures_of "$nb"); do
		for ext in png svg pdf; do
			if ! [ -s "$figs/$f.$ext" ]; then
				echo "$nb did not export $figs/$f.$ext" >&2
				exit 1
			fi
		done
	done
	echo "== $nb: ok in $(($(date +%s) - start)) s"
done
