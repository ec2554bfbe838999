#!/bin/sh
# Sets up the notebooks: Debian's Jupyter (when missing), GoNB and goimports built from the tool
# lines of go.mod, and the GoNB kernel registered in this checkout's Jupyter data directory
# (runs/jupyter, see env.sh) with a go.work that uses this repository (so a cell imports
# github.com/attnbench/attnbench/... from the working tree) and GOEXPERIMENT=simd.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/notebooks/env.sh"

if ! [ -x /usr/bin/jupyter ] || ! /usr/bin/python3 -c 'import nbclient, nbconvert, notebook' 2>/dev/null; then
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
		jupyter-notebook jupyter-nbconvert python3-nbclient python3-ipykernel >/dev/null
fi

cd "$repo"
export GOEXPERIMENT=simd
go install tool # gonb and goimports at the versions pinned in go.mod
gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin=$(go env GOPATH)/bin
export PATH="$gobin:$(dirname "$(command -v go)"):$PATH"

# gopls only serves auto-complete; it is not needed to run cells.
gonb --install --force_deps --raw_error --go_work="$repo" >/dev/null 2>&1 || gonb --install --force_deps --raw_error --go_work="$repo"

# The kernel's environment: the Go toolchain and tools on PATH, the SIMD matmul, the local backend.
spec=$(/usr/bin/python3 -c 'from jupyter_client.kernelspec import KernelSpecManager; print(KernelSpecManager().find_kernel_specs()["gonb"])')
/usr/bin/python3 - "$spec/kernel.json" "$PATH" <<'PY'
import json, sys
path, p = sys.argv[1], sys.argv[2]
k = json.load(open(path))
env = k.setdefault("env", {})
env.update({"GOEXPERIMENT": "simd", "PATH": p})
import os
tmp = path + ".tmp"
with open(tmp, "w") as f:
    json.dump(k, f, indent=2)
    f.flush()
    os.fsync(f.fileno())
os.replace(tmp, path)  # atomic: a kernel.json is never half written
PY
echo "GoNB kernel registered in $spec (go.work uses $repo); notebooks/open.sh opens the notebooks with it"
