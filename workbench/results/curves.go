// Package results holds what the workbench measures, as plain data with JSON and CSV forms:
// training curves, labelled series, speed and memory timings, evaluations, and their
// collection from run directories. It draws nothing (package plots does) and trains nothing
// (package run does).
package results

import "fmt"

// Curve is one run's loss against step.
type Curve struct {
	Variant    string
	Seed       uint64
	Steps      []int
	Loss       []float64
	DivergedAt int // step of divergence, 0 when the run did not diverge
}

// Series is one labelled x-y series, with an optional interval [Low, High] around each Y
// (drawn as error bars).
type Series struct {
	Label     string
	X, Y      []float64
	Low, High []float64
}

// HeadSeries turns one row of values per head, indexed by distance 0, 1, ..., into a series per
// head ("head 0", "head 1", ...), for Kernels.
func HeadSeries(rows [][]float64) []Series {
	ss := make([]Series, len(rows))
	for h, row := range rows {
		ss[h].Label = fmt.Sprintf("head %d", h)
		for dist, v := range row {
			ss[h].X, ss[h].Y = append(ss[h].X, float64(dist)), append(ss[h].Y, v)
		}
	}
	return ss
}

// CurveOf is the loss curve of a run's logged metrics.
func CurveOf(variant string, seed uint64, ms []Metric) Curve {
	c := Curve{Variant: variant, Seed: seed}
	for _, m := range ms {
		c.Steps = append(c.Steps, m.Step)
		c.Loss = append(c.Loss, float64(m.Loss))
		if m.Diverged && c.DivergedAt == 0 {
			c.DivergedAt = m.Step
		}
	}
	return c
}
