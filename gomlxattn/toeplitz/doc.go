// Package toeplitz multiplies a batch of Toeplitz matrices with data in graph code:
// Y = T(c) X with T[h, i, j] = c[h, j-i+n-1], i.e. y_i = sum_j c_{j-i} x_j (the convention of
// Luo et al. 2021, Eq. 12-13), for c [H, 2n-1] and X [H, n, F].
//
// Three algorithms compute the same product:
//   - Dense: the [H, n, n] matrix and one batched matmul, O(n^2 F);
//   - NativeFFT: zero padding to 2n and the backend's real FFT, O(n log n F); only where the backend
//     reports the FFT op (XLA);
//   - BlockSpectral: a four-step FFT whose inner DFT, kernel product and inverse DFT collapse
//     into one 2n2 x 2n2 real matrix per (head, block frequency), O(n (n1 + 2 n2) F) with
//     2n = n1 n2; three matmuls on the data and a hand-written backward. It runs on every backend.
//
// Auto picks among them from the backend's capabilities and the size.
package toeplitz
