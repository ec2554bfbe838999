#!/bin/sh
# Rebuilds datasets/builtin/tiny_go.txt.gz: a few Go standard library files from the Go
# distribution (BSD license, see datasets/builtin/PROVENANCE.md), concatenated in a fixed order.
set -eu
GOROOT=$(go env GOROOT)
out=$(dirname "$0")/../builtin/tiny_go.txt.gz
for f in sort/sort.go strings/strings.go bufio/bufio.go; do
	printf '// file: %s\n' "$f"
	cat "$GOROOT/src/$f"
done | gzip -n -9 > "$out"
echo "wrote $out ($(wc -c < "$out") bytes) from $(go version)"
