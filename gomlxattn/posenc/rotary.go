package posenc

import (
	"github.com/attnbench/attnbench/gomlxattn/params"

	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
)

// Rotary is RoPE (Su et al. 2021). Default is the GPT-NeoX half-split pairing (dimension i with
// i + d_rot/2); Interleaved pairs (2i, 2i+1) as GPT-J. Only the first d_rot = Fraction*d_h
// dimensions rotate; angle_{t,k} = t * base^(-2k/d_rot).
type Rotary struct {
	HeadDim, RotDim int
	Base            float64
	Interleaved     bool
}

func (Rotary) Name() string { return "rotary" }

// EncodeQK rotates q and k [B, T, H, Dh] at positions 0..T-1.
func (r Rotary) EncodeQK(q, k *Node) (*Node, *Node) {
	t := q.Shape().Dim(1)
	cos, sin := rotaryTables(q.Graph(), t, r.RotDim, r.Base, r.Interleaved, q.DType())
	return applyRotary(q, cos, sin, r.RotDim, r.Interleaved), applyRotary(k, cos, sin, r.RotDim, r.Interleaved)
}

// rotaryTables returns cos and sin [1, T, 1, d_rot] laid out to match the pairing.
func rotaryTables(g *Graph, t, rot int, base float64, interleaved bool, dtype dtypes.DType) (*Node, *Node) {
	half := rot / 2
	c := make([]float64, t*rot)
	s := make([]float64, t*rot)
	for pos := range t {
		for k := range half {
			a := float64(pos) * math.Pow(base, -2*float64(k)/float64(rot))
			i, j := k, k+half
			if interleaved {
				i, j = 2*k, 2*k+1
			}
			c[pos*rot+i], c[pos*rot+j] = math.Cos(a), math.Cos(a)
			s[pos*rot+i], s[pos*rot+j] = math.Sin(a), math.Sin(a)
		}
	}
	return ConvertDType(Reshape(Const(g, c), 1, t, 1, rot), dtype), ConvertDType(Reshape(Const(g, s), 1, t, 1, rot), dtype)
}

// applyRotary computes x*cos + rotate(x)*sin on the first rot dimensions of x.
func applyRotary(x, cos, sin *Node, rot int, interleaved bool) *Node {
	d := x.Shape().Dim(-1)
	xr := Slice(x, AxisRange(), AxisRange(), AxisRange(), AxisRange(0, rot))
	y := Add(Mul(xr, cos), Mul(rotateHalf(xr, interleaved), sin))
	if rot == d {
		return y
	}
	return Concatenate([]*Node{y, Slice(x, AxisRange(), AxisRange(), AxisRange(), AxisRange(rot, d))}, -1)
}

// rotateHalf is concat(-x2, x1) for half-split pairs, or (-x_{2i+1}, x_{2i}) for interleaved pairs.
func rotateHalf(x *Node, interleaved bool) *Node {
	rot := x.Shape().Dim(-1)
	if !interleaved {
		x1 := Slice(x, AxisRange(), AxisRange(), AxisRange(), AxisRange(0, rot/2))
		x2 := Slice(x, AxisRange(), AxisRange(), AxisRange(), AxisRange(rot/2, rot))
		return Concatenate([]*Node{Neg(x2), x1}, -1)
	}
	dims := x.Shape().Dimensions
	p := Reshape(x, dims[0], dims[1], dims[2], rot/2, 2)
	even := Slice(p, AxisRange(), AxisRange(), AxisRange(), AxisRange(), AxisRange(0, 1))
	odd := Slice(p, AxisRange(), AxisRange(), AxisRange(), AxisRange(), AxisRange(1, 2))
	return Reshape(Concatenate([]*Node{Neg(odd), even}, -1), dims...)
}

func init() {
	Register(&Spec{Name: "rotary", Doc: "rotary position embedding (GPT-NeoX half-split by default)",
		Params: []params.Param{
			{Name: "base", Default: 10000, Min: 2, Max: 1e12, Doc: "frequency base"},
			{Name: "fraction", Default: 1, Min: 1e-6, Max: 1, Doc: "fraction of each head's dimensions that rotate"},
			{Name: "interleaved", Default: 0, Min: 0, Max: 1, Integer: true, Doc: "1: GPT-J pairs (2i, 2i+1)"},
		},
		New: func(p params.Values, env Env) (Encoding, error) {
			rot := int(float64(env.HeadDim) * p["fraction"])
			if rot < 2 || rot%2 != 0 {
				return nil, fmt.Errorf("posenc rotary: rotated dimensions = int(HeadDim %d * fraction %v) = %d is invalid, want an even number >= 2",
					env.HeadDim, p["fraction"], rot)
			}
			return Rotary{HeadDim: env.HeadDim, RotDim: rot, Base: p["base"], Interleaved: p.Bool("interleaved")}, nil
		}})
}
