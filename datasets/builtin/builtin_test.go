package builtin

import (
	"strings"
	"testing"
)

func TestTinyGo(t *testing.T) {
	b, err := Bytes("tiny_go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"// file: sort/sort.go", "// file: strings/strings.go", "// file: bufio/bufio.go"} {
		if !strings.Contains(string(b), f) {
			t.Errorf("corpus lacks %q", f)
		}
	}
	if len(b) < 50_000 {
		t.Errorf("corpus has %d bytes, want > 50000", len(b))
	}
	if _, err := Bytes("wiki"); err == nil || !strings.Contains(err.Error(), "tiny_go") {
		t.Errorf("unknown corpus: error %v should list valid names", err)
	}
}
