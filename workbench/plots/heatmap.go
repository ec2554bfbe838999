package plots

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

type grid struct {
	m    [][]float64
	rows int
	cols int
}

func (g grid) Dims() (c, r int)   { return g.cols, g.rows }
func (g grid) Z(c, r int) float64 { return g.m[g.rows-1-r][c] }
func (g grid) X(c int) float64    { return float64(c) }
func (g grid) Y(r int) float64    { return float64(r) }

// AttentionMap draws attention probabilities m[query][key] as a heatmap (query 0 at the top).
func AttentionMap(m [][]float64, title string) (*Figure, error) {
	if len(m) == 0 || len(m[0]) == 0 {
		return nil, fmt.Errorf("plots: attention map is empty")
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, row := range m {
		if len(row) != len(m[0]) {
			return nil, fmt.Errorf("plots: attention map row %d has %d values, row 0 has %d", i, len(row), len(m[0]))
		}
		for _, v := range row {
			if !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if hi <= lo {
		hi = lo + 1
	}
	pal := moreland.ExtendedBlackBody()
	pal.SetMin(lo)
	pal.SetMax(hi)
	f := bareFigure(title, fmt.Sprintf("key position (colour: probability %.2g dark to %.2g light)", lo, hi), "query position")
	f.Width, f.Height = 5*vg.Inch, 5*vg.Inch
	h := plotter.NewHeatMap(grid{m: m, rows: len(m), cols: len(m[0])}, pal.Palette(64))
	h.Min, h.Max = lo, hi+0.1*(hi-lo) // the palette ends in white, the page's colour
	f.Add(h)
	var xt, yt []plot.Tick // plot row r shows query rows-1-r, so query 0 is at the top
	for q := 0; q < len(m); q += max(1, len(m)/8) {
		yt = append(yt, plot.Tick{Value: float64(len(m) - 1 - q), Label: fmt.Sprint(q)})
	}
	for k := 0; k < len(m[0]); k += max(1, len(m[0])/8) {
		xt = append(xt, plot.Tick{Value: float64(k), Label: fmt.Sprint(k)})
	}
	f.X.Tick.Marker, f.Y.Tick.Marker = plot.ConstantTicks(xt), plot.ConstantTicks(yt)
	return f, nil
}
