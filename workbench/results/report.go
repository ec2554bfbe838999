package results

import (
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"

	"github.com/attnbench/attnbench/workbench/experiment"
)

// Report gathers the results of run directories for the figures. Runs named <variant>-s<seed>
// are seeds of one variant.
type Report struct {
	TrainLen int
	// Curves holds every run's logged loss, for the stability figure.
	Curves []Curve
	// Perplexity holds, per variant, perplexity against evaluation length (geometric mean over
	// seeds); Position the position-wise perplexity at the longest length (blocks of positions
	// averaged to at most 64 points). Windowed results are left out.
	Perplexity []Series
	Position   []Series
	// Windowed is Perplexity with a band mask of the training length, for runs evaluated so.
	Windowed []Series
}

var seedSuffix = regexp.MustCompile(`-s\d+$`)

// Collect reads the run directories in dirs (those without metrics are skipped).
func Collect(dirs []string) (*Report, error) {
	rep := &Report{}
	type agg struct {
		logSum, winSum map[int]float64
		seSq, winSeSq  map[int]float64 // sums of squared standard errors of the log perplexity
		n, winN        map[int]int
		pos            []float64
	}
	ext := map[string]*agg{}
	var order []string
	for _, d := range dirs {
		ms, err := ReadMetrics(d)
		if err != nil {
			continue
		}
		e, err := experiment.Load(filepath.Join(d, "config.json"))
		if err != nil {
			return nil, err
		}
		rep.TrainLen = e.Data.SeqLen
		variant := seedSuffix.ReplaceAllString(e.Name, "")
		rep.Curves = append(rep.Curves, CurveOf(variant, e.Seed, ms))
		ev, err := ReadEval(d)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		a := ext[variant]
		if a == nil {
			a = &agg{logSum: map[int]float64{}, n: map[int]int{}, winSum: map[int]float64{}, winN: map[int]int{},
				seSq: map[int]float64{}, winSeSq: map[int]float64{}}
			ext[variant] = a
			order = append(order, variant)
		}
		longest := 0
		for _, r := range ev {
			if r.Skipped != "" || r.IsAccuracy() || !(r.Perplexity > 0) {
				continue
			}
			if r.Windowed {
				a.winSum[r.Length] += math.Log(r.Perplexity)
				a.winSeSq[r.Length] += r.LossSE * r.LossSE
				a.winN[r.Length]++
				continue
			}
			a.logSum[r.Length] += math.Log(r.Perplexity)
			a.seSq[r.Length] += r.LossSE * r.LossSE
			a.n[r.Length]++
			if r.Length > longest {
				longest, a.pos = r.Length, r.PositionLoss
			}
		}
	}
	for _, v := range order {
		a := ext[v]
		rep.Perplexity = append(rep.Perplexity, geoMean(v, a.logSum, a.seSq, a.n))
		if len(a.winN) > 0 {
			rep.Windowed = append(rep.Windowed, geoMean(v+" (windowed)", a.winSum, a.winSeSq, a.winN))
		}
		if len(a.pos) > 0 {
			w := max(1, len(a.pos)/64)
			ps := Series{Label: v}
			for i := 0; i < len(a.pos); i += w {
				sum, n := 0.0, 0
				for _, l := range a.pos[i:min(i+w, len(a.pos))] {
					sum, n = sum+l, n+1
				}
				ps.X = append(ps.X, float64(i))
				ps.Y = append(ps.Y, math.Exp(sum/float64(n)))
			}
			rep.Position = append(rep.Position, ps)
		}
	}
	return rep, nil
}

// geoMean turns sums of log perplexity by length into a series of geometric means over seeds,
// with the 95% interval exp(mean -+ 1.96 sqrt(sum se^2)/n) of the evaluation's sampling error.
func geoMean(label string, logSum, seSq map[int]float64, n map[int]int) Series {
	var lens []int
	for l := range logSum {
		lens = append(lens, l)
	}
	slices.Sort(lens)
	s := Series{Label: label}
	for _, l := range lens {
		s.X = append(s.X, float64(l))
		mean, se := logSum[l]/float64(n[l]), math.Sqrt(seSq[l])/float64(n[l])
		s.Y = append(s.Y, math.Exp(mean))
		s.Low, s.High = append(s.Low, math.Exp(mean-1.96*se)), append(s.High, math.Exp(mean+1.96*se))
	}
	return s
}

// RunDirs lists the run directories directly under root.
func RunDirs(root string) []string {
	m, _ := filepath.Glob(filepath.Join(root, "*", "metrics.jsonl"))
	var dirs []string
	for _, f := range m {
		dirs = append(dirs, filepath.Dir(f))
	}
	return dirs
}
