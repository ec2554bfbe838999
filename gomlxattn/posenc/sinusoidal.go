package posenc

import (
	"github.com/attnbench/attnbench/gomlxattn/params"

	"fmt"
	"math"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// Sinusoidal is the fixed absolute encoding of GPT-NeoX: emb[t] = [sin(t*f) | cos(t*f)] with
// f_k = base^(-2k/D), k < D/2, sin half first, added to the embeddings without scaling.
type Sinusoidal struct {
	Width int
	Base  float64
}

func (Sinusoidal) Name() string { return "sinusoidal" }

// Table returns the [T, D] table in float64.
func (s Sinusoidal) Table(t int) [][]float64 {
	half := s.Width / 2
	out := make([][]float64, t)
	for pos := range t {
		r := make([]float64, s.Width)
		for k := range half {
			a := float64(pos) * math.Pow(s.Base, -2*float64(k)/float64(s.Width))
			r[k], r[half+k] = math.Sin(a), math.Cos(a)
		}
		out[pos] = r
	}
	return out
}

// Embed adds the table to x [B, T, D].
func (s Sinusoidal) Embed(_ *model.Scope, x *Node) *Node {
	pe := ConvertDType(Const(x.Graph(), s.Table(x.Shape().Dim(1))), x.DType())
	return Add(x, ExpandAxes(pe, 0))
}

func init() {
	Register(&Spec{Name: "sinusoidal", Doc: "fixed sinusoidal absolute positions ([sin | cos] halves)",
		Params: []params.Param{{Name: "base", Default: 10000, Min: 2, Max: 1e12}},
		New: func(p params.Values, env Env) (Encoding, error) {
			if env.Width < 2 || env.Width%2 != 0 {
				return nil, fmt.Errorf("posenc sinusoidal: Width = %d is invalid, want an even number >= 2", env.Width)
			}
			return Sinusoidal{Width: env.Width, Base: p["base"]}, nil
		}})
}
