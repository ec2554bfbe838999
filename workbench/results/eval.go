package results

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/attnbench/attnbench/internal/atomicfile"
)

// Eval is the evaluation at one length. For a language model: perplexity = exp(mean token
// loss) over Sequences non-overlapping sequences (the KERPLE protocol), and the mean loss at
// each position. For a classification task (listops, recall): the accuracy over Sequences
// examples of a split, beside the accuracy of a baseline (the majority class, chance).
type Eval struct {
	Length     int     `json:"length"`
	Windowed   bool    `json:"windowed"` // band mask of width L_train
	Sequences  int     `json:"sequences"`
	Loss       float64 `json:"loss"`
	Perplexity float64 `json:"perplexity"`
	// LossSE is the standard error of Loss over the sequences (sd of the per-sequence mean loss
	// / sqrt(Sequences)); Perplexity's 95% interval is exp(Loss -+ 1.96 LossSE).
	LossSE         float64   `json:"loss_se"`
	PerplexityLow  float64   `json:"perplexity_low"`
	PerplexityHigh float64   `json:"perplexity_high"`
	PositionLoss   []float64 `json:"position_loss"`
	Split          string    `json:"split,omitempty"` // classification: valid or test
	Accuracy       float64   `json:"accuracy,omitempty"`
	Baseline       float64   `json:"baseline,omitempty"`
	Skipped        string    `json:"skipped,omitempty"`
}

// IsAccuracy reports whether r is a classification result.
func (r Eval) IsAccuracy() bool { return r.Split != "" }

// WriteEval writes eval.json and eval.csv (length, windowed, sequences, loss, perplexity, split,
// accuracy, baseline, skipped).
func WriteEval(dir string, ev []Eval) error {
	if err := atomicfile.WriteJSON(filepath.Join(dir, "eval.json"), ev); err != nil {
		return err
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"length", "windowed", "sequences", "loss", "loss_se", "perplexity", "perplexity_low", "perplexity_high",
		"split", "accuracy", "baseline", "skipped"})
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
	for _, r := range ev {
		w.Write([]string{strconv.Itoa(r.Length), strconv.FormatBool(r.Windowed), strconv.Itoa(r.Sequences),
			g(r.Loss), g(r.LossSE), g(r.Perplexity), g(r.PerplexityLow), g(r.PerplexityHigh), r.Split, g(r.Accuracy), g(r.Baseline), r.Skipped})
	}
	w.Flush()
	return atomicfile.Write(filepath.Join(dir, "eval.csv"), buf.Bytes())
}

// ReadEval reads a run's eval.json; a run without one gives an error satisfying os.IsNotExist.
func ReadEval(dir string) ([]Eval, error) {
	b, err := os.ReadFile(filepath.Join(dir, "eval.json"))
	if err != nil {
		return nil, err
	}
	var ev []Eval
	if err := json.Unmarshal(b, &ev); err != nil {
		return nil, fmt.Errorf("results: %s: %w", filepath.Join(dir, "eval.json"), err)
	}
	return ev, nil
}

// MeanSE returns the mean of xs and its standard error, sd/sqrt(n) with the n-1 sample
// variance; the error is 0 for fewer than two values.
func MeanSE(xs []float64) (mean, se float64) {
	n := float64(len(xs))
	if n == 0 {
		return 0, 0
	}
	for _, x := range xs {
		mean += x
	}
	mean /= n
	if n < 2 {
		return mean, 0
	}
	ss := 0.0
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss/(n-1)) / math.Sqrt(n)
}
