#!/bin/sh
# Installs the Compose v2 CLI plugin (`docker compose`) when the Docker client lacks it, built from
# its Go module at a pinned version (Debian bookworm ships only docker-compose 1.29).
# Usage: docker/compose-plugin.sh   (installs into ~/.docker/cli-plugins)
set -eu
version=v2.40.3
dir=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
docker=${DOCKER:-docker}
if $docker compose version >/dev/null 2>&1; then
	$docker compose version
	exit 0
fi
mkdir -p "$dir"
gopath=$(go env GOMODCACHE)
GOFLAGS=-mod=mod go mod download "github.com/docker/compose/v2@$version"
src="$gopath/github.com/docker/compose/v2@$version"
(cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath \
	-ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$version" -o "$dir/docker-compose" ./cmd)
$docker compose version
