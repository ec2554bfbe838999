package posenc

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// Family says where an encoding enters the network.
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

// Param describes one numeric parameter of an encoding: its default and its valid closed range.
type Param struct {
	Name     string
	Default  float64
	Min, Max float64
	Integer  bool
	Doc      string
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
	Family Family
	Doc    string
	Params []Param
	// New builds the encoding from validated parameters.
	New func(p Params, env Env) (Encoding, error)
}

// Params holds validated parameter values by name.
type Params map[string]float64

// Int returns an integer parameter.
func (p Params) Int(name string) int { return int(p[name]) }

// Bool returns a 0/1 parameter as a bool.
func (p Params) Bool(name string) bool { return p[name] != 0 }

// Encoding is the common interface; each family adds its own methods.
type Encoding interface {
	Name() string
	Family() Family
}

// Config selects an encoding and its parameters; it is the JSON form used by experiments.
type Config struct {
	Kind   string             `json:"kind"`
	Params map[string]float64 `json:"params,omitempty"`
	// PerLayer gives every layer its own parameters instead of one set shared across layers
	// (the reference code shares KERPLE and T5 across layers).
	PerLayer bool `json:"per_layer,omitempty"`
}

var registry = map[string]*Spec{}

// Register adds an encoding; it is called from the init function of the encoding's own file.
func Register(s *Spec) {
	if _, dup := registry[s.Name]; dup {
		panic(fmt.Sprintf("posenc: encoding %q registered twice", s.Name))
	}
	registry[s.Name] = s
}

// Names lists the registered encodings, sorted.
func Names() []string {
	return slices.Sorted(maps.Keys(registry))
}

// Lookup returns the spec of a registered encoding.
func Lookup(name string) (*Spec, bool) {
	s, ok := registry[name]
	return s, ok
}

// Resolve validates cfg and fills in defaults; errors name the field, the value and the valid range.
func Resolve(cfg Config) (*Spec, Params, error) {
	kind := cfg.Kind
	if kind == "" {
		kind = "none"
	}
	s, ok := registry[kind]
	if !ok {
		return nil, nil, fmt.Errorf("posenc: kind %q is unknown, valid kinds: %s", cfg.Kind, strings.Join(Names(), ", "))
	}
	p, err := CheckParams("posenc "+kind, s.Params, cfg.Params)
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
	return s.New(p, env)
}

// CheckParams fills the defaults of specs and validates the given values; errors are prefixed
// with owner and name the parameter, the value and the valid range.
func CheckParams(owner string, specs []Param, given map[string]float64) (Params, error) {
	p := Params{}
	for _, ps := range specs {
		p[ps.Name] = ps.Default
	}
	for _, k := range slices.Sorted(maps.Keys(given)) {
		v := given[k]
		i := slices.IndexFunc(specs, func(ps Param) bool { return ps.Name == k })
		if i < 0 {
			valid := make([]string, len(specs))
			for j, ps := range specs {
				valid[j] = ps.Name
			}
			return nil, fmt.Errorf("%s: parameter %q is unknown, valid parameters: [%s]", owner, k, strings.Join(valid, ", "))
		}
		ps := specs[i]
		if math.IsNaN(v) || v < ps.Min || v > ps.Max || (ps.Integer && v != math.Trunc(v)) {
			what := "a number"
			if ps.Integer {
				what = "an integer"
			}
			return nil, fmt.Errorf("%s: parameter %q = %v is invalid, want %s in [%v, %v]", owner, k, v, what, ps.Min, ps.Max)
		}
		p[k] = v
	}
	return p, nil
}
