//go:build noxla

package backend

func disableAutoInstall() {}

func localPlugins() []string { return nil }
