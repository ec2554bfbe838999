package toeplitz_test

import (
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/attnbench/attnbench/gomlxattn/toeplitz"
	"github.com/attnbench/attnbench/internal/backend"
)

// TestExpand checks the gather-free Toeplitz expansion against direct indexing, n = 1..9.
func TestExpand(t *testing.T) {
	for n := 1; n <= 9; n++ {
		coef := make([]float32, 2*(2*n-1))
		for i := range coef {
			coef[i] = float32(i + 1)
		}
		exec := MustNewExec(backend.MustShared(), func(c *Node) *Node { return toeplitz.Expand(c, n) })
		got := tensors.MustCopyFlatData[float32](exec.MustCall1(tensors.FromFlatDataAndDimensions(coef, 2, 2*n-1)))
		for h := range 2 {
			for i := range n {
				for j := range n {
					if want := coef[h*(2*n-1)+j-i+n-1]; got[(h*n+i)*n+j] != want {
						t.Fatalf("n=%d: M[%d,%d,%d] = %v, want %v", n, h, i, j, got[(h*n+i)*n+j], want)
					}
				}
			}
		}
	}
}
