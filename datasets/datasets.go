// Package datasets opens tokenized corpora by name: an embedded corpus ("prose", "code", "latex")
// or a path, directory or glob on disk. The subpackages hold the pieces: corpus (documents and
// formats), builtin (the embedded corpora), tokenizer, tokens (tokenization and the token cache),
// batch (training windows and evaluation sequences), listops and synthetic (tasks).
package datasets

import (
	"fmt"
	"os"
	"strings"

	"github.com/attnbench/attnbench/datasets/builtin"
	"github.com/attnbench/attnbench/datasets/corpus"
	"github.com/attnbench/attnbench/datasets/tokenizer"
	"github.com/attnbench/attnbench/datasets/tokens"
)

// Options configures Open.
type Options struct {
	// Tokenizer is "byte" (default) or "gpt2".
	Tokenizer string
	// Format, Fractions and Field apply to corpora on disk (see corpus.Options).
	Format    string
	Fractions corpus.Fractions
	Field     string
	// CacheDir holds token caches; "" uses tokens.CacheDir().
	CacheDir string
}

// Open tokenizes the corpus named by spec: an embedded corpus name, or a path, directory or glob.
// Corpora on disk are tokenized once into the token cache and memory-mapped; call Close on the
// result when done.
func Open(spec string, o Options) (*tokens.Splits, error) {
	tok, err := tokenizer.New(o.Tokenizer)
	if err != nil {
		return nil, err
	}
	for _, name := range builtin.Names() {
		if spec == name || spec == "builtin:"+name {
			c, err := builtin.Load(name)
			if err != nil {
				return nil, err
			}
			if tok.Name() == "byte" {
				return tokens.Tokenize(c, tok)
			}
			return tokens.Cached(c, tok, o.CacheDir)
		}
	}
	if _, statErr := os.Stat(spec); statErr != nil && !strings.ContainsAny(spec, "*?[") {
		return nil, fmt.Errorf("datasets: corpus %q is neither an embedded corpus (%s) nor an existing path: %w",
			spec, strings.Join(builtin.Names(), ", "), statErr)
	}
	src, err := corpus.Open(spec, corpus.Options{Format: o.Format, Fractions: o.Fractions, Field: o.Field})
	if err != nil {
		return nil, err
	}
	return tokens.Cached(src, tok, o.CacheDir)
}
