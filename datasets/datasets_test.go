package datasets

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/attnbench/attnbench/datasets/builtin"
	"github.com/attnbench/attnbench/datasets/corpus"
	"github.com/attnbench/attnbench/datasets/tokens"
)

func TestOpenBuiltinAndDisk(t *testing.T) {
	s, err := Open("prose", Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := builtin.ByteTokens("prose", corpus.Valid)
	if got := tokens.All(s.Split(corpus.Valid)); !slices.Equal(got, want) {
		t.Errorf("valid split: %d tokens, want %d", len(got), len(want))
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "text8")
	text := strings.Repeat("anarchism originated as a term of abuse ", 500)
	os.WriteFile(path, []byte(text), 0o644)
	d, err := Open(path, Options{CacheDir: filepath.Join(dir, "cache")})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	n := d.Split(corpus.Train).Len() + d.Split(corpus.Valid).Len() + d.Split(corpus.Test).Len()
	if n != len(text) {
		t.Errorf("text8: %d tokens, want %d bytes", n, len(text))
	}
	if _, err := Open("prose", Options{Tokenizer: "wordpiece"}); err == nil {
		t.Error("unknown tokenizer accepted")
	}
	if _, err := Open(filepath.Join(dir, "nope"), Options{}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing path: %v", err)
	}
}
