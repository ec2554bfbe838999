// Package avxfix keeps Go's math.Exp fast next to AVX-512 matmuls in the pure-Go backend.
//
// Built with GOEXPERIMENT=simd, the backend's matmul kernels (simd/archsimd) return with the upper
// halves of the vector registers dirty (no VZEROUPPER, golang/go#80835). math.Exp on amd64 mixes
// VEX-encoded FMA with legacy SSE instructions, and each switch then pays an AVX-SSE transition
// penalty: measured on a Xeon, Exp of a float32 [4, 512, 512] tensor takes about 950 ns per
// element instead of 10, and evaluating a softmax model at n = 1024 is 18 times slower. Without
// FMA, math.Exp is plain SSE and pays nothing.
//
// Importing the package (internal/backend does) makes the process run with GODEBUG=cpu.fma=off:
// on amd64 builds with the simd experiment, when GODEBUG does not already set cpu.fma, init
// re-executes the program once with the setting added (it is read only at process start). The
// arguments, environment and open files are kept. Set GODEBUG=cpu.fma=on to keep FMA.
package avxfix

import "strings"

// Env is the GODEBUG setting the process runs with.
const Env = "cpu.fma=off"

// environ returns env with Env added to its GODEBUG, or false when GODEBUG already sets cpu.fma.
func environ(env []string) ([]string, bool) {
	out := make([]string, 0, len(env)+1)
	godebug := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
			godebug = v // the last one wins, as in os.Getenv
			continue
		}
		out = append(out, kv)
	}
	for _, kv := range strings.Split(godebug, ",") {
		if k, _, _ := strings.Cut(strings.TrimSpace(kv), "="); k == "cpu.fma" {
			return env, false
		}
	}
	if godebug != "" {
		godebug += ","
	}
	return append(out, "GODEBUG="+godebug+Env), true
}
