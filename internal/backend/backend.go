// Package backend chooses the GoMLX compute backend for attnbench: the one place where the
// library tests, the workbench and (through workbench/backend) the notebooks get a backend from.
//
// Rule: honour $GOMLX_BACKEND when set; otherwise use "xla" only when a PJRT plugin is already
// installed locally, else the pure-Go backend "go". The XLA auto-installer (which downloads plugins)
// is always disabled. "xla:cuda" also finds a CUDA plugin installed by pip (jax-cuda13-pjrt or
// jax-cuda12-pjrt with the nvidia-* wheels) and bridges its library layout (PipCUDA).
package backend

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"

	_ "github.com/attnbench/attnbench/internal/avxfix" // math.Exp without AVX-SSE transition penalties
)

// GoConfig is the configuration of the pure-Go backend chosen by default: an unbounded worker
// pool, so that independent ops run in parallel. compute v0.1.2's default pool is bounded (2 x
// GOMAXPROCS) and deadlocks when parallel ops are large matmuls: each runs on a pool worker and
// fans out with Saturate, which waits for free workers that the other ready matmuls hold
// (TestBoundedPoolDeadlocks reproduces it). With parallelism=-1 no op waits for a pool slot; each
// matmul still fans out over GOMAXPROCS goroutines. Results are bit-identical to ops run one at
// a time.
const GoConfig = "go:parallelism=-1"

// EnvVar is the environment variable that names the backend, "name[:config]" (e.g. "go", "xla:cuda").
const EnvVar = compute.ConfigEnvVar

// Choice is a backend together with the one-line reason it was chosen.
type Choice struct {
	Backend compute.Backend
	Reason  string
}

// String returns the one-line report, e.g. `backend go: no PJRT plugin installed locally`.
func (c Choice) String() string {
	return fmt.Sprintf("backend %s: %s", c.Backend.String(), c.Reason)
}

// Available lists the backend names compiled into this binary.
func Available() []string {
	names := compute.List()
	slices.Sort(names)
	return names
}

// New returns the backend chosen by the rule of the package documentation.
// An unknown backend name in $GOMLX_BACKEND is an error naming the valid ones.
func New() (Choice, error) {
	if cfg, ok := os.LookupEnv(EnvVar); ok && strings.TrimSpace(cfg) != "" {
		return NewWithConfig(cfg, fmt.Sprintf("$%s=%q", EnvVar, cfg))
	}
	if !slices.Contains(compute.List(), "xla") {
		return goDefault("xla not compiled in (built with -tags noxla)")
	}
	if plugins := localPlugins(); len(plugins) > 0 {
		c, err := NewWithConfig("xla", fmt.Sprintf("PJRT plugin installed locally (%s)", strings.Join(plugins, ", ")))
		if err == nil {
			return c, nil
		}
		return goDefault(fmt.Sprintf("xla failed (%v), using pure Go", firstLine(err)))
	}
	return goDefault("no PJRT plugin installed locally, using pure Go")
}

// goDefault opens the pure-Go backend with GoConfig.
func goDefault(reason string) (Choice, error) {
	return NewWithConfig(GoConfig, reason+" ("+GoConfig+")")
}

// NewWithConfig opens the backend named by cfg ("name[:config]") without ever downloading plugins.
func NewWithConfig(cfg, reason string) (c Choice, err error) {
	name, _, _ := strings.Cut(cfg, ":")
	names := Available()
	if !slices.Contains(names, name) {
		return Choice{}, fmt.Errorf("backend %q (from %s): unknown backend name %q, valid names: %s",
			cfg, reason, name, strings.Join(names, ", "))
	}
	disableAutoInstall()
	resolved, note, err := resolvePlugin(cfg)
	if err != nil {
		return Choice{}, fmt.Errorf("backend %q (from %s): %w", cfg, reason, err)
	}
	if note != "" {
		reason += "; " + note
	}
	cfg = resolved
	if name == gobackend.BackendName && cfg == name {
		return Choice{gobackend.GetBackend(), reason}, nil
	}
	defer func() { // constructors may panic on bad configurations: report them as errors.
		if r := recover(); r != nil {
			err = fmt.Errorf("backend %q (from %s): %v", cfg, reason, r)
		}
	}()
	parallelism, rest, hasParallelism := goParallelism(cfg)
	b, err := compute.NewWithConfig(rest)
	if err != nil {
		return Choice{}, fmt.Errorf("backend %q (from %s): %w", cfg, reason, err)
	}
	if hasParallelism {
		if err := setParallelism(b, parallelism); err != nil {
			return Choice{}, fmt.Errorf("backend %q (from %s): %w", cfg, reason, err)
		}
	}
	return Choice{b, reason}, nil
}

// goParallelism takes the parallelism=N option out of a Go backend configuration: compute
// v0.1.2 prints a line to stdout when it sets it, which would land in notebooks' outputs, so the
// chooser sets it on the pool itself.
func goParallelism(cfg string) (n int, rest string, ok bool) {
	name, opts, _ := strings.Cut(cfg, ":")
	if name != gobackend.BackendName {
		return 0, cfg, false
	}
	var kept []string
	for _, o := range strings.Split(opts, ",") {
		if v, found := strings.CutPrefix(o, "parallelism="); found {
			if x, err := strconv.Atoi(v); err == nil {
				n, ok = x, true
				continue
			}
		}
		if o != "" {
			kept = append(kept, o)
		}
	}
	if !ok {
		return 0, cfg, false
	}
	return n, strings.TrimSuffix(name+":"+strings.Join(kept, ","), ":"), true
}

// setParallelism sets the Go backend's worker-pool parallelism (Backend.Workers, a field of a
// type in compute's internal package, reached by reflection).
func setParallelism(b compute.Backend, n int) error {
	v := reflect.ValueOf(b)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() == reflect.Struct {
		if w := v.FieldByName("Workers"); w.IsValid() && !w.IsNil() {
			if m := w.MethodByName("SetMaxParallelism"); m.IsValid() {
				m.Call([]reflect.Value{reflect.ValueOf(n)})
				return nil
			}
		}
	}
	return fmt.Errorf("option parallelism=%d: this Go backend has no worker pool to set", n)
}

var (
	once    sync.Once
	shared  Choice
	errOnce error
)

// Shared returns one process-wide backend, chosen once by New, and prints the choice to stderr
// the first time. Tests and notebooks use it so that all graphs share a backend.
func Shared() (Choice, error) {
	once.Do(func() {
		shared, errOnce = New()
		if errOnce == nil {
			fmt.Fprintln(os.Stderr, shared.String())
		}
	})
	return shared, errOnce
}

// MustShared is Shared that panics on error; for tests and notebooks.
func MustShared() compute.Backend {
	c, err := Shared()
	if err != nil {
		panic(err)
	}
	return c.Backend
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
