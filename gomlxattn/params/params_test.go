package params_test

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/attnbench/attnbench/gomlxattn/params"
)

var specs = []params.Param{
	{Name: "m", Default: 64, Min: 1, Max: 4096, Integer: true},
	{Name: "eps", Default: 1e-6, Min: 0, Max: 0.1},
	{Name: "method", Default: 1, Choices: []string{"auto", "dense", "block"}},
}

func TestCheckDefaultsAndValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		m := 1 + rng.IntN(4096)
		eps := rng.Float64() * 0.1
		c := rng.IntN(3)
		// Numbers of any Go type, strings from flags, names for choices.
		var given params.Given
		switch rng.IntN(3) {
		case 0:
			given = params.Given{"m": m, "eps": eps, "method": specs[2].Choices[c]}
		case 1:
			given = params.Given{"m": float64(m), "eps": float32(eps), "method": specs[2].Choices[c]}
		default:
			var err error
			given, err = params.Parse("attn_params", "m="+itoa(m)+", method="+specs[2].Choices[c])
			if err != nil {
				t.Fatal(err)
			}
			given["eps"] = eps
		}
		v, err := params.Check("owner", specs, given)
		if err != nil {
			t.Fatal(err)
		}
		if v.Int("m") != m || v.Int("method") != c || float32(v["eps"]) != float32(eps) {
			t.Fatalf("Check(%v) = %v", given, v)
		}
	}
	v, err := params.Check("owner", specs, nil)
	if err != nil || v["m"] != 64 || v["eps"] != 1e-6 || v.Int("method") != 1 {
		t.Fatalf("defaults = %v, %v", v, err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestCheckErrors(t *testing.T) {
	for _, tc := range []struct {
		given params.Given
		want  []string
	}{
		{params.Given{"m": 0}, []string{"owner", `"m"`, "0", "[1, 4096]", "integer"}},
		{params.Given{"m": 2.5}, []string{`"m"`, "2.5", "integer"}},
		{params.Given{"eps": "small"}, []string{`"eps"`, "small", "number"}},
		{params.Given{"method": 2}, []string{`"method"`, "2", "auto, dense, block", "numeric codes"}},
		{params.Given{"method": "fft"}, []string{`"method"`, "fft", "auto, dense, block"}},
		{params.Given{"mm": 3}, []string{`"mm"`, "unknown", "m, eps, method"}},
		{params.Given{"m": true}, []string{`"m"`, "true"}},
	} {
		_, err := params.Check("owner", specs, tc.given)
		if err == nil {
			t.Errorf("Check(%v) succeeded, want an error", tc.given)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Check(%v) = %q, want it to mention %q", tc.given, err, w)
			}
		}
	}
}

func TestParse(t *testing.T) {
	g, err := params.Parse("attn_params", "m=32, toeplitz=block,eps=1e-3")
	if err != nil || g["m"] != 32.0 || g["toeplitz"] != "block" || g["eps"] != 1e-3 {
		t.Fatalf("Parse = %v, %v", g, err)
	}
	for _, bad := range []string{"m", "m=", "=3", "m=1,m=2"} {
		if _, err := params.Parse("attn_params", bad); err == nil || !strings.Contains(err.Error(), "-attn_params") {
			t.Errorf("Parse(%q) = %v, want an error naming -attn_params", bad, err)
		}
	}
}
