#!/bin/sh
# Makes the base image debian:bookworm-slim locally when no registry can provide it: a minimal
# Debian bookworm root file system from debootstrap (Debian's package mirror only), imported into
# the Docker engine under the name the Dockerfile uses. On a machine that reaches a registry,
# `docker compose build` pulls the official image instead and this script is not needed.
# Usage: docker/base-image.sh [mirror]   (default http://deb.debian.org/debian; run as root)
set -eu
image=debian:bookworm-slim
docker=${DOCKER:-docker}
if $docker image inspect "$image" >/dev/null 2>&1; then
	echo "$image is present"
	exit 0
fi
mirror=${1:-http://deb.debian.org/debian}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
command -v debootstrap >/dev/null || { echo "debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
debootstrap --variant=minbase bookworm "$root" "$mirror" >/dev/null
# As in Debian's own slim images: no package lists, no documentation.
rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*
tar -C "$root" -c . | $docker import --change 'CMD ["bash"]' - "$image" >/dev/null
echo "$image made with debootstrap from $mirror"
