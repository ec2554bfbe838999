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

// Eval is the evaluation at one length. For a language model: perplexity = exp(mean token
// loss) over Sequences non-overlapping sequences (the KERPLE protocol), and the mean loss at
// each position. For a classification task (listops, recall): the accuracy over Sequences
// examples of a split, beside the accuracy of a baseline (the majority class, chance).
type Eval struct {
	Length       int       `json:"length"`
	Windowed     bool      `json:"windowed"` // band mask of width L_train
	Sequences    int       `json:"sequences"`
	Loss         float64   `json:"loss"`
	Perplexity   float64   `json:"perplexity"`
	PositionLoss []float64 `json:"position_loss"`
	Split        string    `json:"split,omitempty"` // classification: valid or test
	Accuracy     float64   `json:"accuracy,omitempty"`
	Baseline     float64   `json:"baseline,omitempty"`
	Skipped      string    `json:"skipped,omitempty"`
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
	w.Write([]string{"length", "windowed", "sequences", "loss", "perplexity", "split", "accuracy", "baseline", "skipped"})
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
	for _, r := range ev {
		w.Write([]string{strconv.Itoa(r.Length), strconv.FormatBool(r.Windowed), strconv.Itoa(r.Sequences),
			g(r.Loss), g(r.Perplexity), r.Split, g(r.Accuracy), g(r.Baseline), r.Skipped})
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
