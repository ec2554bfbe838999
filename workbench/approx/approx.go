// Package approx measures how well random-feature and Nystrom attentions approximate their
// target attention as the number of features grows: the relative error ||A - A_ref||_F / ||A_ref||_F
// of the layer output on random queries, keys and values, averaged over independent draws.
package approx

import (
	"github.com/attnbench/attnbench/workbench/results"

	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/gomlx/compute"

	"github.com/attnbench/attnbench/gomlxattn/attention"
	_ "github.com/attnbench/attnbench/gomlxattn/mechanisms" // every registered mechanism
	"github.com/attnbench/attnbench/gomlxattn/params"
)

// Variant is an approximate attention: a mechanism that implements attention.Sized (its size
// parameter and the attention it approximates), with fixed parameters.
type Variant struct {
	Name      string
	Attention string
	Params    params.Given
	SizeParam string // from the mechanism; filled by NewVariant
	Seeded    bool   // the mechanism takes a "seed" parameter (random features)
	// Reference and RefParams give the target; RefSize, when nonzero, sets SizeParam of the
	// reference (the same mechanism at a large size; -1 the sequence length).
	Reference string
	RefParams params.Given
	RefSize   int
}

// NewVariant reads the size parameter and the reference of a registered mechanism; it is an
// error for a mechanism that is not attention.Sized or (with these parameters) has no reference.
func NewVariant(name, mech string, p params.Given) (Variant, error) {
	m, err := attention.New(mech, p)
	if err != nil {
		return Variant{}, fmt.Errorf("approx: %s: %w", name, err)
	}
	sz, ok := m.(attention.Sized)
	if !ok {
		return Variant{}, fmt.Errorf("approx: %s: mechanism %s has no size parameter (it is exact or not a random-feature or Nystrom attention)", name, mech)
	}
	ref, refParams, refSize := sz.Reference()
	if ref == "" {
		return Variant{}, fmt.Errorf("approx: %s: mechanism %s with these parameters has no reference attention", name, mech)
	}
	spec, _ := attention.Lookup(mech)
	v := Variant{Name: name, Attention: mech, Params: p, SizeParam: sz.SizeParam(), Reference: ref, RefParams: refParams, RefSize: refSize,
		Seeded: slices.Contains(params.Names(spec.Params), "seed")}
	if ref == mech && refParams == nil {
		v.RefParams = p // its own kernel at a large size, with the same parameters
	}
	return v, nil
}

// Defaults lists PRF and ORF (FAVOR+) and TRF against exact softmax, SchoenbAt against its own
// kernel at 8192 features, Skyformer against its Gaussian kernel with every key a landmark, and
// every other registered mechanism that has a size and a reference, at its default parameters.
func Defaults() []Variant {
	named := []struct {
		name, mech string
		p          params.Given
	}{
		{"PRF", "performer", params.Given{"projection": "gaussian"}},
		{"ORF", "performer", params.Given{"projection": "orthogonal"}},
		{"TRF", "performer", params.Given{"feature": "trf", "projection": "gaussian"}},
		{"SchoenbAt", "schoenbat", nil},
		{"Skyformer", "skyformer", params.Given{"pinv": "convergent"}},
	}
	var out []Variant
	seen := map[string]bool{}
	for _, d := range named {
		v, err := NewVariant(d.name, d.mech, d.p)
		if err != nil {
			panic(err) // a registered default that no longer builds is a programming error
		}
		out, seen[d.mech] = append(out, v), true
	}
	for _, mech := range attention.Names() {
		if seen[mech] {
			continue
		}
		if v, err := NewVariant(mech, mech, nil); err == nil {
			out = append(out, v)
		}
	}
	return out
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
		if v.RefSize != 0 {
			if refParams == nil {
				refParams = params.Given{}
			}
			refParams[v.SizeParam] = v.RefSize
			if v.RefSize < 0 {
				refParams[v.SizeParam] = c.N
			}
			if v.Seeded {
				refParams["seed"] = 1000 + draw
			}
		}
		ref, err := attend(b, v.Reference, refParams, q, k, val)
		if err != nil {
			return nil, fmt.Errorf("approx: %s reference: %w", v.Name, err)
		}
		for i, s := range sizes {
			p := maps.Clone(v.Params)
			if p == nil {
				p = params.Given{}
			}
			p[v.SizeParam] = s
			if v.Seeded {
				p["seed"] = draw
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
func Curves(b compute.Backend, vs []Variant, sizes func(Variant) []int, c Config) ([]results.Series, error) {
	var out []results.Series
	for _, v := range vs {
		sz := sizes(v)
		errs, err := Error(b, v, sz, c)
		if err != nil {
			return nil, err
		}
		s := results.Series{Label: v.Name}
		for i, e := range errs {
			s.X, s.Y = append(s.X, float64(sz[i])), append(s.Y, e)
		}
		out = append(out, s)
	}
	return out, nil
}

// attend runs the attention layer of a kind on q, k, v [1, N, H, D], bidirectional and without
// positional encoding, as a transformer.Model's encoder layer would.
func attend(b compute.Backend, kind string, p params.Given, q, k, v *tensors.Tensor) ([]float64, error) {
	l, err := attention.NewLayer(attention.LayerConfig{Attention: kind, AttentionParams: p,
		Heads: q.Shape().Dim(2), HeadDim: q.Shape().Dim(3)})
	if err != nil {
		return nil, err
	}
	exec, err := model.NewExec(b, model.NewStore(), func(scope *model.Scope, q, k, v *Node) *Node {
		out, _ := l.Attend(scope.In("attn"), q, k, v, nil, attention.Options{})
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
