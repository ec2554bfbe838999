package plots

import (
	"maps"

	"github.com/attnbench/attnbench/workbench/results"

	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

func line(xs []float64, ys []float64) (plotter.XYs, error) {
	var pts plotter.XYs
	for i := range xs {
		if math.IsNaN(ys[i]) || math.IsInf(ys[i], 0) || math.IsNaN(xs[i]) {
			continue
		}
		pts = append(pts, plotter.XY{X: xs[i], Y: ys[i]})
	}
	return pts, nil
}

func order(names []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// Stability plots training loss against step: seeds as faint lines, their median as a solid
// line per variant, a cross where a run diverged, and "k/N diverged" in the legend (Luo et al.
// 2021, the stability of kernelized attention with and without RPE).
func Stability(curves []results.Curve, title string) (*Figure, error) {
	if len(curves) == 0 {
		return nil, fmt.Errorf("plots: stability needs at least one curve")
	}
	f := newFigure(title, "optimizer step", "training loss (nats/token)")
	var names []string
	for _, c := range curves {
		names = append(names, c.Variant)
		if len(c.Steps) != len(c.Loss) {
			return nil, fmt.Errorf("plots: curve %s seed %d has %d steps and %d losses", c.Variant, c.Seed, len(c.Steps), len(c.Loss))
		}
	}
	for i, name := range order(names) {
		col := Color(i)
		diverged, total := 0, 0
		var crosses plotter.XYs
		byStep := map[int][]float64{}
		for _, c := range curves {
			if c.Variant != name {
				continue
			}
			total++
			xs := make([]float64, len(c.Steps))
			for j, s := range c.Steps {
				xs[j] = float64(s)
				if !math.IsNaN(c.Loss[j]) && !math.IsInf(c.Loss[j], 0) {
					byStep[s] = append(byStep[s], c.Loss[j])
				}
			}
			pts, _ := line(xs, c.Loss)
			if len(pts) > 0 {
				l, err := plotter.NewLine(pts)
				if err != nil {
					return nil, err
				}
				l.Color = faint(col, 90)
				l.Width = vg.Points(0.7)
				f.Add(l)
			}
			if c.DivergedAt > 0 {
				diverged++
				y := math.NaN()
				for j := len(pts) - 1; j >= 0; j-- {
					if pts[j].X <= float64(c.DivergedAt) {
						y = pts[j].Y
						break
					}
				}
				if math.IsNaN(y) && len(pts) > 0 {
					y = pts[len(pts)-1].Y
				}
				if !math.IsNaN(y) {
					crosses = append(crosses, plotter.XY{X: float64(c.DivergedAt), Y: y})
				}
			}
		}
		steps := make([]int, 0, len(byStep))
		for s := range byStep {
			steps = append(steps, s)
		}
		sort.Ints(steps)
		var med plotter.XYs
		for _, s := range steps {
			v := slices.Clone(byStep[s])
			slices.Sort(v)
			med = append(med, plotter.XY{X: float64(s), Y: v[len(v)/2]})
		}
		label := fmt.Sprintf("%s (%d/%d diverged)", name, diverged, total)
		if len(med) > 0 {
			l, err := plotter.NewLine(med)
			if err != nil {
				return nil, err
			}
			l.Color, l.Width, l.Dashes = col, vg.Points(1.6), dashes(i)
			f.Add(l)
			f.Legend.Add(label, l)
		}
		if len(crosses) > 0 {
			sc, err := plotter.NewScatter(crosses)
			if err != nil {
				return nil, err
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(4), Shape: draw.CrossGlyph{}}
			f.Add(sc)
			if len(med) == 0 {
				f.Legend.Add(label, sc)
			}
		}
	}
	return f, nil
}

// Speed plots time against n on log-log axes for one mode ("fwd" or "fwdbwd"), with O(n^2) and
// O(n log n) guide slopes through the first measured point of the first variant.
func Speed(rs []results.Speed, mode, title string) (*Figure, error) {
	return speedPlot(rs, mode, title, "time per call (s)", func(r results.Speed) float64 { return r.MedianS }, true)
}

// Memory plots peak memory against n on log-log axes for one mode.
func Memory(rs []results.Speed, mode, title string) (*Figure, error) {
	return speedPlot(rs, mode, title, "peak memory (MB)", func(r results.Speed) float64 { return r.PeakMB }, false)
}

func speedPlot(rs []results.Speed, mode, title, ylabel string, val func(results.Speed) float64, guides bool) (*Figure, error) {
	f := newFigure(title, "sequence length n (tokens)", ylabel)
	f.Legend.Left = true
	f.X.Scale, f.Y.Scale = plot.LogScale{}, plot.LogScale{}
	f.X.Tick.Marker, f.Y.Tick.Marker = logTicks{}, logTicks{}
	var names []string
	for _, r := range rs {
		if r.Mode == mode {
			names = append(names, r.Variant)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("plots: no %s results", mode)
	}
	var first *plotter.XY
	var maxN float64
	var ticks []plot.Tick
	seenN := map[int]bool{}
	for _, r := range rs {
		if r.Mode == mode && !seenN[r.N] {
			seenN[r.N] = true
			ticks = append(ticks, plot.Tick{Value: float64(r.N), Label: fmt.Sprint(r.N)})
		}
	}
	f.X.Tick.Marker = plot.ConstantTicks(ticks)
	// A peer's variant ("torch:softmax") is drawn dashed, in the colour of the variant it runs.
	var ours []string
	for _, name := range order(names) {
		if !strings.Contains(name, ":") {
			ours = append(ours, name)
		}
	}
	for i, name := range order(names) {
		_, base, isPeer := strings.Cut(name, ":")
		ci := i
		if isPeer {
			if j := slices.Index(ours, base); j >= 0 {
				ci = j
			}
		} else {
			ci = slices.Index(ours, name)
		}
		var pts plotter.XYs
		for _, r := range rs {
			if r.Variant == name && r.Mode == mode && r.Skipped == "" && val(r) > 0 {
				pts = append(pts, plotter.XY{X: float64(r.N), Y: val(r)})
				maxN = math.Max(maxN, float64(r.N))
			}
		}
		if len(pts) == 0 {
			continue
		}
		if first == nil {
			first = &pts[0]
		}
		l, s, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		l.Color, l.Width, l.Dashes = Color(ci), vg.Points(1.5), dashes(ci)
		s.Color, s.Shape, s.Radius = Color(ci), draw.CircleGlyph{}, vg.Points(2.5)
		if isPeer {
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			s.Shape = draw.RingGlyph{}
		}
		f.Add(l, s)
		f.Legend.Add(name, l, s)
	}
	if guides && first != nil && maxN > first.X {
		for gi, g := range []struct {
			name string
			fn   func(n float64) float64
		}{{"O(n^2)", func(n float64) float64 { return n * n }}, {"O(n log n)", func(n float64) float64 { return n * math.Log2(n) }}} {
			x0, y0 := first.X, first.Y
			pts := plotter.XYs{{X: x0, Y: y0}, {X: maxN, Y: y0 * g.fn(maxN) / g.fn(x0)}}
			l, err := plotter.NewLine(pts)
			if err != nil {
				return nil, err
			}
			l.Color = faint(Palette[0], 110)
			l.Dashes = []vg.Length{vg.Points(2 + 3*float64(gi)), vg.Points(3)}
			f.Add(l)
			f.Legend.Add(g.name+" guide", l)
		}
	}
	return f, nil
}

func seriesPlot(f *Figure, ss []results.Series, points bool) (*Figure, error) {
	if len(ss) == 0 {
		return nil, fmt.Errorf("plots: %q needs at least one series", f.Title.Text)
	}
	for i, s := range ss {
		if len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("plots: series %s has %d x and %d y values", s.Label, len(s.X), len(s.Y))
		}
		pts, _ := line(s.X, s.Y)
		if len(pts) == 0 {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		l.Color, l.Width, l.Dashes = Color(i), vg.Points(1.5), dashes(i)
		f.Add(l)
		if points {
			sc, _ := plotter.NewScatter(pts)
			sc.Color, sc.Shape, sc.Radius = Color(i), draw.CircleGlyph{}, vg.Points(2.5)
			f.Add(sc)
			if bars := errorBars(s); bars != nil {
				eb, err := plotter.NewYErrorBars(bars)
				if err != nil {
					return nil, err
				}
				eb.Color, eb.Width, eb.CapWidth = Color(i), vg.Points(1), vg.Points(5)
				f.Add(eb)
			}
			f.Legend.Add(s.Label, l, sc)
		} else {
			f.Legend.Add(s.Label, l)
		}
	}
	return f, nil
}

// intervals is the YErrorer of a series' [Low, High] around its points.
type intervals struct {
	plotter.XYs
	low, high []float64
}

func (iv intervals) YError(i int) (float64, float64) {
	return iv.XYs[i].Y - iv.low[i], iv.high[i] - iv.XYs[i].Y
}

// errorBars returns the finite intervals of s, or nil when it has none.
func errorBars(s results.Series) *intervals {
	if len(s.Low) != len(s.Y) || len(s.High) != len(s.Y) {
		return nil
	}
	iv := &intervals{}
	for j := range s.Y {
		x, y, lo, hi := s.X[j], s.Y[j], s.Low[j], s.High[j]
		ok := !math.IsNaN(x) && !math.IsNaN(y) && !math.IsInf(y, 0) && lo > 0 && hi >= y && lo <= y && !math.IsInf(hi, 0)
		if ok {
			iv.XYs, iv.low, iv.high = append(iv.XYs, plotter.XY{X: x, Y: y}), append(iv.low, lo), append(iv.high, hi)
		}
	}
	if len(iv.XYs) == 0 {
		return nil
	}
	return iv
}

// Lines plots labelled series with points, optionally on log axes: for any figure the others
// do not cover.
func Lines(ss []results.Series, title, xlabel, ylabel string, logX, logY bool) (*Figure, error) {
	f := newFigure(title, xlabel, ylabel)
	if logX {
		f.X.Scale, f.X.Tick.Marker = plot.LogScale{}, logTicks{}
	}
	if logY {
		f.Y.Scale, f.Y.Tick.Marker = plot.LogScale{}, logTicks{}
	}
	return seriesPlot(f, ss, true)
}

// Extrapolation plots perplexity against evaluation length (log2 axis) per encoding (KERPLE's
// Tables 2-4 as curves).
//
// The x axis is marked at the evaluated lengths; both axes leave a margin around the points
// (no marker is cut at an edge), and the y axis leaves a band above the highest point, error
// bar included, for the legend.
func Extrapolation(ss []results.Series, trainLen int, title string) (*Figure, error) {
	f := newFigure(title, fmt.Sprintf("evaluation length (tokens; trained at %d)", trainLen), "perplexity")
	f.X.Scale, f.Y.Scale = plot.LogScale{}, plot.LogScale{}
	f.Y.Tick.Marker = logTicks{}
	if _, err := seriesPlot(f, ss, true); err != nil {
		return nil, err
	}
	xs, ylo, yhi := map[float64]bool{}, math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		for j, x := range s.X {
			y := s.Y[j]
			if !(x > 0) || !(y > 0) || math.IsInf(y, 0) || math.IsInf(x, 0) {
				continue
			}
			xs[x] = true
			lo, hi := y, y
			if len(s.Low) == len(s.Y) && s.Low[j] > 0 && s.Low[j] < lo {
				lo = s.Low[j]
			}
			if len(s.High) == len(s.Y) && s.High[j] > hi && !math.IsInf(s.High[j], 0) {
				hi = s.High[j]
			}
			ylo, yhi = math.Min(ylo, lo), math.Max(yhi, hi)
		}
	}
	if len(xs) == 0 {
		return f, nil
	}
	ticks := atValues(slices.Sorted(maps.Keys(xs)))
	f.X.Tick.Marker = ticks
	f.X.Min, f.X.Max = ticks[0]/1.2, ticks[len(ticks)-1]*1.2
	if yhi <= ylo {
		ylo, yhi = ylo/1.5, yhi*1.5
	}
	band := math.Min(0.07*float64(len(ss))+0.05, 0.6) // the legend's share of the height
	f.Y.Min = ylo / math.Pow(yhi/ylo, 0.05)
	f.Y.Max = yhi * math.Pow(yhi/f.Y.Min, band/(1-band))
	return f, nil
}

// PositionLoss plots perplexity at each position of long sequences per encoding (KERPLE's
// position-wise curves), on a log axis so an encoding that blows up does not flatten the rest.
func PositionLoss(ss []results.Series, title string) (*Figure, error) {
	f := newFigure(title, "position in the sequence (tokens)", "perplexity at the position")
	f.Y.Scale, f.Y.Tick.Marker = plot.LogScale{}, logTicks{}
	return seriesPlot(f, ss, false)
}

// Kernels plots learned bias b_k against distance |k| per head (KERPLE, ALiBi, T5, FIRE shapes).
func Kernels(ss []results.Series, title string) (*Figure, error) {
	f := newFigure(title, "distance |i - j| (tokens)", "bias added to the logit")
	return seriesPlot(f, ss, false)
}

// ApproxError plots random-feature approximation error against the number of features m on
// log-log axes, with an m^(-1/2) guide.
func ApproxError(ss []results.Series, title string) (*Figure, error) {
	f := newFigure(title, "random features m", "relative error of the attention output")
	f.X.Scale, f.Y.Scale = plot.LogScale{}, plot.LogScale{}
	f.X.Tick.Marker, f.Y.Tick.Marker = logTicks{}, logTicks{}
	if _, err := seriesPlot(f, ss, true); err != nil {
		return nil, err
	}
	for _, s := range ss {
		if len(s.X) >= 2 && s.Y[0] > 0 {
			x0, x1 := s.X[0], s.X[len(s.X)-1]
			l, err := plotter.NewLine(plotter.XYs{{X: x0, Y: s.Y[0]}, {X: x1, Y: s.Y[0] * math.Sqrt(x0/x1)}})
			if err != nil {
				return nil, err
			}
			l.Color, l.Dashes = faint(Palette[0], 110), []vg.Length{vg.Points(3), vg.Points(3)}
			f.Add(l)
			f.Legend.Add("m^(-1/2) guide", l)
			break
		}
	}
	return f, nil
}
