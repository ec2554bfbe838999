package results

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/attnbench/attnbench/internal/atomicfile"
)

// Speed is the timing of one variant at one length and mode ("fwd" or "fwdbwd").
type Speed struct {
	Variant string  `json:"variant"`
	N       int     `json:"n"`
	Mode    string  `json:"mode"`
	MedianS float64 `json:"median_s"`
	MinS    float64 `json:"min_s"`
	MaxS    float64 `json:"max_s"`
	PeakMB  float64 `json:"peak_mb"`
	Skipped string  `json:"skipped,omitempty"`
}

// WriteSpeed saves timings as JSON (path ending in .json) or CSV (any other path), atomically;
// ReadSpeed loads the JSON form.
func WriteSpeed(path string, rs []Speed) error {
	if filepath.Ext(path) == ".json" {
		return atomicfile.WriteJSON(path, rs)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"variant", "n", "mode", "median_s", "min_s", "max_s", "peak_mb", "skipped"})
	for _, r := range rs {
		g := func(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
		w.Write([]string{r.Variant, strconv.Itoa(r.N), r.Mode, g(r.MedianS), g(r.MinS), g(r.MaxS), g(r.PeakMB), r.Skipped})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return atomicfile.Write(path, buf.Bytes())
}

func ReadSpeed(path string) ([]Speed, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	var rs []Speed
	if err := json.Unmarshal(b, &rs); err != nil {
		return nil, fmt.Errorf("results: %s: %w", path, err)
	}
	return rs, nil
}
