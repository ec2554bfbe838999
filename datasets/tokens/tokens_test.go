package tokens

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/attnbench/attnbench/datasets/corpus"
	"github.com/attnbench/attnbench/datasets/tokenizer"
)

func randomCorpus(rng *rand.Rand, docs int) *corpus.Memory {
	m := &corpus.Memory{Label: "random"}
	words := []string{"the", "cat", "sat", "on", "a", "mat", "\n", "Go", "func", "(x)", "é"}
	for i := range docs {
		var b strings.Builder
		for range 1 + rng.IntN(300) {
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteByte(' ')
		}
		d := corpus.Document{Name: fmt.Sprintf("doc%d", i), Split: corpus.Splits[rng.IntN(3)], Text: []byte(b.String())}
		// Split some documents into continued pieces.
		if cut := rng.IntN(len(d.Text)); cut > 0 && rng.IntN(3) == 0 {
			first, rest := d, d
			first.Text, rest.Text, rest.Continued = d.Text[:cut], d.Text[cut:], true
			m.Docs = append(m.Docs, first, rest)
			continue
		}
		m.Docs = append(m.Docs, d)
	}
	return m
}

// expected tokenizes each piece on its own and joins documents with EOD, in plain sequential code.
func expected(t *testing.T, m *corpus.Memory, tok tokenizer.Tokenizer) [3][]int32 {
	var out [3][]int32
	var seen [3]bool
	for _, d := range m.Docs {
		if !d.Continued && seen[d.Split] && tok.EOD() >= 0 {
			out[d.Split] = append(out[d.Split], tok.EOD())
		}
		seen[d.Split] = true
		ids, err := tok.Encode(nil, d.Text)
		if err != nil {
			t.Fatal(err)
		}
		out[d.Split] = append(out[d.Split], ids...)
	}
	return out
}

func TestTokenizeAndCache(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	gpt2, err := tokenizer.New("gpt2")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, tok := range []tokenizer.Tokenizer{tokenizer.Byte{}, gpt2} {
		m := randomCorpus(rng, 60)
		want := expected(t, m, tok)
		mem, err := Tokenize(m, tok)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // build, then reopen the cache
			disk, err := Cached(m, tok, dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range corpus.Splits {
				if got := All(mem.Split(s)); !slices.Equal(got, want[s]) {
					t.Errorf("%s: in-memory split %v differs from sequential tokenization (%d vs %d tokens)", tok.Name(), s, len(got), len(want[s]))
				}
				if got := All(disk.Split(s)); !slices.Equal(got, want[s]) {
					t.Errorf("%s: cached split %v differs (%d vs %d tokens)", tok.Name(), s, len(got), len(want[s]))
				}
				// Random reads.
				seq := disk.Split(s)
				for range 20 {
					if seq.Len() == 0 {
						break
					}
					off := rng.IntN(seq.Len())
					buf := make([]int32, rng.IntN(seq.Len()-off+1))
					seq.Read(buf, off)
					if !slices.Equal(buf, want[s][off:off+len(buf)]) {
						t.Fatalf("%s: Read at %d differs", tok.Name(), off)
					}
				}
			}
			if disk.Docs != mem.Docs {
				t.Errorf("document counts %v (cache) vs %v", disk.Docs, mem.Docs)
			}
			disk.Close()
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("cache holds %d entries, want 2 (one per tokenizer)", len(entries))
	}
}

type failingSource struct{ *corpus.Memory }

func (f failingSource) Documents(fn func(corpus.Document) error) error {
	for i, d := range f.Docs {
		if i == len(f.Docs)/2 {
			return errors.New("disk read failed")
		}
		if err := fn(d); err != nil {
			return err
		}
	}
	return nil
}

func TestCacheErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	dir := t.TempDir()
	m := randomCorpus(rng, 30)

	// An interrupted build leaves nothing behind.
	if _, err := Cached(failingSource{m}, tokenizer.Byte{}, dir); err == nil || !strings.Contains(err.Error(), "disk read failed") {
		t.Fatalf("failing source: err %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("interrupted build left %d entries", len(entries))
	}

	s, err := Cached(m, tokenizer.Byte{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	entries, _ := os.ReadDir(dir)
	entry := filepath.Join(dir, entries[0].Name())

	// Truncated token file.
	f := filepath.Join(entry, "train.u16")
	b, _ := os.ReadFile(f)
	os.WriteFile(f, b[:len(b)-2], 0o644)
	if _, err := Cached(m, tokenizer.Byte{}, dir); err == nil || !strings.Contains(err.Error(), "train.u16") || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated cache: err %v", err)
	}
	os.WriteFile(f, b, 0o644)

	// Meta for another corpus (a stale entry).
	mp := filepath.Join(entry, "meta.json")
	mb, _ := os.ReadFile(mp)
	os.WriteFile(mp, []byte(strings.Replace(string(mb), `"key": "`, `"key": "0`, 1)), 0o644)
	if _, err := Cached(m, tokenizer.Byte{}, dir); err == nil || !strings.Contains(err.Error(), "meta.json") || !strings.Contains(err.Error(), "stale") {
		t.Errorf("stale cache: err %v", err)
	}
	os.WriteFile(mp, []byte("{"), 0o644)
	if _, err := Cached(m, tokenizer.Byte{}, dir); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("corrupt meta: err %v", err)
	}

	// Empty corpus.
	empty := &corpus.Memory{Label: "nothing", Docs: []corpus.Document{{Name: "e", Text: nil}}}
	if _, err := Tokenize(empty, tokenizer.Byte{}); err == nil || !strings.Contains(err.Error(), "nothing") || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty corpus: err %v", err)
	}
	if _, err := Cached(empty, tokenizer.Byte{}, dir); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty corpus cached: err %v", err)
	}
}

