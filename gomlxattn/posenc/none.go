package posenc

// NoPE is no positional encoding: causal masking alone leaks position (Kazemnejad et al. 2023).
type NoPE struct{}

func (NoPE) Name() string   { return "none" }
func (NoPE) Family() Family { return FamilyNone }

func init() {
	Register(&Spec{Name: "none", Family: FamilyNone, Doc: "no positional encoding (NoPE)",
		New: func(Params, Env) (Encoding, error) { return NoPE{}, nil }})
}
