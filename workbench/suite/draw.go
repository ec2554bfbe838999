package suite

import (
	"fmt"

	"github.com/attnbench/attnbench/workbench/plots"
	"github.com/attnbench/attnbench/workbench/results"
)

// Named is a drawn figure with its file name (without extension).
type Named struct {
	Name   string
	Figure *plots.Figure
}

// ReportFigures draws the figures of a collection of runs: training loss (stability) when
// stability is set, and, for runs with evaluations, perplexity against length, its windowed
// form and the position-wise perplexity at the longest length. The names carry suffix
// ("extrapolation"+suffix, ...); titles name what.
func ReportFigures(rep *results.Report, what, suffix string, stability bool) ([]Named, error) {
	var out []Named
	add := func(name string, f *plots.Figure, err error) error {
		if err != nil {
			return fmt.Errorf("figure %s: %w", name, err)
		}
		out = append(out, Named{name, f})
		return nil
	}
	if stability {
		if len(rep.Curves) == 0 {
			return nil, fmt.Errorf("suite: no run with metrics to draw the training loss of")
		}
		f, err := plots.Stability(rep.Curves, "Training loss: "+what)
		if err := add("stability"+suffix, f, err); err != nil {
			return nil, err
		}
	}
	if len(rep.Perplexity) > 0 {
		f, err := plots.Extrapolation(rep.Perplexity, rep.TrainLen, "Extrapolation on "+what+" (non-overlapping)")
		if err := add("extrapolation"+suffix, f, err); err != nil {
			return nil, err
		}
	}
	if len(rep.Windowed) > 0 {
		f, err := plots.Extrapolation(rep.Windowed, rep.TrainLen, "Windowed evaluation on "+what+" (band of width L)")
		if err := add("windowed"+suffix, f, err); err != nil {
			return nil, err
		}
	}
	if len(rep.Position) > 0 {
		f, err := plots.PositionLoss(rep.Position, "Position-wise perplexity on "+what+" at the longest length")
		if err := add("position"+suffix, f, err); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SpeedFigures draws time and peak memory against n for each mode measured.
func SpeedFigures(rs []results.Speed, backendName string) ([]Named, error) {
	modes := map[string]bool{}
	for _, r := range rs {
		modes[r.Mode] = true
	}
	var out []Named
	for _, mode := range []string{"fwd", "fwdbwd"} {
		if !modes[mode] {
			continue
		}
		label := map[string]string{"fwd": "forward", "fwdbwd": "forward + backward"}[mode]
		title := "Attention time, " + label
		if backendName != "" {
			title += ", " + backendName
		}
		f, err := plots.Speed(rs, mode, title)
		if err != nil {
			return nil, err
		}
		m, err := plots.Memory(rs, mode, "Attention peak memory, "+label)
		if err != nil {
			return nil, err
		}
		out = append(out, Named{"speed-" + mode, f}, Named{"memory-" + mode, m})
	}
	return out, nil
}

// AttentionFigures draws one attention map per head of layer, w indexed [layer][head][query][key].
func AttentionFigures(w [][][][]float64, layer int, what, prefix string) ([]Named, error) {
	if layer < 0 || layer >= len(w) {
		return nil, fmt.Errorf("suite: layer %d is outside [0, %d]", layer, len(w)-1)
	}
	var out []Named
	for h, m := range w[layer] {
		f, err := plots.AttentionMap(m, fmt.Sprintf("%s: layer %d, head %d", what, layer, h))
		if err != nil {
			return nil, err
		}
		out = append(out, Named{fmt.Sprintf("%s-h%d", prefix, h), f})
	}
	return out, nil
}

// emitAll shows and exports figures in order.
func (env Env) emitAll(fs []Named) error {
	for _, f := range fs {
		if err := env.emit(f.Name, f.Figure, nil); err != nil {
			return err
		}
	}
	return nil
}
