// Package approx measures how well random-feature and Nystrom attentions approximate their
// target attention as the number of features grows: the relative error ||A - A_ref||_F / ||A_ref||_F
// of the layer output on random queries, keys and values, averaged over independent draws.
package approx

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/gomlx/compute"

	"github.com/attnbench/attnbench/gomlxattn/attention"
	_ "github.com/attnbench/attnbench/gomlxattn/kernelized" // registers the kernelized mechanisms
	"github.com/attnbench/attnbench/workbench/plots"
)

// Variant is an approximate attention, the parameter that sets its size, and the attention it
// approximates.
type Variant struct {
	Name      string
	Attention string
	Params    map[string]float64
	SizeParam string // "m", "features" or "landmarks"
	Seeded    bool   // the mechanism takes a "seed" parameter (random features)
	// Reference and RefParams give the target; RefSize, when > 0, sets SizeParam of the
	// reference (the same mechanism at a large size, for targets without a closed form here).
	Reference string
	RefParams map[string]float64
	RefSize   int
}

// Defaults lists PRF and ORF (FAVOR+) and TRF against exact softmax, SchoenbAt against its own
// kernel at 8192 features, and Skyformer against its Gaussian kernel with every key a landmark.
func Defaults(n int) []Variant {
	return []Variant{
		{Name: "PRF", Attention: "performer", Params: map[string]float64{"projection": 0}, SizeParam: "m", Reference: "softmax", Seeded: true},
		{Name: "ORF", Attention: "performer", Params: map[string]float64{"projection": 1}, SizeParam: "m", Reference: "softmax", Seeded: true},
		{Name: "TRF", Attention: "performer", Params: map[string]float64{"feature": 1, "projection": 0}, SizeParam: "m", Reference: "softmax", Seeded: true},
		{Name: "SchoenbAt", Attention: "schoenbat", SizeParam: "features", Reference: "schoenbat", RefSize: 8192, Seeded: true},
		{Name: "Skyformer", Attention: "skyformer", Params: map[string]float64{"pinv": 1}, SizeParam: "landmarks", Reference: "skyformer",
			RefParams: map[string]float64{"pinv": 1}, RefSize: n},
	}
}

// Config of a measurement: Draws independent (q, k, v, features) draws of [1, N, Heads, Dim].
type Config struct {
	N, Heads, Dim, Draws int
	// Scale multiplies the standard-normal queries and keys (larger is harder for random features).
	Scale float64
	Seed  uint64
}

// Error returns the mean relative error of v at each size.
func Error(b compute.Backend, v Variant, sizes []int, c Config) ([]float64, error) {
	if c.N < 1 || c.Heads < 1 || c.Dim < 1 || c.Draws < 1 || !(c.Scale > 0) {
		return nil, fmt.Errorf("approx: n %d, heads %d, dim %d and draws %d must be >= 1 and scale %g > 0", c.N, c.Heads, c.Dim, c.Draws, c.Scale)
	}
	out := make([]float64, len(sizes))
	for draw := range c.Draws {
		rng := rand.New(rand.NewPCG(c.Seed, uint64(draw)))
		gen := func(scale float64) *tensors.Tensor {
			x := make([]float32, c.N*c.Heads*c.Dim)
			for i := range x {
				x[i] = float32(scale * rng.NormFloat64())
			}
			return tensors.FromFlatDataAndDimensions(x, 1, c.N, c.Heads, c.Dim)
		}
		q, k, val := gen(c.Scale), gen(c.Scale), gen(1)
		refParams := maps.Clone(v.RefParams)
		if v.RefSize > 0 {
			if refParams == nil {
				refParams = map[string]float64{}
			}
			refParams[v.SizeParam] = float64(v.RefSize)
			if v.Seeded {
				refParams["seed"] = float64(1000 + draw)
			}
		}
		ref, err := attend(b, v.Reference, refParams, q, k, val)
		if err != nil {
			return nil, fmt.Errorf("approx: %s reference: %w", v.Name, err)
		}
		for i, s := range sizes {
			p := maps.Clone(v.Params)
			if p == nil {
				p = map[string]float64{}
			}
			p[v.SizeParam] = float64(s)
			if v.Seeded {
				p["seed"] = float64(draw)
			}
			got, err := attend(b, v.Attention, p, q, k, val)
			if err != nil {
				return nil, fmt.Errorf("approx: %s at %s = %d: %w", v.Name, v.SizeParam, s, err)
			}
			num, den := 0.0, 0.0
			for j := range ref {
				d := got[j] - ref[j]
				num += d * d
				den += ref[j] * ref[j]
			}
			out[i] += math.Sqrt(num/den) / float64(c.Draws)
		}
	}
	return out, nil
}

// Curves measures every variant at the sizes sizes(v) and returns one series per variant, for
// plots.ApproxError.
func Curves(b compute.Backend, vs []Variant, sizes func(Variant) []int, c Config) ([]plots.Series, error) {
	var out []plots.Series
	for _, v := range vs {
		sz := sizes(v)
		errs, err := Error(b, v, sz, c)
		if err != nil {
			return nil, err
		}
		s := plots.Series{Label: v.Name}
		for i, e := range errs {
			s.X, s.Y = append(s.X, float64(sz[i])), append(s.Y, e)
		}
		out = append(out, s)
	}
	return out, nil
}

func attend(b compute.Backend, kind string, params map[string]float64, q, k, v *tensors.Tensor) ([]float64, error) {
	mech, err := attention.New(kind, params)
	if err != nil {
		return nil, err
	}
	exec, err := model.NewExec(b, model.NewStore(), func(scope *model.Scope, q, k, v *Node) *Node {
		out, _ := mech.Attend(scope.In("attn"), q, k, v, attention.Options{})
		return out
	})
	if err != nil {
		return nil, err
	}
	res, err := exec.Exec(q, k, v)
	if err != nil {
		return nil, err
	}
	flat := tensors.MustCopyFlatData[float32](res[0])
	out := make([]float64, len(flat))
	for i, x := range flat {
		out[i] = float64(x)
	}
	return out, nil
}
