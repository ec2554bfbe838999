package run

import (
	"fmt"
	"math"
	"slices"
)

// Detector marks a run diverged at a NaN or Inf loss, or at a loss above Factor times the median
// of the previous Window losses (checked once Window losses are seen; Factor <= 0 disables it).
type Detector struct {
	Factor float64
	Window int
	recent []float64
}

// recentLosses returns the losses the spike rule compares against (for checkpoints).
func (d *Detector) recentLosses() []float64 { return slices.Clone(d.recent) }

// Check records loss and returns a non-empty reason when it diverges.
func (d *Detector) Check(loss float64) string {
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return fmt.Sprintf("loss is %v", loss)
	}
	if d.Factor > 0 && len(d.recent) >= d.Window {
		s := slices.Clone(d.recent)
		slices.Sort(s)
		med := s[len(s)/2]
		if len(s)%2 == 0 {
			med = (s[len(s)/2-1] + s[len(s)/2]) / 2
		}
		if loss > d.Factor*med {
			return fmt.Sprintf("loss %.4g is above %g x the running median %.4g of the last %d steps", loss, d.Factor, med, d.Window)
		}
	}
	d.recent = append(d.recent, loss)
	if len(d.recent) > d.Window {
		d.recent = d.recent[1:]
	}
	return ""
}
