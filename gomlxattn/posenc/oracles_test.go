package posenc_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/attnbench/attnbench/gomlxattn/posenc"

	"github.com/attnbench/attnbench/gomlxattn/params"
)

func TestALiBiSlopes(t *testing.T) {
	want := map[int][]float64{
		1: {1.0 / 256},
		2: {0.0625, 0.00390625},
		4: {0.25, 0.0625, 0.015625, 0.00390625},
		6: {0.25, 0.0625, 0.015625, 0.00390625, 0.5, 0.125},
		8: {1. / 2, 1. / 4, 1. / 8, 1. / 16, 1. / 32, 1. / 64, 1. / 128, 1. / 256},
		12: {1. / 2, 1. / 4, 1. / 8, 1. / 16, 1. / 32, 1. / 64, 1. / 128, 1. / 256,
			0.70710678, 0.35355339, 0.17677670, 0.08838835},
	}
	for h, w := range want {
		got := posenc.ALiBiSlopes(h)
		if len(got) != len(w) {
			t.Fatalf("H=%d: %d slopes, want %d", h, len(got), len(w))
		}
		for i := range w {
			near(t, fmt.Sprintf("H=%d slope[%d]", h, i), got[i], w[i], 1e-8)
		}
	}
	s16 := posenc.ALiBiSlopes(16)
	for k := 1; k <= 16; k++ {
		near(t, fmt.Sprintf("H=16 slope[%d]", k-1), s16[k-1], math.Pow(2, -float64(k)/2), 1e-12)
	}
	s32 := posenc.ALiBiSlopes(32)
	near(t, "H=32 first", s32[0], 0.84089642, 1e-8)
	near(t, "H=32 last", s32[31], 0.00390625, 1e-12)
}

func TestALiBiBiasAndSoftmaxRow(t *testing.T) {
	enc := posenc.ALiBi{Slopes: []float64{0.5}, Causal: true}
	c := coefficients(t, enc, 4, nil)
	want := []float64{-1.5, -1.0, -0.5, 0}
	sum := 0.0
	for j := range 4 {
		near(t, fmt.Sprintf("row 3 bias[%d]", j), at(c, 0, 3-j), want[j], 1e-12)
		sum += math.Exp(want[j])
	}
	soft := []float64{0.101536, 0.167405, 0.276004, 0.455054}
	for j := range 4 {
		near(t, "softmax", math.Exp(at(c, 0, 3-j))/sum, soft[j], 1e-6)
	}
	// Bidirectional: -m|i-j| on both sides.
	bi := coefficients(t, posenc.ALiBi{Slopes: []float64{0.5}, Causal: false}, 4, nil)
	near(t, "bidirectional k=+2", bi[0][3+2], -1.0, 1e-12)
}

func TestT5Buckets(t *testing.T) {
	causal := map[int]int{0: 0, 1: 1, 5: 5, 15: 15, 16: 16, 17: 16, 18: 16, 19: 17, 20: 17, 21: 18, 24: 19, 28: 20,
		31: 21, 32: 21, 35: 22, 40: 23, 46: 24, 50: 24, 57: 25, 64: 26, 70: 27, 80: 28, 90: 29, 99: 30, 100: 30,
		112: 30, 113: 31, 127: 31, 128: 31, 1000: 31, 16384: 31, -1: 0, -7: 0}
	for d, b := range causal {
		if got := posenc.T5Bucket(d, 32, 128, false); got != b {
			t.Errorf("causal bucket(%d) = %d, want %d", d, got, b)
		}
	}
	bi := map[int]int{1: 1, 7: 7, 8: 8, 9: 8, 20: 10, 127: 15, 128: 15, 500: 15, -1: 17, -5: 21, -8: 24, -9: 24, -20: 26, -128: 31}
	for n, b := range bi {
		if got := posenc.T5Bucket(n, 32, 128, true); got != b {
			t.Errorf("bidirectional bucket(%d) = %d, want %d", n, got, b)
		}
	}
}

func TestT5BiasValueAndInit(t *testing.T) {
	env := posenc.Env{NumHeads: 12, HeadDim: 64, Width: 768, Causal: true}
	enc := mustNew(t, "t5", nil, env)
	w := make([][]float64, 32)
	for b := range w {
		w[b] = make([]float64, 12)
		for h := range w[b] {
			w[b][h] = 0.1
		}
	}
	w[31][5] = -0.25 // far bucket of head 5
	c := coefficients(t, enc, 200, map[string]any{"t5_buckets": w})
	near(t, "bias(W=0.1, d_h=64)", at(c, 0, 3), 0.8, 1e-12)
	near(t, "far bucket head 5 d=150", at(c, 5, 150), -2.0, 1e-12)
	near(t, "far bucket head 5 d=112", at(c, 5, 112), 0.8, 1e-12)

	// Xavier-normal init std for W[32, 12] = sqrt(2/44).
	sd := stddev(initValues(t, enc, "t5_buckets", 200))
	if math.Abs(sd-0.21320072) > 0.04 {
		t.Errorf("T5 init std = %v, want about 0.2132", sd)
	}
}

