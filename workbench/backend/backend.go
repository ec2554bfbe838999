// Package backend is the workbench's and the notebooks' door to the backend chooser of
// internal/backend (which the library's tests use too): $GOMLX_BACKEND when set, else xla where a
// PJRT plugin is installed locally, else the pure-Go backend; never a download.
package backend

import (
	"github.com/gomlx/compute"

	"github.com/attnbench/attnbench/internal/backend"
)

// GoConfig is the pure-Go backend configuration chosen by default.
const GoConfig = backend.GoConfig

// EnvVar is the environment variable that names the backend, "name[:config]".
const EnvVar = backend.EnvVar

// Choice is a backend together with the one-line reason it was chosen.
type Choice = backend.Choice

// Available lists the backend names compiled into this binary.
func Available() []string { return backend.Available() }

// New returns the backend chosen by the rule of the package documentation.
func New() (Choice, error) { return backend.New() }

// NewWithConfig returns the backend "name[:config]" with the given reason.
func NewWithConfig(cfg, reason string) (Choice, error) { return backend.NewWithConfig(cfg, reason) }

// Shared returns the process-wide backend, chosen once.
func Shared() (Choice, error) { return backend.Shared() }

// MustShared returns the shared backend and panics if none can be created.
func MustShared() compute.Backend { return backend.MustShared() }

// PipCUDA is a CUDA PJRT plugin installed by pip, with its NVIDIA libraries.
type PipCUDA = backend.PipCUDA

// FindPipCUDA looks for a pip CUDA plugin (CUDA major version cuda, 0 = 13 then 12) in dirs.
func FindPipCUDA(dirs []string, cuda int) (PipCUDA, error) { return backend.FindPipCUDA(dirs, cuda) }

// SitePackages lists the Python site-packages directories searched for a pip CUDA plugin.
func SitePackages() []string { return backend.SitePackages() }

// Install downloads a PJRT plugin ("cpu", "cuda13", "cuda12") with go-xla's installer; only on request.
func Install(plugin, version, libDir string) error { return backend.Install(plugin, version, libDir) }
