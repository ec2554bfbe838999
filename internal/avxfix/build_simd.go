//go:build amd64 && goexperiment.simd && (linux || darwin || freebsd)

package avxfix

const simdBuild = true