func TestKerpleLog(t *testing.T) {
	env := posenc.Env{NumHeads: 3, HeadDim: 64, Causal: true}
	enc := mustNew(t, "kerple_log", nil, env)
	c := coefficients(t, enc, 16384, map[string]any{
		"kerple_log_r1": []float64{1.5, 1, 2}, "kerple_log_r2": []float64{0.5, 1, 1}})
	near(t, "(1.5,0.5,10)", at(c, 0, 10), -2.6876392, 1e-7)
	for d, want := range map[int]float64{1: -0.6931472, 2: -1.0986123, 10: -2.3978953, 100: -4.6151205, 511: -6.2383246, 16383: -9.7040605, 0: 0} {
		near(t, fmt.Sprintf("(1,1,%d)", d), at(c, 1, d), want, 1e-7)
	}
	near(t, "(2,1,16383)", at(c, 2, 16383), -19.4081211, 1e-7)
	// Row 3 of L=4, r1=r2=1, q=0: softmax exactly [0.12, 0.16, 0.24, 0.48].
	var e [4]float64
	sum := 0.0
	for j := range 4 {
		e[j] = math.Exp(at(c, 1, 3-j))
		sum += e[j]
	}
	for j, want := range []float64{0.12, 0.16, 0.24, 0.48} {
		near(t, "softmax row", e[j]/sum, want, 1e-12)
	}
	// Projection: stored r2 = -0.3 and r1 = 0.004 act as 0.01.
	p := coefficients(t, enc, 8, map[string]any{
		"kerple_log_r1": []float64{0.004, 1, 1}, "kerple_log_r2": []float64{-0.3, 1, 1}})
	near(t, "clamped", at(p, 0, 5), -0.01*math.Log1p(0.01*5), 1e-12)
}

func TestKerpleInit(t *testing.T) {
	env := posenc.Env{NumHeads: 4000, HeadDim: 8, Causal: true}
	enc := mustNew(t, "kerple_log", nil, env)
	r1 := initValues(t, enc, "kerple_log_r1", 2)
	r2 := initValues(t, enc, "kerple_log_r2", 2)
	check := func(name string, v []float64, mean, hi float64) {
		m := 0.0
		for _, x := range v {
			if x < 0 || x >= hi {
				t.Fatalf("%s init %v outside [0, %v)", name, x, hi)
			}
			m += x
		}
		m /= float64(len(v))
		if math.Abs(m-mean) > 0.05*hi {
			t.Errorf("%s init mean %v, want about %v", name, m, mean)
		}
	}
	check("r1", r1, 1, 2)
	check("r2", r2, 0.5, 1)
}

func TestKerplePower(t *testing.T) {
	env := posenc.Env{NumHeads: 4, HeadDim: 64, Causal: true}
	enc := mustNew(t, "kerple_power", nil, env)
	c := coefficients(t, enc, 16384, map[string]any{
		"kerple_power_r1": []float64{0.5, 0.5, 1, 0.5}, "kerple_power_r2": []float64{1.5, 3.0, 1, 2}})
	near(t, "(0.5,1.5,4)", at(c, 0, 4), -4.0, 1e-9)
	near(t, "(0.5,3->2,4)", at(c, 1, 4), -8.0, 1e-9)
	near(t, "(1,1,7)", at(c, 2, 7), -7, 1e-12)
	near(t, "(0.5,2,16383)", at(c, 3, 16383), -1.34201e8, 1e-5)
	near(t, "d=0", at(c, 3, 0), 0, 0)
}

func TestKerple3ParaLogAndBiasWeight(t *testing.T) {
	env := posenc.Env{NumHeads: 1, HeadDim: 64, Causal: true}
	c := coefficients(t, mustNew(t, "kerple_3paralog", nil, env), 32, map[string]any{
		"kerple_3log_r1": []float64{1}, "kerple_3log_r2": []float64{0.5}, "kerple_3log_r3": []float64{0.5}})
	near(t, "3-para-log (1,0.5,0.5,16)", at(c, 0, 16), -1.0986123, 1e-7)

	enc := mustNew(t, "kerple_biaswht", nil, env).(posenc.WeightedToeplitz)
	vars := map[string]any{"kerple_bias_r1": []float64{0.5}, "kerple_bias_r2": []float64{1},
		"kerple_wht_r3": []float64{0.1}, "kerple_wht_r4": []float64{1}}
	b := coefficients(t, enc, 8, vars)
	w := coefficients(t, weightOnly{enc}, 8, vars)
	near(t, "bias+wht x=2 d=3", 2*at(w, 0, 3)+at(b, 0, 3), -0.0183636, 1e-6)
}

