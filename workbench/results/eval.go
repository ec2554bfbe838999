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

// Eval is the evaluation at one length: perplexity = exp(mean token loss) over Sequences
// non-overlapping sequences (the KERPLE protocol), and the mean loss at each position.
type Eval struct {
	Length       int       `json:"length"`
	Windowed     bool      `json:"windowed"` // band mask of width L_train
	Sequences    int       `json:"sequences"`
	Loss         float64   `json:"loss"`
	Perplexity   float64   `json:"perplexity"`
	PositionLoss []float64 `json:"position_loss"`
	Skipped      string    `json:"skipped,omitempty"`
}

// WriteEval writes eval.json and eval.csv (length, windowed, sequences, loss, perplexity).
func WriteEval(dir string, ev []Eval) error {
	if err := atomicfile.WriteJSON(filepath.Join(dir, "eval.json"), ev); err != nil {
		return err
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"length", "windowed", "sequences", "loss", "perplexity", "skipped"})
	for _, r := range ev {
		w.Write([]string{strconv.Itoa(r.Length), strconv.FormatBool(r.Windowed), strconv.Itoa(r.Sequences),
			strconv.FormatFloat(r.Loss, 'g', 6, 64), strconv.FormatFloat(r.Perplexity, 'g', 6, 64), r.Skipped})
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
