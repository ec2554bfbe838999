package posenc

import (
	"github.com/attnbench/attnbench/gomlxattn/params"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
)

// LuoRPE is the relative encoding of Luo et al. 2021 (Eq. 6): one learned scalar b_{j-i} per
// offset and head, no bucketing, shared across layers, zero at initialisation (so a kernelized
// model starts as plain NPRF attention). Offsets beyond +-(MaxLen-1) reuse the edge entries.
type LuoRPE struct {
	NumHeads, MaxLen int
}

func (LuoRPE) Name() string { return "luo_rpe" }

// Coefficients gathers the table [2 MaxLen - 1, H] at the clipped offsets.
func (l LuoRPE) Coefficients(scope *model.Scope, g *Graph, n int, dtype dtypes.DType) *Node {
	w := scope.WithInitializer(initializer.Zero).
		VariableWithShape("luo_rpe_table", shapes.Make(dtype, 2*l.MaxLen-1, l.NumHeads))
	idx := make([]int32, 2*n-1)
	for t := range idx {
		k := min(max(t-(n-1), -(l.MaxLen-1)), l.MaxLen-1)
		idx[t] = int32(k + l.MaxLen - 1)
	}
	b := Gather(w.NodeValue(g), Reshape(Const(g, idx), 2*n-1, 1)) // [2n-1, H]
	return Transpose(b, 0, 1)
}

func init() {
	Register(&Spec{Name: "luo_rpe",
		Doc: "Luo et al. 2021 learned per-offset bias b_{j-i} per head (zero init, clipped beyond max_len)",
		Params: []params.Param{
			{Name: "max_len", Default: 1024, Min: 1, Max: 1 << 20, Integer: true, Doc: "offsets |j-i| < max_len get their own entry"},
		},
		New: func(p params.Values, env Env) (Encoding, error) {
			return LuoRPE{NumHeads: env.NumHeads, MaxLen: p.Int("max_len")}, nil
		}})
}
