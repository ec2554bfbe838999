package posenc

import (
	"github.com/attnbench/attnbench/gomlxattn/params"

	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
)

// T5 is the bucketed relative bias of Raffel et al. 2020 as in GPT-NeoX: a table W[buckets, H]
// (xavier-normal init), bias = W[bucket(i-j), h] * sqrt(d_h).
type T5 struct {
	NumHeads, Buckets, MaxDistance int
	Bidirectional                  bool
	Scale                          float64
}

func (T5) Name() string { return "t5" }

// T5Bucket maps n = i - j (query minus key) to a bucket. Causal: all buckets for the past,
// n < 0 -> 0. Bidirectional: half the buckets per side, future keys offset by buckets/2.
// Exact below buckets/2 (per side), logarithmic up to maxDistance, then the last bucket.
func T5Bucket(n, buckets, maxDistance int, bidirectional bool) int {
	ret := 0
	nb := buckets
	if bidirectional {
		nb = buckets / 2
		if n < 0 {
			ret = nb
			n = -n
		}
	} else {
		n = max(n, 0)
	}
	maxExact := nb / 2
	if n < maxExact {
		return ret + n
	}
	v := float32(math.Log(float64(float32(n)/float32(maxExact)))) /
		float32(math.Log(float64(maxDistance)/float64(maxExact))) * float32(nb-maxExact)
	return ret + min(nb-1, maxExact+int(v))
}

// Coefficients gathers W at the bucket of each offset k = j - i.
func (t T5) Coefficients(scope *model.Scope, g *Graph, n int, dtype dtypes.DType) *Node {
	w := scope.WithInitializer(initializer.XavierNormalFn(scope)).
		VariableWithShape("t5_buckets", shapes.Make(dtype, t.Buckets, t.NumHeads))
	idx := make([]int32, 2*n-1)
	for i := range idx {
		idx[i] = int32(T5Bucket(-(i - (n - 1)), t.Buckets, t.MaxDistance, t.Bidirectional))
	}
	b := Gather(w.NodeValue(g), Reshape(Const(g, idx), 2*n-1, 1)) // [2n-1, H]
	return MulScalar(Transpose(b, 0, 1), t.Scale)
}

func init() {
	Register(&Spec{Name: "t5", Doc: "T5 bucketed relative bias (scaled by sqrt(d_h))",
		Params: []params.Param{
			{Name: "buckets", Default: 32, Min: 2, Max: 4096, Integer: true},
			{Name: "max_distance", Default: 128, Min: 2, Max: 1 << 24, Integer: true},
			{Name: "buckets_for", Choices: []string{"model", "causal", "bidirectional"},
				Doc: "model: bidirectional buckets iff the model is not causal"},
		},
		New: func(p params.Values, env Env) (Encoding, error) {
			bi := !env.Causal
			if c := p.Int("buckets_for"); c > 0 {
				bi = c == 2
			}
			nb := p.Int("buckets")
			if bi {
				if nb < 4 || nb%2 != 0 {
					return nil, fmt.Errorf("posenc t5: buckets = %d is invalid for bidirectional attention, want an even number >= 4", nb)
				}
				nb /= 2
			}
			if md := p.Int("max_distance"); md <= nb/2 {
				return nil, fmt.Errorf("posenc t5: max_distance = %d is invalid, want > %d (the exact buckets per side)", md, nb/2)
			}
			return T5{NumHeads: env.NumHeads, Buckets: p.Int("buckets"), MaxDistance: p.Int("max_distance"),
				Bidirectional: bi, Scale: math.Sqrt(float64(env.HeadDim))}, nil
		}})
}
