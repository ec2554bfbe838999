package plots

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// logTicks marks a log axis: labels at 10^k when the range holds three of them, else at
// {1, 2, 5} x 10^k when it holds three of those, else at {1, ..., 9} x 10^k, with unlabelled
// ticks at every {1, ..., 9} x 10^k. A range spanning less than a factor 3 gets linear ticks.
// gonum's LogTicks labels powers of ten only and leaves a narrow axis without numbers.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) || math.IsInf(hi, 0) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	if hi/lo < 3 { // a narrow axis reads best with evenly spaced labels
		return linearTicks{}.Ticks(lo, hi)
	}
	k0, k1 := int(math.Floor(math.Log10(lo))), int(math.Ceil(math.Log10(hi)))
	inRange := func(mults []float64) []float64 {
		var vs []float64
		for k := k0; k <= k1; k++ {
			for _, m := range mults {
				v := round12(m * math.Pow10(k))
				if v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
					vs = append(vs, v)
				}
			}
		}
		return vs
	}
	all := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9}
	for _, c := range []struct {
		mults []float64
		need  int
	}{{[]float64{1}, 3}, {[]float64{1, 2, 5}, 3}, {all, 2}} {
		labels := inRange(c.mults)
		if len(labels) < c.need {
			continue
		}
		var ticks []plot.Tick
		labelled := map[float64]bool{}
		for _, v := range labels {
			labelled[v] = true
			ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', -1, 64)})
		}
		for _, v := range inRange(all) {
			if !labelled[v] {
				ticks = append(ticks, plot.Tick{Value: v})
			}
		}
		return ticks
	}
	return plot.DefaultTicks{}.Ticks(lo, hi)
}

// linearTicks labels multiples of a step from {1, 2, 5} x 10^k, the smallest giving at most
// seven labels, with unlabelled ticks between them (gonum's default labels every third tick).
type linearTicks struct{}

func (linearTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	k := int(math.Floor(math.Log10(hi-lo))) - 2
	for ; ; k++ {
		for _, m := range []float64{1, 2, 5} {
			step := m * math.Pow10(k)
			first, last := math.Ceil(lo/step-1e-9), math.Floor(hi/step+1e-9)
			if last-first+1 > 7 {
				continue
			}
			minor := step / 5
			if m == 2 {
				minor = step / 4
			}
			var ticks []plot.Tick
			for i := math.Ceil(lo/minor - 1e-9); i <= math.Floor(hi/minor+1e-9); i++ {
				v := i*minor + 0 // -0 + 0 = +0: no "-0" label
				t := plot.Tick{Value: v}
				if r := v / step; math.Abs(r-math.Round(r)) < 1e-6 {
					t.Label = strconv.FormatFloat(v, 'f', max(0, -k), 64) // the step's decimals
				}
				ticks = append(ticks, t)
			}
			return ticks
		}
	}
}

// round12 rounds v to 12 significant digits, so that 2*0.1 labels as 0.2.
func round12(v float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 12, 64), 64)
	return r
}

// atValues marks an axis at given values only (the evaluated lengths of an extrapolation
// figure), labelled as integers.
type atValues []float64

func (a atValues) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for _, v := range a {
		if v >= lo && v <= hi {
			ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
		}
	}
	return ticks
}
