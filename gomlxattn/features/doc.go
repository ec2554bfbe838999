// Package features holds the random feature maps of kernelized attention and their random
// projections.
//
// Positive random features (PRF, FAVOR+; Choromanski et al. 2021, Luo et al. 2021 Eq. 5):
//
//	phi(x) = exp(W x - |x|^2/2) / sqrt(m),  E[phi(x).phi(y)] = exp(x.y),
//
// trigonometric features (TRF, RFA; Luo et al. 2021 Eq. 4):
//
//	phi(x) = exp(|x|^2/2) / sqrt(m) [sin(W x), cos(W x)],
//
// Performer-ReLU relu(W x / sqrt(m)) + 1e-3, and the random Maclaurin features of SchoenbAt
// (Kar and Karnick 2012; Guo et al. 2025). Projections W are i.i.d. Gaussian, orthogonal blocks
// (ORF) or uniform on the sphere of radius sqrt(d).
//
// Projections are drawn in Go from a seed, the variable's scope path and a draw counter, and
// stored as non-trainable variables, so a checkpoint restores exactly the features a model
// was trained with. Redraw replaces every projection of a store with the next draw.
package features
