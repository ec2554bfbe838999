package experiment

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadValidate: any experiment file loads and validates without a panic, and every error
// names the file or the field it is about.
func FuzzLoadValidate(f *testing.F) {
	f.Add([]byte(`{"name": "x", "model": {"width": 32, "heads": 2, "layers": 1, "posenc": {"kind": "alibi"}}, "data": {"corpus": "prose", "seq_len": 16, "batch": 2}, "optim": {"steps": 10, "lr": 0.001}}`), false)
	f.Add([]byte("name: y\nmodel: {width: 64, heads: 4, layers: 2, attention: kernelized_rpe, attention_params: {m: 8, toeplitz: block}, posenc: {kind: kerple_log}}\ndata: {corpus: code, seq_len: 64, batch: 16}\noptim: {steps: 100, lr: 0.003}\n"), true)
	f.Add([]byte("data: {task: listops, listops: {max_depth: 3, max_length: 20}, batch: 8}\noptim: {steps: 5, lr: 0.01}\nmodel: {width: 16, heads: 2, layers: 1, attention: skyformer}\n"), true)
	f.Add([]byte("data: {task: recall, recall: {pairs: 4, keys: 8, values: 4, eval_pairs: [4, 16]}, batch: 8}\noptim: {steps: 5, lr: 0.01}\nmodel: {width: 16, heads: 2, layers: 1}\n"), true)
	f.Add([]byte(`{"model": {"width": -1, "attention_params": {"m": 1e300}}, "memory_budget_mb": -1}`), false)
	f.Add([]byte("optim: {lr: .nan}\n"), true)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body []byte, yaml bool) {
		ext := ".json"
		if yaml {
			ext = ".yaml"
		}
		path := filepath.Join(dir, "e"+ext)
		if err := os.WriteFile(path, body, 0o644); err != nil {
			t.Fatal(err)
		}
		e, err := Load(path)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("load error without the file: %v", err)
			}
			return
		}
		if err := e.Resolve().Validate(); err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "experiment ") || !(strings.Contains(msg, " = ") || strings.Contains(msg, `"`) || strings.Contains(msg, "data.")) {
				t.Fatalf("validation error that names no field: %v", err)
			}
		}
	})
}
