// Package kernelized holds attention computed through feature maps instead of an n x n matrix:
// linear attention (Katharopoulos et al. 2020), kernelized attention with relative positional
// encoding by FFT (Luo et al. 2021), Performer (Choromanski et al. 2021), Skyformer (Chen et al.
// 2021) and SchoenbAt (Guo et al. 2025). Importing it registers the mechanisms "performer",
// "kernelized_rpe", "skyformer" and "schoenbat" with package attention.
//
// Layouts follow package attention: q, k, v and features are [batch, seq, heads, dim].
package kernelized
