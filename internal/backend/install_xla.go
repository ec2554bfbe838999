//go:build !noxla

package backend

import (
	"fmt"
	"path/filepath"

	"github.com/gomlx/go-xla/installer"
)

// Install downloads and installs a PJRT plugin with go-xla's installer: "cpu", "cuda13" or
// "cuda12" (the latter two from PyPI's jax-cudaNN-pjrt and its nvidia-* wheels) under
// libDir/go-xla (libDir "" = ~/.local/lib), where the chooser then finds it. It needs internet
// and runs only when called: the chooser never installs anything.
func Install(plugin, version, libDir string) error {
	if libDir == "" {
		d, err := installer.DefaultHomeLibPath()
		if err != nil {
			return err
		}
		libDir = d
	}
	dir := filepath.Join(libDir, "go-xla")
	switch plugin {
	case "cpu":
		if version != "" && version != "latest" {
			return fmt.Errorf("install: plugin cpu takes no -version (go-xla pins it), got %q", version)
		}
		return installer.CPUAutoInstall(dir, true, installer.Normal)
	case "cuda12", "cuda13":
		if version == "" {
			version = "latest"
		}
		return installer.CudaInstall(plugin, version, dir, true, installer.Normal)
	}
	return fmt.Errorf("install: plugin %q is unknown, valid plugins: cpu, cuda13, cuda12", plugin)
}
