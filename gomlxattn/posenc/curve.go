package posenc

import (
	"fmt"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Curve returns, for kernel-shape plots, each head's bias against the distance d = 0..maxDist to a
// past key: curve[h][d] = b_h(-d), using the variables of store under scopePath (for a
// transformer.Model: "/relpos", or "/layer_<l>/relpos" with per-layer encodings: attention.BiasScope). KERPLE
// parameters are read after projection. FIRE depends on the query position; its curve is the row
// of query i = maxDist (it builds a [maxDist+1]^2 matrix, so keep maxDist modest). Variables are
// Float32, as in transformer.Model.
func Curve(b compute.Backend, store *model.Store, scopePath string, enc Encoding, maxDist int) ([][]float64, error) {
	if maxDist < 0 {
		return nil, fmt.Errorf("posenc.Curve: maxDist = %d is invalid, want >= 0", maxDist)
	}
	_, toeplitz := enc.(Toeplitz)
	_, matrix := enc.(Matrix)
	if !toeplitz && !matrix {
		return nil, fmt.Errorf("posenc.Curve: encoding %q is not a relative bias", enc.Name())
	}
	n := maxDist + 1
	exec, err := model.NewExec(b, store, func(root *model.Scope, g *Graph) *Node {
		scope := root
		for _, part := range strings.Split(strings.Trim(scopePath, "/"), "/") {
			if part != "" {
				scope = scope.At("%s", part)
			}
		}
		if t, ok := enc.(Toeplitz); ok {
			c := t.Coefficients(scope, g, n, dtypes.Float32)          // [H, 2n-1], index n-1-d holds k = -d
			return Reverse(Slice(c, AxisRange(), AxisRange(0, n)), 1) // [H, n], index d
		}
		m := enc.(Matrix).BiasMatrix(scope, g, n, dtypes.Float32) // [H, n, n]
		row := Squeeze(Slice(m, AxisRange(), AxisElem(n-1)), 1)   // [H, n] over keys j
		return Reverse(row, 1)                                    // index d = n-1-j
	})
	if err != nil {
		return nil, err
	}
	out, err := exec.Call()
	if err != nil {
		return nil, fmt.Errorf("posenc.Curve %s: %w", enc.Name(), err)
	}
	flat32 := tensors.MustCopyFlatData[float32](out[0])
	flat := make([]float64, len(flat32))
	for i, x := range flat32 {
		flat[i] = float64(x)
	}
	h := out[0].Shape().Dim(0)
	curve := make([][]float64, h)
	for i := range curve {
		curve[i] = flat[i*n : (i+1)*n]
	}
	return curve, nil
}
