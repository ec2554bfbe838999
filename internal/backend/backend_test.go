package backend

import (
	"strings"
	"testing"
)

func TestUnknownNameIsAnError(t *testing.T) {
	t.Setenv(EnvVar, "tpu:fast")
	_, err := New()
	if err == nil || !strings.Contains(err.Error(), `"tpu"`) || !strings.Contains(err.Error(), "go") {
		t.Fatalf("unknown backend: got %v, want an error naming the name and the valid ones", err)
	}
}

func TestBadGoOptionIsAnError(t *testing.T) {
	t.Setenv(EnvVar, "go:warp_speed")
	if _, err := New(); err == nil || !strings.Contains(err.Error(), "warp_speed") {
		t.Fatalf("bad option: got %v", err)
	}
}

func TestEnvHonoured(t *testing.T) {
	t.Setenv(EnvVar, "go")
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if c.Backend.String() != "go" || !strings.Contains(c.String(), EnvVar) {
		t.Fatalf("got %q", c.String())
	}
}

func TestDefaultWithoutPlugin(t *testing.T) {
	t.Setenv(EnvVar, "")
	if len(localPlugins()) > 0 {
		t.Skip("a PJRT plugin is installed here")
	}
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if c.Backend.String() != "go" || c.Reason == "" || strings.Contains(c.String(), "\\n") {
		t.Fatalf("default choice %q, want the go backend with a one-line reason", c.String())
	}
}

func TestGoParallelismIsSetQuietly(t *testing.T) {
	for _, c := range []struct {
		cfg, rest string
		n         int
		ok        bool
	}{
		{"go:parallelism=-1", "go", -1, true},
		{"go:ops_parallel,parallelism=3", "go:ops_parallel", 3, true},
		{"go:ops_sequential", "go:ops_sequential", 0, false},
		{"xla:cuda,parallelism=2", "xla:cuda,parallelism=2", 0, false},
	} {
		n, rest, ok := goParallelism(c.cfg)
		if n != c.n || rest != c.rest || ok != c.ok {
			t.Errorf("goParallelism(%q) = %d, %q, %v; want %d, %q, %v", c.cfg, n, rest, ok, c.n, c.rest, c.ok)
		}
	}
	ch, err := NewWithConfig(GoConfig, "test")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ch.Backend.Description(), "parallelism=-1") {
		t.Fatalf("backend %q: want parallelism=-1", ch.Backend.Description())
	}
}
