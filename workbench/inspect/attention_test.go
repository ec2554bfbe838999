package inspect

import (
	"github.com/attnbench/attnbench/workbench/run"

	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/attention"

	"github.com/attnbench/attnbench/gomlxattn/params"
)

// Layer 0's probabilities equal a float64 recomputation from the checkpoint's variables:
// softmax(q k^T / sqrt(d) - slope_h (i - j)) over j <= i, with q, k dense maps of
// LayerNorm(embedding). Deeper layers' rows are causal distributions.
func TestAttentionWeights(t *testing.T) {
	o := opts(t)
	e := tiny(6)
	e.Model.Layers = 2
	dir := t.TempDir()
	if _, err := run.Train(e, dir, o); err != nil {
		t.Fatal(err)
	}
	r, err := run.Restore(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 9))
	for _, n := range []int{1, 7, 32} {
		ids := make([]int32, n)
		for i := range ids {
			ids[i] = int32(rng.IntN(256))
		}
		w, err := attentionWeights(r, ids, o)
		if err != nil {
			t.Fatal(err)
		}
		if len(w) != 2 || len(w[0]) != 2 || len(w[0][0]) != n || len(w[0][0][0]) != n {
			t.Fatalf("n=%d: shape [%d][%d][%d][%d], want [2][2][%d][%d]", n, len(w), len(w[0]), len(w[0][0]), len(w[0][0][0]), n, n)
		}
		want := layer0Oracle(t, r, ids, []float64{1.0 / 16, 1.0 / 256})
		for h := range 2 {
			for i := range n {
				for j := range n {
					if d := math.Abs(w[0][h][i][j] - want[h][i][j]); d > 1e-5 {
						t.Fatalf("n=%d layer 0 head %d [%d][%d]: %g, oracle %g", n, h, i, j, w[0][h][i][j], want[h][i][j])
					}
				}
			}
			for i := range n {
				if err := causalDistribution(w[1][h][i], i); err != "" {
					t.Fatalf("n=%d layer 1 head %d query %d: %s", n, h, i, err)
				}
			}
		}
	}
	if _, err := AttentionWeights(dir, "", o); err == nil || !strings.Contains(err.Error(), "no tokens") {
		t.Errorf("empty text: error %v, want one saying it has no tokens", err)
	}
	k := tiny(2)
	k.Model.Attention, k.Model.AttentionParams, k.Model.PosEnc.Kind = "performer", params.Given{"m": 8}, "none"
	kdir := t.TempDir()
	if _, err := run.Train(k, kdir, o); err != nil {
		t.Fatal(err)
	}
	kw, err := AttentionWeights(kdir, "kernelized attention", o)
	if err != nil {
		t.Fatal(err)
	}
	for h, m := range kw[0] {
		for i, row := range m {
			if err := causalDistribution(row, i); err != "" {
				t.Fatalf("performer head %d query %d: %s", h, i, err)
			}
		}
	}
}

// valuesOnly attends to nothing (out = v) and forms no probability matrix.
type valuesOnly struct{}

func (valuesOnly) Name() string { return "values_only" }
func (valuesOnly) Attend(_ *model.Scope, _, _, v *graph.Node, _ attention.Options) (*graph.Node, *graph.Node) {
	return v, nil
}

func init() {
	attention.Register(&attention.Spec{Name: "values_only", New: func(params.Values) (attention.Mechanism, error) { return valuesOnly{}, nil }})
}

// A mechanism without an attention matrix gets an error naming it, not a panic.
func TestAttentionWeightsWithoutMatrix(t *testing.T) {
	o := opts(t)
	e := tiny(2)
	e.Model.Attention, e.Model.PosEnc.Kind = "values_only", "none"
	dir := t.TempDir()
	if _, err := run.Train(e, dir, o); err != nil {
		t.Fatal(err)
	}
	if _, err := AttentionWeights(dir, "abc", o); err == nil || !strings.Contains(err.Error(), "values_only") {
		t.Errorf("error %v, want one naming values_only", err)
	}
}

// causalDistribution says what is wrong with row as the probabilities of query i over keys 0..i.
func causalDistribution(row []float64, i int) string {
	sum := 0.0
	for j, p := range row {
		if p < 0 || (j > i && p != 0) {
			return fmt.Sprintf("key %d has probability %g", j, p)
		}
		sum += p
	}
	if math.Abs(sum-1) > 1e-5 {
		return fmt.Sprintf("row sums to %g", sum)
	}
	return ""
}

// layer0Oracle recomputes layer 0's causal ALiBi softmax attention in float64, [head][i][j].
func layer0Oracle(t *testing.T, r *run.Restored, ids []int32, slopes []float64) [][][]float64 {
	t.Helper()
	get := func(path string) []float64 {
		v := r.Store.GetVariable(path)
		if v == nil {
			var all []string
			for v := range r.Store.IterVariables() {
				all = append(all, v.Path())
			}
			t.Fatalf("variable %s missing; have %v", path, all)
		}
		flat := tensors.MustCopyFlatData[float32](v.MustValue())
		out := make([]float64, len(flat))
		for i, x := range flat {
			out[i] = float64(x)
		}
		return out
	}
	c := r.Model.Config
	D, H := c.Width, c.Heads
	dh := D / H
	emb := get("/embed/embeddings")
	gain, offset := get("/layer_0/ln_attn/layer_normalization/gain"), get("/layer_0/ln_attn/layer_normalization/offset")
	wq, bq := get("/layer_0/attn/query/weights"), get("/layer_0/attn/query/biases")
	wk, bk := get("/layer_0/attn/key/weights"), get("/layer_0/attn/key/biases")
	n := len(ids)
	q, k := make([][]float64, n), make([][]float64, n)
	for i, id := range ids {
		x := emb[int(id)*D : (int(id)+1)*D]
		mean, vr := 0.0, 0.0
		for _, v := range x {
			mean += v / float64(D)
		}
		for _, v := range x {
			vr += (v - mean) * (v - mean) / float64(D)
		}
		h := make([]float64, D)
		for d := range D {
			h[d] = (x[d]-mean)/math.Sqrt(vr+1e-5)*gain[d] + offset[d]
		}
		q[i], k[i] = make([]float64, D), make([]float64, D)
		for o := range D {
			q[i][o], k[i][o] = bq[o], bk[o]
			for d := range D {
				q[i][o] += h[d] * wq[d*D+o]
				k[i][o] += h[d] * wk[d*D+o]
			}
		}
	}
	res := make([][][]float64, H)
	for hh := range H {
		res[hh] = make([][]float64, n)
		for i := range n {
			logits := make([]float64, i+1)
			top := math.Inf(-1)
			for j := 0; j <= i; j++ {
				s := 0.0
				for d := hh * dh; d < (hh+1)*dh; d++ {
					s += q[i][d] * k[j][d]
				}
				logits[j] = s/math.Sqrt(float64(dh)) - slopes[hh]*float64(i-j)
				top = math.Max(top, logits[j])
			}
			row, z := make([]float64, n), 0.0
			for j := range logits {
				row[j] = math.Exp(logits[j] - top)
				z += row[j]
			}
			for j := range logits {
				row[j] /= z
			}
			res[hh][i] = row
		}
	}
	return res
}
