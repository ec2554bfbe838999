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

// Linear axes get 2 to 7 labels at multiples of one step from {1, 2, 5} x 10^k, inside the range.
func TestLinearTicks(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cases := [][2]float64{{1, 400}, {0, 1023}, {2.7, 7.3}, {-12.5, -0.4}, {999, 1001}, {0, 1}, {-3, 5}, {-0.4, 511}}
	for range 300 {
		lo := (rng.Float64() - 0.5) * math.Pow(10, rng.Float64()*10-4)
		span := math.Pow(10, rng.Float64()*10-5)
		cases = append(cases, [2]float64{lo, lo + math.Max(span, 1e-6*math.Abs(lo))})
	}
	for _, c := range cases {
		var labels []float64
		for _, tk := range (linearTicks{}).Ticks(c[0], c[1]) {
			span := c[1] - c[0]
			if tk.Value < c[0]-1e-6*span || tk.Value > c[1]+1e-6*span {
				t.Errorf("range %v: tick %g outside", c, tk.Value)
			}
			if tk.Label == "" {
				continue
			}
			v, err := strconv.ParseFloat(tk.Label, 64)
			if tk.Label == "-0" || err != nil || math.Abs(v-tk.Value) > 1e-9*math.Max(1, math.Abs(tk.Value)) {
				t.Errorf("range %v: label %q at %g", c, tk.Label, tk.Value)
			}
			labels = append(labels, v)
		}
		if len(labels) < 2 || len(labels) > 7 {
			t.Errorf("range %v: %d labels %v, want 2 to 7", c, len(labels), labels)
			continue
		}
		step := labels[1] - labels[0]
		mant := step / math.Pow10(int(math.Floor(math.Log10(step)+1e-6)))
		if d := math.Min(math.Abs(mant-1), math.Min(math.Abs(mant-2), math.Abs(mant-5))); d > 1e-6 {
			t.Errorf("range %v: step %g is not 1, 2 or 5 x 10^k", c, step)
		}
		for i := 2; i < len(labels); i++ {
			if math.Abs(labels[i]-labels[i-1]-step) > 1e-3*step {
				t.Errorf("range %v: uneven labels %v", c, labels)
				break
			}
		}
	}
}
