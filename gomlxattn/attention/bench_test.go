package attention_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/attention"
	"github.com/attnbench/attnbench/gomlxattn/posenc"
	"github.com/attnbench/attnbench/internal/backend"
)

var (
	benchMaxN = flag.Int("attn.maxn", 4096, "largest sequence length of BenchmarkAttention")
	benchEnc  = flag.String("attn.enc", "", "only this encoding in BenchmarkAttention (default: all)")
)

// BenchmarkAttention times one causal attention layer (G = batch*heads = 8, d_h = 64) with each
// relative or QK encoding, forward and forward+backward (gradients of q, k, v and the encoding's
// parameters), for n = 256 ... attn.maxn. Compare encodings within one run: "none" is the baseline.
func BenchmarkAttention(b *testing.B) {
	const batch, heads, dh = 1, 8, 64
	be := backend.MustShared()
	for _, name := range posenc.Names() {
		if *benchEnc != "" && *benchEnc != name {
			continue
		}
		enc, err := posenc.New(posenc.Config{Kind: name}, posenc.Env{NumHeads: heads, HeadDim: dh, Width: heads * dh, Causal: true})
		if err != nil {
			b.Fatal(err)
		}
		if fam, _ := posenc.FamilyOf(enc); fam == posenc.FamilyAbsolute {
			continue
		}
		for n := 256; n <= *benchMaxN; n *= 2 {
			rng := rand.New(rand.NewPCG(1, uint64(n)))
			q, k, v := toTensor(randn(rng, 1, batch, n, heads, dh)), toTensor(randn(rng, 1, batch, n, heads, dh)), toTensor(randn(rng, 1, batch, n, heads, dh))
			for _, backward := range []bool{false, true} {
				mode := "fwd"
				if backward {
					mode = "fwdbwd"
				}
				b.Run(fmt.Sprintf("%s/n=%d/%s", name, n, mode), func(b *testing.B) {
					store := model.NewStore()
					exec := model.MustNewExec(be, store, func(scope *model.Scope, q, k, v *Node) []*Node {
						bias := posenc.ComputeBias(scope, q.Graph(), enc, n, dtypes.Float32)
						q2, k2 := q, k
						if qk, ok := enc.(posenc.QK); ok {
							q2, k2 = qk.EncodeQK(q, k)
						}
						out, _ := attention.Exact(q2, k2, v, attention.Options{Causal: true, Bias: bias})
						if !backward {
							return []*Node{out}
						}
						wrt := []*Node{q, k, v}
						for vv := range store.IterVariables() {
							if vv.Trainable && vv.InUseByGraph(q.Graph()) {
								wrt = append(wrt, vv.NodeValue(q.Graph()))
							}
						}
						return Gradient(ReduceAllSum(out), wrt...)
					})
					exec.MustCall(q, k, v) // compile and initialise
					b.ResetTimer()
					for range b.N {
						for _, t := range exec.MustCall(q, k, v) {
							t.MustFinalizeAll()
						}
					}
					b.ReportMetric(float64(batch*n)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
				})
			}
		}
	}
}
