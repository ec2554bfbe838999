//go:build !noxla

package backend

import (
	"github.com/gomlx/go-xla/compute/xla"
)

// disableAutoInstall stops go-xla from downloading PJRT plugins.
func disableAutoInstall() { xla.EnableAutoInstall(false) }

// localPlugins lists PJRT plugins already installed on this machine.
func localPlugins() []string {
	disableAutoInstall()
	return xla.GetAvailablePlugins()
}
