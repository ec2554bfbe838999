package plots

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// Every log-axis range gets at least two labelled ticks inside it, each label the number it
// marks; ranges over three or more decades are labelled at powers of ten only.
func TestLogTicks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := [][2]float64{{13.3, 14.9}, {16, 37}, {64, 256}, {0.011, 62.8}, {1, 10}, {0.2, 0.9}, {999, 1001}, {1e-7, 3e-7}}
	for range 200 {
		lo := math.Pow(10, rng.Float64()*12-6)
		cases = append(cases, [2]float64{lo, lo * math.Pow(10, rng.Float64()*5+1e-3)})
	}
	for _, c := range cases {
		labelled := 0
		for _, tk := range (logTicks{}).Ticks(c[0], c[1]) {
			if tk.Value < c[0]*(1-1e-6) || tk.Value > c[1]*(1+1e-6) {
				t.Errorf("range %v: tick %g outside", c, tk.Value)
			}
			if tk.Label == "" {
				continue
			}
			labelled++
			v, err := strconv.ParseFloat(tk.Label, 64)
			if err != nil || math.Abs(v-tk.Value) > 1e-9*math.Abs(tk.Value) {
				t.Errorf("range %v: label %q at %g", c, tk.Label, tk.Value)
			}
			if c[1]/c[0] >= 1000 { // three powers of ten inside
				if e := math.Log10(tk.Value); math.Abs(e-math.Round(e)) > 1e-9 {
					t.Errorf("range %v spans three decades but labels %g", c, tk.Value)
				}
			}
		}
		if labelled < 2 {
			t.Errorf("range %v: %d labelled ticks, want at least 2", c, labelled)
		}
	}
}
