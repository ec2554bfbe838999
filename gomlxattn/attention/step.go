package attention

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/attnbench/attnbench/gomlxattn/posenc"
)

// Stepper is implemented by mechanisms that attend causally one position at a time with a state
// of fixed size: a recurrence whose cost per token does not grow with the length (decayed linear
// attention). The coefficients of key j for query i are c_0 = 1 and
// c_d = sum_r w_r e^{-s_r d}, d = i - j >= 1.
type Stepper interface {
	// StepState returns the zero state for R terms.
	StepState(g *Graph, batch, heads, dv, terms int, dtype dtypes.DType) []*Node
	// Step attends the new position: q, k [B, H, d], v [B, H, dv], w and s [H, R]. It returns
	// out [B, H, dv] and the next state.
	Step(scope *model.Scope, q, k, v, w, s *Node, state []*Node, scale float64) (*Node, []*Node)
}

// CanStep reports whether the layer attends one position at a time (Step): a causal Stepper
// mechanism with no encoding or a relative encoding whose coefficients are a sum of
// exponentials (posenc.ExpSum: ALiBi exactly, KERPLE-log within its bound).
func (l *Layer) CanStep() error {
	if _, ok := l.Mechanism.(Stepper); !ok {
		return fmt.Errorf("attention %s keeps every key (its cost per token grows with the length); recurrent steps need a linear mechanism (performer, kernelized_rpe)", l.Mechanism.Name())
	}
	if !l.Causal {
		return fmt.Errorf("attention %s is bidirectional; recurrent steps need causal attention", l.Mechanism.Name())
	}
	if l.Family == posenc.FamilyNone {
		return nil
	}
	if l.expSum() == nil {
		return fmt.Errorf("posenc %s is not a sum of decaying exponentials of the distance; recurrent steps need none, alibi or kerple_log", l.Encoding.Name())
	}
	return nil
}

// StepTerms returns w and s [H, R] of the layer's encoding for contexts up to n positions
// (KERPLE-log's grid depends on n), from scope.In(BiasScope) as Bias reads them; without an
// encoding one term, w = 1 and s = 0 (every c_d = 1: plain linear attention).
func (l *Layer) StepTerms(scope *model.Scope, g *Graph, heads, n int, dtype dtypes.DType) (w, s *Node) {
	if es := l.expSum(); es != nil {
		return es.ExpTerms(scope.In(BiasScope), g, 1, max(n-1, 1), dtype)
	}
	return Ones(g, shapes.Make(dtype, heads, 1)), Zeros(g, shapes.Make(dtype, heads, 1))
}

// StepTermCount is R of StepTerms for contexts up to n positions.
func (l *Layer) StepTermCount(n int) int {
	if es := l.expSum(); es != nil {
		return es.ExpCount(1, max(n-1, 1))
	}
	return 1
}

// expSum is the layer's relative encoding as an exponential sum, nil if it is none.
func (l *Layer) expSum() posenc.ExpSum {
	if es, ok := l.Encoding.(posenc.ExpSum); ok && l.Family == posenc.FamilyRelative {
		return es
	}
	return nil
}

// StepState is the mechanism's zero state (CanStep must hold).
func (l *Layer) StepState(g *Graph, batch, heads, dv, terms int, dtype dtypes.DType) []*Node {
	return l.Mechanism.(Stepper).StepState(g, batch, heads, dv, terms, dtype)
}

// Step runs the mechanism's Step in scope.In(mechanism name), where Attend keeps its variables.
func (l *Layer) Step(scope *model.Scope, q, k, v, w, s *Node, state []*Node, scale float64) (*Node, []*Node) {
	return l.Mechanism.(Stepper).Step(scope.In("%s", l.Mechanism.Name()), q, k, v, w, s, state, scale)
}
