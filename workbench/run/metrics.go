package run

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/attnbench/attnbench/internal/atomicfile"
	"github.com/attnbench/attnbench/workbench/results"
)

// truncateMetrics keeps the lines up to step (the last checkpoint), atomically.
func truncateMetrics(dir string, step int) error {
	f := filepath.Join(dir, "metrics.jsonl")
	if _, err := os.Stat(f); os.IsNotExist(err) {
		return nil
	}
	ms, err := results.ReadMetrics(dir)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	for _, m := range ms {
		if m.Step <= step {
			b, _ := json.Marshal(m)
			buf.Write(b)
			buf.WriteByte('\n')
		}
	}
	return writeAtomic(f, buf.Bytes())
}

// writeAtomic and writeJSONAtomic write run files atomically (internal/atomicfile).
func writeAtomic(path string, b []byte) error {
	if err := atomicfile.Write(path, b); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	return nil
}

func writeJSONAtomic(path string, v any) error {
	if err := atomicfile.WriteJSON(path, v); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	return nil
}
