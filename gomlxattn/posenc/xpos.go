package posenc

import (
	"github.com/attnbench/attnbench/gomlxattn/params"

	"fmt"
	"math"

	. "github.com/gomlx/gomlx/core/graph"
)

// XPos is RoPE with a per-frequency exponential decay (Sun et al. 2022, arXiv 2212.10554):
// q_t <- RoPE(q_t) * zeta^((t-t0)/scale_base), k_t <- RoPE(k_t) * zeta^(-(t-t0)/scale_base),
// zeta_k = (2k + gamma*d_h) / ((1+gamma)*d_h), so q.k carries zeta^((m-n)/scale_base).
// Default pairing is interleaved (torchscale); t0 = T/2 centres the scales.
// It is a QK transform (multiplicative), not an additive bias.
type XPos struct {
	Rotary
	ScaleBase, Gamma float64
}

func (XPos) Name() string { return "xpos" }

// Zeta returns zeta_k for k < d_h/2.
func (x XPos) Zeta() []float64 {
	z := make([]float64, x.RotDim/2)
	for k := range z {
		z[k] = (2*float64(k) + x.Gamma*float64(x.RotDim)) / ((1 + x.Gamma) * float64(x.RotDim))
	}
	return z
}

// EncodeQK rotates and scales q and k [B, T, H, Dh].
func (x XPos) EncodeQK(q, k *Node) (*Node, *Node) {
	q, k = x.Rotary.EncodeQK(q, k)
	t := q.Shape().Dim(1)
	zeta := x.Zeta()
	up := make([]float64, t*x.RotDim)
	for pos := range t {
		e := (float64(pos) - float64(t/2)) / x.ScaleBase
		for kk, z := range zeta {
			i, j := kk, kk+x.RotDim/2
			if x.Interleaved {
				i, j = 2*kk, 2*kk+1
			}
			s := math.Pow(z, e)
			up[pos*x.RotDim+i], up[pos*x.RotDim+j] = s, s
		}
	}
	scale := ConvertDType(Reshape(Const(q.Graph(), up), 1, t, 1, x.RotDim), q.DType())
	return Mul(q, scale), Div(k, scale)
}

func init() {
	Register(&Spec{Name: "xpos", Doc: "xPos: rotary with exponential decay (interleaved pairs)",
		Params: []params.Param{
			{Name: "base", Default: 10000, Min: 2, Max: 1e12},
			{Name: "scale_base", Default: 512, Min: 1, Max: 1e9},
			{Name: "gamma", Default: 0.4, Min: 1e-6, Max: 1e3},
			{Name: "interleaved", Default: 1, Min: 0, Max: 1, Integer: true},
		},
		New: func(p params.Values, env Env) (Encoding, error) {
			if env.HeadDim < 2 || env.HeadDim%2 != 0 {
				return nil, fmt.Errorf("posenc xpos: HeadDim = %d is invalid, want an even number >= 2", env.HeadDim)
			}
			r := Rotary{HeadDim: env.HeadDim, RotDim: env.HeadDim, Base: p["base"], Interleaved: p.Bool("interleaved")}
			return XPos{Rotary: r, ScaleBase: p["scale_base"], Gamma: p["gamma"]}, nil
		}})
}
