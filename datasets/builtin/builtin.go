// Package builtin holds the corpora embedded in the module, so the workbench runs without any
// download: the small counterparts of KERPLE's prose, code and LaTeX corpora. PROVENANCE.md gives
// their sources and licenses; datasets/scripts/build_corpora.sh rebuilds them.
package builtin

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/attnbench/attnbench/datasets/corpus"
)

//go:embed data/*.jsonl.gz
var data embed.FS

// Names lists the embedded corpora.
func Names() []string { return []string{"prose", "code", "latex"} }

// Describe says what an embedded corpus holds.
func Describe(name string) string {
	switch name {
	case "prose":
		return "the King James Bible, one document per book (public domain)"
	case "code":
		return "Go source of the Go distribution, one document per file (BSD-3-Clause)"
	case "latex":
		return "LaTeX sources of TeX Live documentation, one document per file (free licenses of TeX Live)"
	}
	return ""
}

var (
	mu    sync.Mutex
	cache = map[string]*corpus.Memory{}
)

// Load returns an embedded corpus with its fixed split by document. The result is shared: do not
// modify it.
func Load(name string) (*corpus.Memory, error) {
	mu.Lock()
	defer mu.Unlock()
	if c, ok := cache[name]; ok {
		return c, nil
	}
	z, err := data.ReadFile("data/" + name + ".jsonl.gz")
	if err != nil {
		return nil, fmt.Errorf("builtin: corpus %q is unknown, valid corpora: %s", name, strings.Join(Names(), ", "))
	}
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, fmt.Errorf("builtin: corpus %q: %w", name, err)
	}
	c := &corpus.Memory{Label: "builtin:" + name}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var d struct{ Name, Split, Text string }
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			return nil, fmt.Errorf("builtin: corpus %q: %w", name, err)
		}
		s, err := corpus.ParseSplit(d.Split)
		if err != nil {
			return nil, fmt.Errorf("builtin: corpus %q, document %q: %w", name, d.Name, err)
		}
		c.Docs = append(c.Docs, corpus.Document{Name: d.Name, Split: s, Text: []byte(d.Text)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("builtin: corpus %q: %w", name, err)
	}
	cache[name] = c
	return c, nil
}

// ByteTokens returns one split of an embedded corpus as byte-level tokens (vocabulary 256),
// documents concatenated in order.
func ByteTokens(name string, split corpus.Split) ([]int32, error) {
	c, err := Load(name)
	if err != nil {
		return nil, err
	}
	var out []int32
	for _, d := range c.Docs {
		if d.Split != split {
			continue
		}
		for _, b := range d.Text {
			out = append(out, int32(b))
		}
	}
	return out, nil
}
