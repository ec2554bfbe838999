package attention_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/attnbench/attnbench/gomlxattn/attention"
	"github.com/attnbench/attnbench/gomlxattn/internal/naive"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/internal/backend"
)

// TestMasks covers key padding (including fully masked rows), windows and their combination
// with causality against the reference.
func TestMasks(t *testing.T) {
	const b, n, h, d = 3, 13, 2, 4
	rng := rand.New(rand.NewPCG(1, 2))
	keyMask := make([][]bool, b)
	flat := make([]bool, b*n)
	for bi := range b {
		keyMask[bi] = make([]bool, n)
		for j := range n {
			keyMask[bi][j] = bi == 0 || (bi == 1 && j%3 != 0) || (bi == 2 && j > 8) // row 2: first 9 keys padded
			flat[bi*n+j] = keyMask[bi][j]
		}
	}
	for _, c := range []struct {
		causal bool
		window int
		mask   bool
	}{{true, 0, true}, {false, 0, true}, {true, 4, false}, {false, 3, false}, {true, 5, true}, {false, 1, true}} {
		q, k, v := round32(randn(rng, 2, b, n, h, d)), round32(randn(rng, 2, b, n, h, d)), round32(randn(rng, 1, b, n, h, d))
		exec := MustNewExec(backend.MustShared(), func(q, k, v, m *Node) []*Node {
			opt := attention.Options{Causal: c.causal, Window: c.window, WantProbs: true}
			if c.mask {
				opt.KeyMask = m
			}
			out, p := attention.Exact(q, k, v, opt)
			return []*Node{out, p, ReduceAllSum(Gradient(ReduceAllSum(Mul(out, out)), q)[0])}
		})
		res, err := exec.Call(toTensor(q), toTensor(k), toTensor(v), tensors.FromFlatDataAndDimensions(flat, b, n))
		if err != nil {
			t.Fatal(err)
		}
		o := naive.Options{Causal: c.causal, Window: c.window}
		if c.mask {
			o.KeyMask = keyMask
		}
		wantOut, wantP := naive.Attention(q, k, v, o)
		got := tensors.MustCopyFlatData[float32](res[0])
		if e := naive.MaxRelErr(got, wantOut.Data); e > 1e-5 {
			t.Errorf("%+v: output error %.3g", c, e)
		}
		if e := naive.MaxRelErr(tensors.MustCopyFlatData[float32](res[1]), wantP.Data); e > 1e-5 {
			t.Errorf("%+v: probabilities error %.3g", c, e)
		}
		if g := tensors.ToScalar[float32](res[2]); math.IsNaN(float64(g)) || math.IsInf(float64(g), 0) {
			t.Errorf("%+v: gradient is %v", c, g)
		}
		if c.causal && c.mask { // batch 2, query 0..8 see no key: output exactly 0.
			for i := range 9 {
				for e := range h * d {
					if x := got[((2*n+i)*h*d)+e]; x != 0 {
						t.Fatalf("fully masked row %d: output %v, want 0", i, x)
					}
				}
			}
		}
	}
}

// TestCausality perturbs keys and values after position i: outputs at positions <= i must not change.
func TestCausality(t *testing.T) {
	const b, n, h, d = 1, 37, 2, 8
	rng := rand.New(rand.NewPCG(5, 5))
	be := backend.MustShared()
	q, k, v := randn(rng, 3, b, n, h, d), randn(rng, 3, b, n, h, d), randn(rng, 1, b, n, h, d)
	exec := MustNewExec(be, func(q, k, v *Node) *Node {
		coef := Neg(MulScalar(Abs(posenc.Offsets(q.Graph(), n, dtypes.Float32)), 0.3)) // -0.3|k|
		bias := &posenc.Bias{N: n, Coef: BroadcastToDims(ExpandAxes(coef, 0), h, 2*n-1)}
		out, _ := attention.Exact(q, k, v, attention.Options{Causal: true, Bias: bias})
		return out
	})
	base := tensors.MustCopyFlatData[float32](exec.MustCall1(toTensor(q), toTensor(k), toTensor(v)))
	for _, i := range []int{0, 5, 36} {
		k2, v2 := randn(rng, 1, b, n, h, d), randn(rng, 1, b, n, h, d)
		copy(k2.Data, k.Data[:(i+1)*h*d])
		copy(v2.Data, v.Data[:(i+1)*h*d])
		got := tensors.MustCopyFlatData[float32](exec.MustCall1(toTensor(q), toTensor(k2), toTensor(v2)))
		for x := range (i + 1) * h * d {
			if got[x] != base[x] {
				t.Fatalf("perturbing keys after %d changed output element %d: %v -> %v", i, x, base[x], got[x])
			}
		}
	}
}

