package sweep

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/attnbench/attnbench/internal/atomicfile"
	"github.com/attnbench/attnbench/workbench/plots"
	"github.com/attnbench/attnbench/workbench/results"
	"github.com/attnbench/attnbench/workbench/run"
)

// Row is one run in the collected table.
type Row struct {
	Index      int             `json:"index"`
	Name       string          `json:"name"`
	Settings   []Setting       `json:"settings"`
	State      string          `json:"state"` // done, diverged, running, failed, or "not started"
	Step       int             `json:"step"`
	FinalLoss  results.Float   `json:"final_loss"` // the last logged loss; NaN when none
	Reason     string          `json:"reason,omitempty"`
	Perplexity map[int]float64 `json:"perplexity,omitempty"` // by evaluation length (not windowed)
	Accuracy   float64         `json:"accuracy,omitempty"`   // classification tasks: test accuracy
}

// Collect reads every run of the sweep from its directory.
func Collect(f *File) ([]Row, error) {
	runs, err := f.Runs()
	if err != nil {
		return nil, err
	}
	var rows []Row
	for _, r := range runs {
		row := Row{Index: r.Index, Name: r.Name, Settings: r.Settings, State: "not started", FinalLoss: results.Float(math.NaN())}
		if st, err := run.ReadStatus(r.Dir); err == nil {
			row.State, row.Step, row.Reason = st.State, st.Step, st.Reason
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("sweep %s: run %s: %w", f.Name, r.Name, err)
		}
		if ms, err := results.ReadMetrics(r.Dir); err == nil && len(ms) > 0 {
			row.FinalLoss = ms[len(ms)-1].Loss
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("sweep %s: run %s: %w", f.Name, r.Name, err)
		}
		ev, err := results.ReadEval(r.Dir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("sweep %s: run %s: %w", f.Name, r.Name, err)
		}
		if err == nil {
			for _, e := range ev {
				switch {
				case e.Skipped != "" || e.Windowed:
				case e.IsAccuracy():
					if e.Split == "test" {
						row.Accuracy = e.Accuracy
					}
				default:
					if row.Perplexity == nil {
						row.Perplexity = map[int]float64{}
					}
					row.Perplexity[e.Length] = e.Perplexity
				}
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// WriteTable writes rows as CSV (a path not ending in .json) or JSON, atomically: index, name,
// one column per setting, state, step, final loss, reason, then perplexity by length.
func WriteTable(path string, rows []Row) error {
	if strings.HasSuffix(path, ".json") {
		return atomicfile.WriteJSON(path, rows)
	}
	var fields []string
	var lengths []int
	for _, r := range rows {
		for _, s := range r.Settings {
			if !slices.Contains(fields, s.Field) {
				fields = append(fields, s.Field)
			}
		}
		for l := range r.Perplexity {
			if !slices.Contains(lengths, l) {
				lengths = append(lengths, l)
			}
		}
	}
	slices.Sort(lengths)
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	head := append([]string{"index", "name"}, fields...)
	head = append(head, "state", "step", "final_loss", "reason", "accuracy")
	for _, l := range lengths {
		head = append(head, fmt.Sprintf("ppl@%d", l))
	}
	w.Write(head)
	for _, r := range rows {
		rec := []string{strconv.Itoa(r.Index), r.Name}
		for _, f := range fields {
			v := ""
			for _, s := range r.Settings {
				if s.Field == f {
					v = fmt.Sprint(s.Value)
				}
			}
			rec = append(rec, v)
		}
		rec = append(rec, r.State, strconv.Itoa(r.Step), strconv.FormatFloat(float64(r.FinalLoss), 'g', 6, 64), r.Reason, strconv.FormatFloat(r.Accuracy, 'g', 4, 64))
		for _, l := range lengths {
			if p, ok := r.Perplexity[l]; ok {
				rec = append(rec, strconv.FormatFloat(p, 'g', 6, 64))
			} else {
				rec = append(rec, "")
			}
		}
		w.Write(rec)
	}
	w.Flush()
	return atomicfile.Write(path, buf.Bytes())
}

// Cell is one cell of a phase diagram: the runs that share every setting but the seed.
type Cell struct {
	Variant  string
	X, Y     any // the values of the diagram's two fields
	Runs     int
	Diverged int
	Losses   []float64 // the final training losses of the runs that did not diverge
}

// MedianLoss is the median of Losses, NaN when every run diverged.
func (c Cell) MedianLoss() float64 {
	if len(c.Losses) == 0 {
		return math.NaN()
	}
	l := slices.Sorted(slices.Values(c.Losses))
	if n := len(l); n%2 == 1 {
		return l[n/2]
	} else {
		return (l[n/2-1] + l[n/2]) / 2
	}
}

// Phase groups rows by variant and the values of fields x and y, counting diverged runs (the
// other fields, typically the seed, are pooled). Unfinished runs are left out.
func Phase(rows []Row, x, y string) []Cell {
	type key struct {
		v    string
		x, y string
	}
	idx := map[key]int{}
	var cells []Cell
	for _, r := range rows {
		if r.State != "done" && r.State != "diverged" {
			continue
		}
		var variant string
		var xv, yv any
		for _, s := range r.Settings {
			switch s.Field {
			case "variant":
				variant = fmt.Sprint(s.Value)
			case x:
				xv = s.Value
			case y:
				yv = s.Value
			}
		}
		if xv == nil || yv == nil {
			continue
		}
		k := key{variant, fmt.Sprint(xv), fmt.Sprint(yv)}
		i, ok := idx[k]
		if !ok {
			i = len(cells)
			idx[k] = i
			cells = append(cells, Cell{Variant: variant, X: xv, Y: yv})
		}
		cells[i].Runs++
		if r.State == "diverged" {
			cells[i].Diverged++
		} else if l := float64(r.FinalLoss); !math.IsNaN(l) {
			cells[i].Losses = append(cells[i].Losses, l)
		}
	}
	return cells
}

// NamedFigure is a figure and the file name it is exported under.
type NamedFigure struct {
	Name   string
	Figure *plots.Figure
}

// PhaseFigures draws the phase diagram of a sweep with numeric axes "optim.lr" and
// "data.seq_len" (fraction of diverged runs over the other axes, e.g. seeds, and the median final
// loss of the rest, one panel per variant); none for sweeps without both axes.
func PhaseFigures(f *File, rows []Row) ([]NamedFigure, error) {
	var pc []plots.PhaseCell
	for _, c := range Phase(rows, "optim.lr", "data.seq_len") {
		x, ok1 := toFloat(c.X)
		y, ok2 := toFloat(c.Y)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("sweep %s: phase diagram: optim.lr %v and data.seq_len %v must be numbers", f.Name, c.X, c.Y)
		}
		panel := c.Variant
		for _, v := range f.Variants {
			if v.Name == c.Variant && v.Label != "" {
				panel = v.Label
			}
		}
		note := ""
		if l := c.MedianLoss(); !math.IsNaN(l) {
			note = fmt.Sprintf("%.2f", l)
		}
		pc = append(pc, plots.PhaseCell{Panel: panel, X: x, Y: y, Runs: c.Runs, Diverged: c.Diverged, Note: note})
	}
	if len(pc) == 0 {
		return nil, nil
	}
	title := f.Title
	if title == "" {
		title = "Diverged runs, sweep " + f.Name
	}
	fig, err := plots.PhaseDiagram(pc, title, "peak learning rate  (cell: diverged runs / runs; below, median final loss of the others)", "training length (tokens)")
	if err != nil {
		return nil, err
	}
	return []NamedFigure{{"phase", fig}}, nil
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	}
	return 0, false
}
