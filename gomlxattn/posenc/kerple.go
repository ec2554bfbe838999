package posenc

// KERPLE (Chi et al., NeurIPS 2022, arXiv 2205.09921): conditionally positive definite kernels of
// the distance d >= 0 used as additive logit biases, in the reference code's units (added to
// q.k/sqrt(d_h)). Parameters are per head, U(0,1)-scaled at init and projected (clamped) before
// every use; see projectedParam. Files: kerple_log.go, kerple_power.go, kerple_biaswht.go,
// kerple_3paralog.go.

// kerpleEps is the reference's lower clamp of every KERPLE parameter.
const kerpleEps = 1e-2
