package toeplitz

import (
	. "github.com/gomlx/gomlx/core/graph"
)

// applyFFT is the circulant embedding of length N = 2n with the backend's real FFT:
// y = irfft(rfft(a) * rfft(x zero-padded))[0:n], a[t] = c_{-t} (t < n), a[n] = 0, a[N-t] = c_t.
// The sequence axis is moved last, as RealFFT transforms the last axis.
func applyFFT(c, x *Node, causal bool) *Node {
	n := x.Shape().Dim(1)
	nn := 2 * n
	idx := make([]int32, nn)
	for t := range nn {
		idx[t] = int32(kernelIndex(t, n, n, causal))
	}
	a := gatherKernel(c, idx) // [N, H]
	a = Transpose(a, 0, 1)    // [H, N]
	xt := Transpose(x, 1, 2)  // [H, F, n]
	xt = Concatenate([]*Node{xt, ZerosLike(xt)}, 2)
	spec := Mul(RealFFT(xt), ExpandAxes(RealFFT(a), 1)) // [H, F, n+1]
	y := InverseRealFFT(spec)                           // [H, F, N]
	y = Slice(y, AxisRange(), AxisRange(), AxisRange(0, n))
	return Transpose(y, 1, 2)
}

// kernelIndex maps position t of the length-2np circulant kernel to an index of c extended by
// one zero entry at 2n-1: a[t] = c_{-t} for t < np, a[np] = 0, a[t] = c_{2np-t} for t > np, and
// 0 for offsets |k| >= n (padding) or k > 0 when causal.
func kernelIndex(t, n, np int, causal bool) int {
	zero := 2*n - 1
	var k int
	switch {
	case t < np:
		k = -t
	case t == np:
		return zero
	default:
		k = 2*np - t
	}
	if k <= -n || k >= n || (causal && k > 0) {
		return zero
	}
	return k + n - 1
}

// gatherKernel returns rows idx of [c^T; 0] ([2n, H]): a small gather with a gradient.
func gatherKernel(c *Node, idx []int32) *Node {
	ct := Transpose(c, 0, 1) // [2n-1, H]
	ct = Concatenate([]*Node{ct, ZerosLike(Slice(ct, AxisRange(0, 1)))}, 0)
	return Gather(ct, Reshape(Const(c.Graph(), idx), len(idx), 1))
}
