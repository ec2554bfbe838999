package approx

import (
	"math"
	"testing"

	"github.com/attnbench/attnbench/workbench/backend"
)

// Errors fall with the number of features (about as m^-1/2 for random features), and Skyformer
// with every key a landmark nearly matches its reference.
func TestErrorFallsWithSize(t *testing.T) {
	b := backend.MustShared()
	c := Config{N: 32, Heads: 2, Dim: 8, Draws: 3, Scale: 0.5, Seed: 1}
	for _, v := range Defaults() {
		sizes := []int{8, 32, 128}
		if v.SizeParam == "landmarks" {
			sizes = []int{4, 8, 32}
		}
		errs, err := Error(b, v, sizes, c)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range errs {
			if math.IsNaN(e) || e < 0 {
				t.Fatalf("%s: errors %v", v.Name, errs)
			}
		}
		if !(errs[2] < errs[0]) {
			t.Errorf("%s: error %v does not fall with %s", v.Name, errs, v.SizeParam)
		}
		if v.Name == "PRF" {
			// 16x the features: about 4x smaller error.
			if r := errs[0] / errs[2]; r < 2 || r > 8 {
				t.Errorf("PRF error ratio %.2f from m = 8 to 128, want about 4", r)
			}
		}
		// With every key a landmark the Nystrom kernel is exact up to the float32 rounding of an
		// ill-conditioned pseudo-inverse.
		if v.Name == "Skyformer" && errs[2] > 0.25*errs[0] {
			t.Errorf("Skyformer with all %d keys as landmarks: error %g, with 4: %g", c.N, errs[2], errs[0])
		}
		t.Logf("%s: %v", v.Name, errs)
	}
	if _, err := Error(b, Defaults()[0], []int{4}, Config{}); err == nil {
		t.Error("zero config accepted")
	}
}
