//go:build !noxla

package backend

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gomlx/go-xla/compute/xla"
	"github.com/gomlx/go-xla/installer"
)

// disableAutoInstall stops go-xla from downloading PJRT plugins.
func disableAutoInstall() { xla.EnableAutoInstall(false) }

// localPlugins lists PJRT plugins already installed on this machine.
// hasNvidiaGPU is go-xla's check: an /dev/nvidia* device or nvidia-smi listing a GPU.
func hasNvidiaGPU() bool { return installer.HasNvidiaGPU() }

func localPlugins() []string {
	disableAutoInstall()
	return xla.GetAvailablePlugins()
}

// resolvePlugin maps "xla:cuda" (when go-xla has no CUDA plugin of its own), "xla:cuda12",
// "xla:cuda13" and "xla:<path to a pip xla_cuda_plugin.so>" to the absolute path of a pip-installed
// plugin, bridged by PipCUDA.Bridge; options after the first comma are kept. Other configurations
// are returned as they are, with an empty note.
func resolvePlugin(cfg string) (resolved, note string, err error) {
	name, rest, _ := strings.Cut(cfg, ":")
	if name != "xla" {
		return cfg, "", nil
	}
	plugin, opts, _ := strings.Cut(rest, ",")
	var p PipCUDA
	switch {
	case plugin == "cuda" || plugin == "cuda12" || plugin == "cuda13":
		if plugin == "cuda" && slices.Contains(localPlugins(), "cuda") {
			return cfg, "", nil // go-xla's own installation (~/.local/lib/go-xla/nvidia)
		}
		if !hasNvidiaGPU() {
			return "", "", fmt.Errorf("no NVIDIA GPU here (no /dev/nvidia0, nvidia-smi lists none)")
		}
		want := 0
		fmt.Sscanf(plugin, "cuda%d", &want)
		if p, err = FindPipCUDA(SitePackages(), want); err != nil {
			return "", "", fmt.Errorf("%w; set $%s to the site-packages holding jax_plugins/, or install a plugin with `workbench backend install cuda13`", err, SitePackagesEnvVar)
		}
	case filepath.IsAbs(plugin) && filepath.Base(plugin) == "xla_cuda_plugin.so":
		if p, err = PipCUDAAt(plugin); err != nil {
			return "", "", err
		}
	default:
		return cfg, "", nil
	}
	bridged, err := p.Bridge()
	if err != nil {
		return "", "", err
	}
	resolved = "xla:" + p.Plugin
	if opts != "" {
		resolved += "," + opts
	}
	return resolved, p.String() + "; " + bridged, nil
}
