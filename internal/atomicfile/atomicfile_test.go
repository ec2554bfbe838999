package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReplacesAndLeavesNoTemporary(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	for _, v := range []any{map[string]int{"x": 1}, []int{1, 2, 3}} {
		if err := WriteJSON(p, v); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(p)
	if err != nil || string(b) != "[\n  1,\n  2,\n  3\n]\n" {
		t.Fatalf("content %q, %v", b, err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != Perm {
		t.Errorf("mode %v, want %v", st.Mode().Perm(), os.FileMode(Perm))
	}
	if es, _ := os.ReadDir(dir); len(es) != 1 {
		t.Errorf("%d entries in the directory, want 1", len(es))
	}
	if err := Write(filepath.Join(dir, "missing", "b"), nil); err == nil {
		t.Error("write into a missing directory succeeded")
	}
}