// TestLargeLogitsStayFinite uses huge query/key norms and a huge bias.
func TestLargeLogitsStayFinite(t *testing.T) {
	const n = 50
	exec := MustNewExec(backend.MustShared(), func(q *Node) []*Node {
		out, p := attention.Exact(q, q, q, attention.Options{Causal: true, Window: 7, WantProbs: true})
		return []*Node{out, p, Gradient(ReduceAllSum(out), q)[0]}
	})
	rng := rand.New(rand.NewPCG(9, 9))
	q := randn(rng, 1e4, 1, n, 2, 4)
	res := exec.MustCall(toTensor(q))
	for i, r := range res {
		for _, x := range tensors.MustCopyFlatData[float32](r) {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("result %d has %v", i, x)
			}
		}
	}
}

// TestRotaryRelative: q'(m).k'(n) depends only on m-n, and the spec value cos 3.
func TestRotaryRelative(t *testing.T) {
	for _, kind := range []string{"rotary", "xpos"} {
		enc, _ := posenc.New(posenc.Config{Kind: kind}, posenc.Env{NumHeads: 1, HeadDim: 16})
		qk := enc.(posenc.QK)
		const n = 240
		rng := rand.New(rand.NewPCG(2, 2))
		qv, kv := make([]float32, 16), make([]float32, 16)
		for i := range qv {
			qv[i], kv[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		q, k := make([]float32, n*16), make([]float32, n*16)
		for p := range n {
			copy(q[p*16:], qv)
			copy(k[p*16:], kv)
		}
		exec := MustNewExec(backend.MustShared(), func(q, k *Node) *Node {
			q, k = qk.EncodeQK(q, k)
			return DotGeneral(Reshape(q, n, 16), []int{1}, nil, Reshape(k, n, 16), []int{1}, nil) // [n, n]
		})
		dots := tensors.MustCopyFlatData[float32](exec.MustCall1(
			tensors.FromFlatDataAndDimensions(q, 1, n, 1, 16), tensors.FromFlatDataAndDimensions(k, 1, n, 1, 16)))
		for _, mn := range [][2]int{{5, 2}, {17, 30}, {0, 0}, {100, 3}} {
			a := dots[mn[0]*n+mn[1]]
			b := dots[(mn[0]+100)*n+mn[1]+100]
			if math.Abs(float64(a-b)) > 1e-4*math.Max(1, math.Abs(float64(a))) {
				t.Errorf("%s: q(%d).k(%d) = %v but shifted by 100 = %v", kind, mn[0], mn[1], a, b)
			}
		}
	}
	enc, _ := posenc.New(posenc.Config{Kind: "rotary"}, posenc.Env{NumHeads: 1, HeadDim: 4})
	exec := MustNewExec(backend.MustShared(), func(x *Node) *Node {
		q, k := enc.(posenc.QK).EncodeQK(x, x)
		return ReduceAllSum(Mul(Slice(q, AxisRange(), AxisElem(5)), Slice(k, AxisRange(), AxisElem(2))))
	})
	data := make([]float32, 32)
	for p := range 8 {
		data[p*4] = 1
	}
	e0 := tensors.FromFlatDataAndDimensions(data, 1, 8, 1, 4)
	if got := tensors.ToScalar[float32](exec.MustCall1(e0)); math.Abs(float64(got)-(-0.98999250)) > 1e-6 {
		t.Errorf("rotary q(5).k(2) with e0 = %v, want cos 3 = -0.98999250", got)
	}
}
