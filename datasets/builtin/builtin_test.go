package builtin

import (
	"strings"
	"testing"

	"github.com/attnbench/attnbench/datasets/corpus"
)

func TestEmbeddedCorpora(t *testing.T) {
	for _, name := range Names() {
		c, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		docs, bytes, err := corpus.Count(c)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]corpus.Split{}
		for _, d := range c.Docs {
			if s, dup := names[d.Name]; dup {
				t.Errorf("%s: document %q appears twice (splits %v and %v)", name, d.Name, s, d.Split)
			}
			names[d.Name] = d.Split
		}
		for _, s := range corpus.Splits {
			if docs[s] == 0 || bytes[s] == 0 {
				t.Errorf("%s: split %v is empty (%d documents, %d bytes)", name, s, docs[s], bytes[s])
			}
		}
		if bytes[corpus.Train] < 1<<20 {
			t.Errorf("%s: train split has only %d bytes", name, bytes[corpus.Train])
		}
		if Describe(name) == "" {
			t.Errorf("%s has no description", name)
		}
	}
}

func TestEmbeddedContent(t *testing.T) {
	for name, want := range map[string]string{
		"prose": "In the beginning God created the heaven and the earth.",
		"code":  "package strings",
		"latex": `\begin{document}`,
	} {
		c, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, d := range c.Docs {
			found = found || strings.Contains(string(d.Text), want)
		}
		if !found {
			t.Errorf("%s: no document contains %q", name, want)
		}
	}
}

func TestByteTokens(t *testing.T) {
	train, err := ByteTokens("prose", corpus.Train)
	if err != nil {
		t.Fatal(err)
	}
	test, err := ByteTokens("prose", corpus.Test)
	if err != nil {
		t.Fatal(err)
	}
	if len(train) == 0 || len(test) == 0 || len(test) > len(train) {
		t.Fatalf("train %d, test %d tokens", len(train), len(test))
	}
	for _, tok := range train[:1000] {
		if tok < 0 || tok > 255 {
			t.Fatalf("token %d outside [0, 255]", tok)
		}
	}
	if _, err := Load("wiki"); err == nil || !strings.Contains(err.Error(), "prose") {
		t.Errorf("unknown corpus error %v should list the valid corpora", err)
	}
}
