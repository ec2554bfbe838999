// Package builtin holds small corpora embedded in the module, so the workbench runs without any
// download. See PROVENANCE.md for their sources and licenses.
package builtin

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

//go:embed tiny_go.txt.gz
var tinyGo []byte

var corpora = map[string][]byte{"tiny_go": tinyGo}

// Names lists the embedded corpora.
func Names() []string {
	return slices.Sorted(maps.Keys(corpora))
}

// Bytes returns the decompressed text of an embedded corpus.
func Bytes(name string) ([]byte, error) {
	z, ok := corpora[name]
	if !ok {
		return nil, fmt.Errorf("builtin: corpus %q is unknown, valid corpora: %s", name, strings.Join(Names(), ", "))
	}
	r, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, fmt.Errorf("builtin: corpus %q: %w", name, err)
	}
	defer r.Close()
	return io.ReadAll(r)
}

// ByteTokens returns the corpus as byte-level tokens (vocabulary 256).
func ByteTokens(name string) ([]int32, error) {
	b, err := Bytes(name)
	if err != nil {
		return nil, err
	}
	out := make([]int32, len(b))
	for i, c := range b {
		out[i] = int32(c)
	}
	return out, nil
}
