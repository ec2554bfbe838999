package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
)

// Float is a float64 whose JSON form keeps NaN and infinities ("NaN", "+Inf", "-Inf"), so a
// diverged loss is recorded as it was.
type Float float64

func (f Float) MarshalJSON() ([]byte, error) {
	x := float64(f)
	switch {
	case math.IsNaN(x):
		return []byte(`"NaN"`), nil
	case math.IsInf(x, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(x, -1):
		return []byte(`"-Inf"`), nil
	}
	return strconv.AppendFloat(nil, x, 'g', -1, 64), nil
}

func (f *Float) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		x, err := strconv.ParseFloat(s, 64)
		*f = Float(x)
		return err
	}
	var x float64
	err := json.Unmarshal(b, &x)
	*f = Float(x)
	return err
}

// Metric is one line of metrics.jsonl.
type Metric struct {
	Step      int    `json:"step"`
	Loss      Float  `json:"loss"`
	LR        Float  `json:"lr"`
	GradNorm  Float  `json:"grad_norm"`
	TokensPS  Float  `json:"tokens_per_s"`
	WallS     Float  `json:"wall_s"`
	Diverged  bool   `json:"diverged,omitempty"`
	ValidLoss *Float `json:"valid_loss,omitempty"`
}

// ReadMetrics reads a run's metrics.jsonl.
func ReadMetrics(dir string) ([]Metric, error) {
	f := filepath.Join(dir, "metrics.jsonl")
	b, err := os.ReadFile(f)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	var out []Metric
	lines := bytes.SplitAfter(b, []byte("\n"))
	for i, line := range lines {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var m Metric
		if err := json.Unmarshal(line, &m); err != nil {
			// A line cut by a kill is the unterminated last one; anything else is corruption.
			if i == len(lines)-1 && !bytes.HasSuffix(line, []byte("\n")) {
				break
			}
			return nil, fmt.Errorf("results: %s line %d: %w", f, i+1, err)
		}
		out = append(out, m)
	}
	return out, nil
}
