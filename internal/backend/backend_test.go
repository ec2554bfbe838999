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
