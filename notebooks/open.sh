#!/bin/sh
# Opens the notebooks in Jupyter for a person: the server binds 127.0.0.1 only, with a fresh
# token, uses this checkout's GoNB kernel (setup.sh), works as root, and prints the URL to open.
# Usage: notebooks/open.sh [port]   (default 8888)
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/notebooks/env.sh"
port=${1:-8888}
if ! [ -f "$JUPYTER_DATA_DIR/kernels/gonb/kernel.json" ]; then
	echo "no GoNB kernel for this checkout in $JUPYTER_DATA_DIR: run notebooks/setup.sh first" >&2
	exit 1
fi
token=$(/usr/bin/python3 -c 'import secrets; print(secrets.token_hex(24))')
root=""
[ "$(id -u)" != 0 ] || root=--allow-root
echo "Open http://127.0.0.1:$port/tree?token=$token (notebooks executed by run.sh are in runs/notebooks)"
exec /usr/bin/jupyter notebook --no-browser --ip=127.0.0.1 --port="$port" --port-retries=0 $root \
	--NotebookApp.token="$token" --notebook-dir="$repo"
