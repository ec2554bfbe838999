package sweep

import (
	"strings"
	"testing"
)

// FuzzParse: no sweep file panics; a bad one is an error, a good one expands to runs with
// distinct names and directories.
func FuzzParse(f *testing.F) {
	f.Add([]byte("name: s\nbase:"+tinyBase+"axes:\n  - {field: optim.lr, values: [0.01, 0.1]}\n"), true)
	f.Add([]byte("name: s\nvariants:\n  - {name: a, label: A, set: {model.attention: performer}}\naxes:\n  - {field: data.seq_len, values: [16, 32], with: {data.batch: [4, 2]}}\n"), true)
	f.Add([]byte(`{"name": "j", "axes": [{"field": "seed", "values": [1, 2, 3]}, {"field": "model.width", "values": [16, -1]}]}`), false)
	f.Add([]byte("name: s\naxes:\n  - {field: a..b, values: [1]}\n"), true)
	f.Add([]byte("name: s\naxes:\n  - {field: data.seq_len, values: [1], with: {variant: [1]}}\n"), true)
	f.Fuzz(func(t *testing.T, body []byte, yaml bool) {
		ext := ".json"
		if yaml {
			ext = ".yaml"
		}
		file, err := Parse(body, ext, t.TempDir())
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("empty error")
			}
			return
		}
		runs, err := file.Runs()
		if err != nil {
			t.Fatalf("a parsed file does not expand: %v", err)
		}
		seen := map[string]bool{}
		for _, r := range runs {
			if seen[r.Dir] || r.Name == "" {
				t.Fatalf("run %d: name %q, directory %q repeated or empty", r.Index, r.Name, r.Dir)
			}
			seen[r.Dir] = true
		}
	})
}
