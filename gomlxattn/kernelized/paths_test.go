package kernelized_test

import (
	"github.com/attnbench/attnbench/gomlxattn/kernelized"
	"github.com/attnbench/attnbench/gomlxattn/toeplitz"
)

// rpePath is one way RPE forms its sums: a Toeplitz method, or the quadratic weights.
type rpePath struct {
	name string
	eval kernelized.Evaluation
	meth toeplitz.Method
}

func (p rpePath) String() string { return p.name }

// with returns o evaluated by p.
func (p rpePath) with(o kernelized.RPEOptions) kernelized.RPEOptions {
	o.Evaluation, o.Toeplitz.Method = p.eval, p.meth
	return o
}

var (
	pathAuto      = rpePath{"auto", kernelized.EvalAuto, toeplitz.Auto}
	pathDense     = rpePath{"dense", kernelized.EvalToeplitz, toeplitz.Dense}
	pathBlock     = rpePath{"block", kernelized.EvalToeplitz, toeplitz.BlockSpectral}
	pathQuadratic = rpePath{"quadratic", kernelized.EvalQuadratic, toeplitz.Auto}
)
