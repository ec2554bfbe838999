package speed

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/attention"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/gomlxattn/transformer"
	"github.com/attnbench/attnbench/workbench/backend"
)

// The harness measures the attention a transformer.Model builds: for every encoding that acts
// in the attention layer and every mechanism, causal and bidirectional, its graph matches one
// assembled from the model's own encoding, mechanism and causality, in the model's scopes.
func TestHarnessLayerIsTheModelLayer(t *testing.T) {
	const heads, dh, n = 2, 8, 11
	b := backend.MustShared()
	var cases []Variant
	for _, pe := range posenc.Names() {
		cases = append(cases, Variant{Name: "softmax+" + pe, Attention: "softmax", PosEnc: posenc.Config{Kind: pe}})
	}
	for _, mech := range attention.Names() {
		cases = append(cases, Variant{Name: mech, Attention: mech}, Variant{Name: mech + "+kerple_log", Attention: mech, PosEnc: posenc.Config{Kind: "kerple_log"}})
	}
	rng := rand.New(rand.NewPCG(3, 4))
	rnd := func() *tensors.Tensor {
		x := make([]float32, n*heads*dh)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return tensors.FromFlatDataAndDimensions(x, 1, n, heads, dh)
	}
	checked := 0
	for _, v := range cases {
		for _, causal := range []bool{true, false} {
			cfg := transformer.Config{Vocab: 8, Width: heads * dh, Heads: heads, Layers: 1, Attention: v.Attention, PosEnc: v.PosEnc}
			if !causal {
				cfg.Classes = 2
			}
			m, merr := transformer.New(cfg)
			l, lerr := NewLayer(v, Config{Heads: heads, HeadDim: dh, Causal: causal})
			if merr != nil {
				if lerr == nil {
					t.Errorf("%s causal=%v: the model refuses (%v) but the harness accepts", v.Name, causal, merr)
				}
				continue
			}
			if fam, _ := posenc.FamilyOf(m.Encoding); fam == posenc.FamilyAbsolute {
				if lerr == nil {
					t.Errorf("%s: absolute encoding accepted by the harness", v.Name)
				}
				continue
			}
			if lerr != nil {
				t.Errorf("%s causal=%v: the model accepts but the harness refuses: %v", v.Name, causal, lerr)
				continue
			}
			q, k, val := rnd(), rnd(), rnd()
			// Fresh stores with one seed: Skyformer draws its landmarks from the store's generator.
			store := func() *model.Store {
				st := model.NewStore()
				st.SetParam(model.ParamInitialSeed, int64(7))
				return st
			}
			harness := model.MustNewExec(b, store(), func(s *model.Scope, q, k, v *Node) *Node { return Attend(l, s, q, k, v) })
			want := model.MustNewExec(b, store(), func(s *model.Scope, q, k, v *Node) *Node {
				if qk, ok := m.Encoding.(posenc.QK); ok {
					q, k = qk.EncodeQK(q, k)
				}
				bias := posenc.ComputeBias(s.In("relpos"), q.Graph(), m.Encoding, n, q.DType())
				out, _ := m.Mechanism.Attend(s.In("layer_0").In("attn").In("%s", m.Mechanism.Name()), q, k, v,
					attention.Options{Causal: m.Config.Causal(), Bias: bias})
				return out
			})
			got := tensors.MustCopyFlatData[float32](harness.MustCall(q, k, val)[0])
			ref := tensors.MustCopyFlatData[float32](want.MustCall(q, k, val)[0])
			if d := maxDiff(got, ref); d > 1e-5 {
				t.Errorf("%s causal=%v: harness and model layer differ by %g", v.Name, causal, d)
			}
			checked++
		}
	}
	if checked < len(posenc.Names()) {
		t.Fatalf("only %d layers compared", checked)
	}
	t.Logf("%d layers compared", checked)
}

func maxDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}
