package posenc

import (
	"fmt"
	"strings"

	"github.com/attnbench/attnbench/gomlxattn/params"
)

// Family says where an encoding enters the network. It is derived from the interfaces the
// encoding implements (FamilyOf), so it cannot disagree with them.
type Family int

const (
	FamilyNone     Family = iota // no positional information (NoPE)
	FamilyAbsolute               // added to embeddings
	FamilyQK                     // transforms q and k
	FamilyRelative               // additive (or multiplicative) bias on the logits
)

func (f Family) String() string {
	return [...]string{"none", "absolute", "qk", "relative"}[f]
}

// None is implemented by encodings that add no positional information on purpose (NoPE), so
// that an encoding with no form at all is an error rather than silently nothing.
type None interface {
	Encoding
	NoPosition()
}

// FamilyOf returns the family of enc from the interfaces it implements: exactly one of None,
// Absolute, QK, Toeplitz (or WeightedToeplitz) and Matrix; anything else is an error.
func FamilyOf(enc Encoding) (Family, error) {
	var fams []Family
	var forms []string
	add := func(ok bool, f Family, form string) {
		if ok {
			fams, forms = append(fams, f), append(forms, form)
		}
	}
	_, none := enc.(None)
	_, abs := enc.(Absolute)
	_, qk := enc.(QK)
	_, toe := enc.(Toeplitz)
	_, mat := enc.(Matrix)
	add(none, FamilyNone, "None")
	add(abs, FamilyAbsolute, "Absolute")
	add(qk, FamilyQK, "QK")
	add(toe, FamilyRelative, "Toeplitz")
	add(mat, FamilyRelative, "Matrix")
	switch len(fams) {
	case 1:
		return fams[0], nil
	case 0:
		return 0, fmt.Errorf("posenc %s: the encoding implements none of None, Absolute, QK, Toeplitz and Matrix, want exactly one", enc.Name())
	}
	return 0, fmt.Errorf("posenc %s: the encoding implements %s, want exactly one form", enc.Name(), strings.Join(forms, " and "))
}

// Env is what an encoding may depend on besides its own parameters.
type Env struct {
	NumHeads int  // attention heads
	HeadDim  int  // per-head dimension d_h
	Width    int  // model width D
	Causal   bool // causal (decoder) or bidirectional (encoder) attention
	MaxLen   int  // longest sequence the model will see, 0 if unbounded
}

// Spec is a registered encoding.
type Spec struct {
	Name   string
	Doc    string
	Params []params.Param
	// New builds the encoding from validated parameters.
	New func(p params.Values, env Env) (Encoding, error)
}

// Encoding is the common interface; each family adds its own methods (see FamilyOf).
type Encoding interface {
	Name() string
}

// Config selects an encoding and its parameters; it is the JSON form used by experiments.
type Config struct {
	Kind   string       `json:"kind"`
	Params params.Given `json:"params,omitempty"`
	// PerLayer gives every layer its own parameters instead of one set shared across layers
	// (the reference code shares KERPLE and T5 across layers).
	PerLayer bool `json:"per_layer,omitempty"`
}

var registry = params.NewRegistry[Spec]("posenc")

// Register adds an encoding; it is called from the init function of the encoding's own file.
func Register(s *Spec) { registry.Register(s.Name, s) }

// Names lists the registered encodings, sorted.
func Names() []string { return registry.Names() }

// Lookup returns the spec of a registered encoding.
func Lookup(name string) (*Spec, bool) { return registry.Lookup(name) }

// Resolve validates cfg and fills in defaults; errors name the field, the value and the valid range.
func Resolve(cfg Config) (*Spec, params.Values, error) {
	kind := cfg.Kind
	if kind == "" {
		kind = "none"
	}
	s, err := registry.Get(kind)
	if err != nil {
		return nil, nil, err
	}
	p, err := params.Check("posenc "+kind, s.Params, cfg.Params)
	if err != nil {
		return nil, nil, err
	}
	return s, p, nil
}

// New validates cfg against env and builds the encoding. It never builds a graph.
func New(cfg Config, env Env) (Encoding, error) {
	s, p, err := Resolve(cfg)
	if err != nil {
		return nil, err
	}
	if env.NumHeads < 1 {
		return nil, fmt.Errorf("posenc %s: NumHeads = %d is invalid, want >= 1", s.Name, env.NumHeads)
	}
	if env.HeadDim < 1 {
		return nil, fmt.Errorf("posenc %s: HeadDim = %d is invalid, want >= 1", s.Name, env.HeadDim)
	}
	enc, err := s.New(p, env)
	if err != nil {
		return nil, err
	}
	if _, err := FamilyOf(enc); err != nil {
		return nil, err
	}
	return enc, nil
}
