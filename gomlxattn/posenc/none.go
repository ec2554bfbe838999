package posenc

import "github.com/attnbench/attnbench/gomlxattn/params"

// NoPE is no positional encoding: causal masking alone leaks position (Kazemnejad et al. 2023).
type NoPE struct{}

func (NoPE) Name() string { return "none" }
func (NoPE) NoPosition()  {}

func init() {
	Register(&Spec{Name: "none", Doc: "no positional encoding (NoPE)",
		New: func(params.Values, Env) (Encoding, error) { return NoPE{}, nil }})
}
