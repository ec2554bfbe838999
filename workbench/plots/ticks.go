package plots

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// logTicks marks a log axis: labels at 10^k when the range holds three of them, else at
// {1, 2, 5} x 10^k or {1, ..., 9} x 10^k, whichever first gives enough labels, with unlabelled
// ticks at every {1, ..., 9} x 10^k. A range narrower than two such values gets linear ticks.
// gonum's LogTicks labels powers of ten only and leaves a narrow axis without numbers.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) || math.IsInf(hi, 0) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	k0, k1 := int(math.Floor(math.Log10(lo))), int(math.Ceil(math.Log10(hi)))
	inRange := func(mults []float64) []float64 {
		var vs []float64
		for k := k0; k <= k1; k++ {
			for _, m := range mults {
				// Round to the decimal digits of 10^k so labels print as 0.2, not 0.20000000000000001.
				v, _ := strconv.ParseFloat(strconv.FormatFloat(m*math.Pow10(k), 'g', 12, 64), 64)
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
	}{{[]float64{1}, 3}, {[]float64{1, 2, 5}, 2}, {all, 2}} {
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
