//go:build noxla

package backend

import "fmt"

func disableAutoInstall() {}

func localPlugins() []string { return nil }

func hasNvidiaGPU() bool { return false }

func resolvePlugin(cfg string) (string, string, error) { return cfg, "", nil }

// Install is not available without xla.
func Install(plugin, version, libDir string) error {
	return fmt.Errorf("install: this binary is built with -tags noxla, which has no XLA backend to install plugins for")
}