func TestSandwich(t *testing.T) {
	enc := mustNew(t, "sandwich", nil, posenc.Env{NumHeads: 12, HeadDim: 64, Causal: true})
	c := coefficients(t, enc, 1001, nil)
	for d, want := range map[int]float64{0: 0, 1: -0.935206, 10: -13.663950, 100: -20.981550, 1000: -33.962112} {
		near(t, fmt.Sprintf("head 1 d=%d", d), at(c, 0, d), want, 1e-6)
	}
	near(t, "head 12 d=10", at(c, 11, 10), -1.138663, 1e-6)
}

func TestSinusoidal(t *testing.T) {
	s := mustNew(t, "sinusoidal", nil, posenc.Env{NumHeads: 12, HeadDim: 64, Width: 768}).(posenc.Sinusoidal)
	tab := s.Table(4)
	near(t, "emb[1][0]", tab[1][0], 0.84147098, 1e-8)
	near(t, "emb[1][384]", tab[1][384], 0.54030231, 1e-8)
	near(t, "emb[3][1]", tab[3][1], 0.21109235, 1e-8)
	for i := range 768 {
		want := 0.0
		if i >= 384 {
			want = 1
		}
		if tab[0][i] != want {
			t.Fatalf("emb[0][%d] = %v, want %v", i, tab[0][i], want)
		}
	}
}

func TestXPosZeta(t *testing.T) {
	x := mustNew(t, "xpos", nil, posenc.Env{NumHeads: 1, HeadDim: 64}).(posenc.XPos)
	z := x.Zeta()
	near(t, "zeta_0", z[0], 0.28571429, 1e-8)
	near(t, "zeta_31", z[31], 0.97767857, 1e-8)
}

func TestFIREInput(t *testing.T) {
	enc := mustNew(t, "fire", nil, posenc.Env{NumHeads: 2, HeadDim: 8, Causal: true}).(posenc.FIRE)
	in := fireInput(t, enc, 2048)
	for _, c := range []struct {
		i, j int
		want float64
	}{{1000, 0, 0.99999978}, {100, 50, 0.45302696}, {511, 0, 0.99951492}, {2047, 0, 0.99999981}} {
		near(t, fmt.Sprintf("FIRE input(%d,%d)", c.i, c.j), in[c.i*2048+c.j], c.want, 1e-7)
	}
}

func TestConfigErrors(t *testing.T) {
	env := posenc.Env{NumHeads: 4, HeadDim: 8, Width: 32, Causal: true}
	cases := []struct {
		cfg  posenc.Config
		env  posenc.Env
		want []string
	}{
		{posenc.Config{Kind: "kerple_cubic"}, env, []string{`"kerple_cubic"`, "kerple_log", "alibi"}},
		{posenc.Config{Kind: "rotary", Params: params.Given{"fraction": 1.5}}, env, []string{"fraction", "1.5", "[1e-06, 1]"}},
		{posenc.Config{Kind: "rotary", Params: params.Given{"bse": 2}}, env, []string{`"bse"`, "base"}},
		{posenc.Config{Kind: "rotary"}, posenc.Env{NumHeads: 4, HeadDim: 7, Width: 28}, []string{"HeadDim 7", "even"}},
		{posenc.Config{Kind: "t5", Params: params.Given{"buckets": 31.5}}, env, []string{"buckets", "31.5", "integer"}},
		{posenc.Config{Kind: "sinusoidal"}, posenc.Env{NumHeads: 1, HeadDim: 7, Width: 7}, []string{"Width = 7", "even"}},
		{posenc.Config{Kind: "learned", Params: params.Given{"max_len": 0}}, env, []string{"max_len", "0", "[1,"}},
		{posenc.Config{Kind: "alibi"}, posenc.Env{NumHeads: 0, HeadDim: 8}, []string{"NumHeads = 0", ">= 1"}},
	}
	for _, c := range cases {
		_, err := posenc.New(c.cfg, c.env)
		if err == nil {
			t.Errorf("%+v: no error", c.cfg)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: error %q does not mention %q", c.cfg, err, w)
			}
		}
	}
}
