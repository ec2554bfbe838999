#!/bin/sh
# Rebuilds the embedded corpora in datasets/builtin/data from Debian packages and the Go
# distribution, so their content is reproducible (see datasets/builtin/PROVENANCE.md):
#   prose.jsonl.gz  the King James Bible (bible-kjv-text, decoded by bible-kjv), one document per book;
#   code.jsonl.gz   Go source of the Go distribution (non-test files of a fixed list of packages);
#   latex.jsonl.gz  LaTeX sources shipped in TeX Live documentation packages.
# Needs apt-get (packages are downloaded, not installed) and Go.
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=$repo/datasets/builtin/data
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
cd "$work"

apt-get download bible-kjv bible-kjv-text \
	texlive-latex-base-doc texlive-latex-recommended-doc texlive-science-doc 2>/dev/null
for deb in *.deb; do dpkg-deb -x "$deb" root; done

# prose: one file per book, numbered in canonical order.
mkdir prose
root/usr/bin/bible -l100000 -p root/usr/lib 'Gen1:1-Rev22:21' |
	awk -v dir=prose '
		/^[^ ].* 1$/ { n++; name = $0; sub(/ 1$/, "", name); gsub(/ /, "_", name);
			file = sprintf("%s/%02d-%s.txt", dir, n, name) }
		file != "" { print > file }'

# code: a fixed list of packages of the Go distribution.
goroot=$(go env GOROOT)
mkdir code
for d in bufio bytes compress container encoding fmt go image math net/http regexp sort strconv strings text; do
	(cd "$goroot/src" && find "$d" -name '*.go' ! -name '*_test.go' ! -path '*/testdata/*') |
		while read -r f; do mkdir -p "code/$(dirname "$f")"; cp "$goroot/src/$f" "code/$f"; done
done

cd "$repo"
go run ./datasets/scripts/pack -out "$out/prose.jsonl.gz" -ext .txt "$work/prose"
go run ./datasets/scripts/pack -out "$out/code.jsonl.gz" -ext .go "$work/code"
go run ./datasets/scripts/pack -out "$out/latex.jsonl.gz" -ext .tex,.ltx "$work/root/usr/share/doc/texlive-doc"
echo "built from: $(dpkg-deb -f "$work/bible-kjv-text"_*.deb Package Version | tr '\n' ' ') $(go version)"
