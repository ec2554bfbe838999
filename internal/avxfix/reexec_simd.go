//go:build amd64 && goexperiment.simd && (linux || darwin || freebsd)

package avxfix

import (
	"os"
	"syscall"
)

func init() {
	env, again := environ(os.Environ())
	if !again {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	// On success Exec does not return; on failure the program goes on with FMA, only slower.
	_ = syscall.Exec(exe, os.Args, env)
}
