package plots

import (
	"fmt"
	"image/color"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// PhaseCell is one cell of a phase diagram: Diverged of Runs runs at (X, Y) in a panel.
type PhaseCell struct {
	Panel          string
	X, Y           float64
	Runs, Diverged int
	Note           string // a second, smaller line under "k/n" (e.g. a median loss); "" for none
}

// PhaseDiagram draws the fraction of diverged runs as heatmaps side by side, one per panel (in
// order of first appearance), over the sorted X and Y values, each cell labelled "k/n" (and its
// Note below) and shaded from white (none diverged) to dark red (all).
func PhaseDiagram(cells []PhaseCell, title, xlabel, ylabel string) (*Figure, error) {
	if len(cells) == 0 {
		return nil, fmt.Errorf("plots: phase diagram has no cells")
	}
	var panels []string
	var xs, ys []float64
	for _, c := range cells {
		if c.Runs < 1 || c.Diverged < 0 || c.Diverged > c.Runs {
			return nil, fmt.Errorf("plots: phase cell %s (%g, %g) has %d of %d runs diverged", c.Panel, c.X, c.Y, c.Diverged, c.Runs)
		}
		if !slices.Contains(panels, c.Panel) {
			panels = append(panels, c.Panel)
		}
		if !slices.Contains(xs, c.X) {
			xs = append(xs, c.X)
		}
		if !slices.Contains(ys, c.Y) {
			ys = append(ys, c.Y)
		}
	}
	slices.Sort(xs)
	slices.Sort(ys)
	f := bareFigure(title, xlabel, ylabel)
	// Wide enough for the panels and for the title and x label (about 0.1 and 0.085 inch per
	// character at their sizes).
	f.Width = vg.Length(max(2.2*float64(len(panels))+1.2, 0.1*float64(len(title))+0.6, 0.085*float64(len(xlabel))+1.2)) * vg.Inch
	f.Height = vg.Length(0.5*float64(len(ys))+1.8) * vg.Inch
	gap := 1.0
	col := func(p, xi int) float64 { return float64(p)*(float64(len(xs))+gap) + float64(xi) }
	var labels, notes plotter.XYLabels
	for _, c := range cells {
		p, xi, yi := slices.Index(panels, c.Panel), slices.Index(xs, c.X), slices.Index(ys, c.Y)
		x0, y0 := col(p, xi), float64(yi)
		frac := float64(c.Diverged) / float64(c.Runs)
		poly, err := plotter.NewPolygon(plotter.XYs{{X: x0 - 0.5, Y: y0 - 0.5}, {X: x0 + 0.5, Y: y0 - 0.5}, {X: x0 + 0.5, Y: y0 + 0.5}, {X: x0 - 0.5, Y: y0 + 0.5}})
		if err != nil {
			return nil, err
		}
		poly.Color = shade(frac)
		poly.LineStyle.Color = color.Gray{Y: 200}
		poly.LineStyle.Width = vg.Points(0.5)
		f.Add(poly)
		labels.XYs = append(labels.XYs, plotter.XY{X: x0, Y: y0 + 0.12})
		labels.Labels = append(labels.Labels, fmt.Sprintf("%d/%d", c.Diverged, c.Runs))
		if c.Note != "" {
			notes.XYs = append(notes.XYs, plotter.XY{X: x0, Y: y0 - 0.2})
			notes.Labels = append(notes.Labels, c.Note)
		}
	}
	for _, lb := range []struct {
		xy   plotter.XYLabels
		size float64
	}{{labels, 9}, {notes, 7}} {
		if len(lb.xy.XYs) == 0 {
			continue
		}
		l, err := plotter.NewLabels(lb.xy)
		if err != nil {
			return nil, err
		}
		for i := range l.TextStyle {
			l.TextStyle[i].XAlign, l.TextStyle[i].YAlign = draw.XCenter, draw.YCenter
			l.TextStyle[i].Font.Size = vg.Points(lb.size)
		}
		f.Add(l)
	}
	var xt, yt []plot.Tick
	for p, name := range panels {
		for xi, x := range xs {
			xt = append(xt, plot.Tick{Value: col(p, xi), Label: strconv.FormatFloat(x, 'g', 3, 64)})
		}
		// The panel's name above its columns.
		t, err := plotter.NewLabels(plotter.XYLabels{XYs: []plotter.XY{{X: col(p, 0) + float64(len(xs)-1)/2, Y: float64(len(ys)) - 0.2}}, Labels: []string{name}})
		if err != nil {
			return nil, err
		}
		t.TextStyle[0].XAlign = draw.XCenter
		t.TextStyle[0].Font.Size = vg.Points(11)
		f.Add(t)
	}
	for yi, y := range ys {
		yt = append(yt, plot.Tick{Value: float64(yi), Label: strconv.FormatFloat(y, 'g', 4, 64)})
	}
	f.X.Tick.Marker, f.Y.Tick.Marker = plot.ConstantTicks(xt), plot.ConstantTicks(yt)
	f.X.Min, f.X.Max = -0.6, col(len(panels)-1, len(xs)-1)+0.6
	f.Y.Min, f.Y.Max = -0.6, float64(len(ys))+0.3
	return f, nil
}

// shade runs from white (0) to dark red (1).
func shade(frac float64) color.Color {
	return color.RGBA{R: uint8(255 - 115*frac), G: uint8(255 - 235*frac), B: uint8(255 - 225*frac), A: 255}
}
