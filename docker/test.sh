#!/bin/sh
# The container as a user gets it, tested on this machine (run by .ci/run, as root): installs and
# starts a Docker engine when none answers, the Compose v2 plugin and the base image when missing,
# builds the image from this checkout, starts `docker compose up -d workbench` with host networking
# on a free port of 127.0.0.1, checks the token, executes the quickstart notebook inside the
# container and its figures on the host, runs the one-shot figures service on one notebook, then
# `docker compose down` and checks nothing is left.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
docker=/usr/bin/docker # Debian's client: BuildKit builds without buildx
export DOCKER="$docker" DOCKER_BUILDKIT=1 COMPOSE_DOCKER_CLI_BUILD=1
# HTTPS from the build goes through the proxy this machine trusts: its CA bundle as a build secret.
export ATTNBENCH_CA_BUNDLE="${ATTNBENCH_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"

if ! [ -x "$docker" ] || ! command -v debootstrap >/dev/null || ! command -v dockerd >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io debootstrap >/dev/null
fi
if ! $docker info >/dev/null 2>&1; then
	(dockerd >/tmp/attnbench-dockerd.log 2>&1 &)
	for _ in $(seq 60); do $docker info >/dev/null 2>&1 && break; sleep 1; done
	$docker info >/dev/null
fi
./docker/compose-plugin.sh
./docker/base-image.sh
# Every profile's file is valid, the GPU one included (it cannot be built here: no package index).
$docker compose --profile gpu --profile figures config -q

start=$(date +%s)
$docker compose build workbench
echo "== image built in $(($(date +%s) - start)) s"

port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token=$(/usr/bin/python3 -c 'import secrets; print(secrets.token_hex(16))')
override=$(mktemp --suffix=.yaml)
cat >"$override" <<YAML
services:
  workbench:
    network_mode: host
    ports: !reset []
    environment:
      JUPYTER_IP: 127.0.0.1
      JUPYTER_PORT: "$port"
      JUPYTER_TOKEN: "$token"
YAML
compose="$docker compose -f compose.yaml -f $override"
cleanup() { $compose --profile figures down --remove-orphans >/dev/null 2>&1 || true; rm -f "$override"; }
trap cleanup EXIT

$compose up -d workbench
code=""
for _ in $(seq 120); do
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/status?token=$token" || true)
	[ "$code" = 200 ] && break
	sleep 1
done
[ "$code" = 200 ] || { $compose logs workbench; echo "Jupyter did not answer with the token (HTTP $code)" >&2; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/status")
[ "$code" = 403 ] || { echo "Jupyter answered $code without the token, want 403" >&2; exit 1; }
$compose logs workbench | grep -q "open http://127.0.0.1:$port/tree?token=$token" || { echo "the log does not print the URL" >&2; exit 1; }
echo "== Jupyter answers on 127.0.0.1:$port with the token and refuses without it"

# Jupyter runs as the user workbench; the GoNB kernel it lists uses the image's copy of this checkout.
exec="$compose exec -T -u workbench workbench"
owner=$($compose exec -T workbench sh -c 'for p in /proc/[0-9]*; do
	tr "\0" " " <"$p/cmdline" 2>/dev/null | grep -q "NotebookApp[.]token" && stat -c %U "$p"; done | sort -u')
[ "$owner" = workbench ] ||
	{ echo "Jupyter does not run as the user workbench" >&2; exit 1; }
spec=$($exec /usr/bin/python3 -c 'from jupyter_client.kernelspec import KernelSpecManager; print(KernelSpecManager().find_kernel_specs()["gonb"])')
$exec grep -q -- "-go_work=/home/workbench/attnbench" "$spec/kernel.json" ||
	{ echo "the kernel in $spec does not use /home/workbench/attnbench" >&2; exit 1; }
echo "== the GoNB kernel in $spec uses /home/workbench/attnbench"

figs="$repo/runs/figures/quick"
for f in quickstart-loss quickstart-attention-h0; do rm -f "$figs/$f.png"; done
$exec workbench notebook run notebooks/01-quickstart.ipynb -p ATTNBENCH_MODE=quick \
	-out runs/notebooks-docker -timeout 20m
for f in quickstart-loss quickstart-attention-h0; do
	/usr/bin/python3 -c 'import sys, struct, zlib
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", b[16:24])
assert w > 0 and h > 0, "empty PNG"
print(sys.argv[1], w, "x", h)' "$figs/$f.png"
done
echo "== the quickstart notebook ran in the container; its figures are on the host"

$compose down --remove-orphans

# The one-shot service: notebooks executed by run.sh in a fresh container, figures on the host.
rm -f "$figs/approximation.png"
$compose run --rm figures ./notebooks/run.sh 06-approximation.ipynb
test -s "$figs/approximation.png" || { echo "docker compose run figures left no $figs/approximation.png" >&2; exit 1; }
echo "== docker compose run --rm figures exported its figures to the host"

# The one-shot service made the project's network: down with its profile removes it too.
$compose --profile figures down --remove-orphans
left=$($docker ps -a --filter label=com.docker.compose.project=attnbench -q)
nets=$($docker network ls --filter label=com.docker.compose.project=attnbench -q)
[ -z "$left$nets" ] || { echo "left behind: containers $left, networks $nets" >&2; exit 1; }
trap - EXIT
rm -f "$override"
echo "== docker compose down left no container or network"
