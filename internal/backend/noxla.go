//go:build noxla

package backend

func disableAutoInstall() {}

func localPlugins() []string { return nil }

func resolvePlugin(cfg string) (string, string, error) { return cfg, "", nil }