// fingerprinted counts how often the content hash is computed.
type fingerprinted struct {
	*corpus.Memory
	fp   string
	keys int
}

func (f *fingerprinted) Fingerprint() (string, error) { return f.fp, nil }
func (f *fingerprinted) Key() (string, error)         { f.keys++; return f.Memory.Key() }

func TestCachedRemembersKeyByFingerprint(t *testing.T) {
	dir := t.TempDir()
	src := &fingerprinted{Memory: randomCorpus(rand.New(rand.NewPCG(11, 12)), 10), fp: "abc"}
	for range 3 {
		s, err := Cached(src, tokenizer.Byte{}, dir)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	if src.keys != 1 {
		t.Errorf("content hashed %d times for an unchanged fingerprint, want 1", src.keys)
	}
	src.fp = "changed"
	if _, err := Cached(src, tokenizer.Byte{}, dir); err != nil || src.keys != 2 {
		t.Errorf("a new fingerprint must rehash: %d hashes, err %v", src.keys, err)
	}
}

// A cached split overwritten in part, or with ids outside the vocabulary, is an error naming the
// file; an entry that lost its meta.json is moved aside (not deleted) and rebuilt.
func TestCacheContentChecked(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	dir := t.TempDir()
	m := randomCorpus(rng, 30)
	s, err := Cached(m, tokenizer.Byte{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	entries, _ := os.ReadDir(dir)
	var entry string
	for _, e := range entries {
		if e.IsDir() && e.Name() != "keys" {
			entry = filepath.Join(dir, e.Name())
		}
	}
	f := filepath.Join(entry, "valid.u16")
	b, _ := os.ReadFile(f)
	for name, damage := range map[string]func([]byte) []byte{
		"0xFF": func(b []byte) []byte { return bytes.Repeat([]byte{0xFF}, len(b)) },
		"part": func(b []byte) []byte {
			c := bytes.Clone(b)
			c[len(c)/2] ^= 0x01 // one id changed, still inside the vocabulary
			return c
		},
	} {
		os.WriteFile(f, damage(b), 0o644)
		_, err := Cached(m, tokenizer.Byte{}, dir)
		if err == nil || !strings.Contains(err.Error(), f) || !strings.Contains(err.Error(), "damaged") {
			t.Errorf("%s: err %v, want an error naming %s", name, err, f)
		}
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s: the damaged file was removed", name)
		}
	}
	os.WriteFile(f, b, 0o644)
	os.Remove(filepath.Join(entry, "meta.json"))
	s, err = Cached(m, tokenizer.Byte{}, dir)
	if err != nil {
		t.Fatalf("entry without meta.json: %v", err)
	}
	s.Close()
	if aside, _ := filepath.Glob(entry + ".incomplete-*"); len(aside) != 1 {
		t.Errorf("incomplete entry kept aside: %v", aside)
	}
}

// A corpus with an empty split is an error naming the split, not a run evaluated on nothing.
func TestEmptySplitIsAnError(t *testing.T) {
	m := &corpus.Memory{Label: "one-split", Docs: []corpus.Document{{Name: "a", Text: []byte("some text"), Split: corpus.Train},
		{Name: "b", Text: []byte("more"), Split: corpus.Valid}}}
	if _, err := Tokenize(m, tokenizer.Byte{}); err == nil || !strings.Contains(err.Error(), "no test tokens") || !strings.Contains(err.Error(), "one-split") {
		t.Errorf("empty test split: %v", err)
	}
}
