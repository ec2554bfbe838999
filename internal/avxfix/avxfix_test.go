package avxfix

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// The test binary itself went through init: amd64 simd builds run with cpu.fma=off.
func TestProcessRunsWithoutFMA(t *testing.T) {
	if !simdBuild {
		t.Skip("only amd64 builds with GOEXPERIMENT=simd re-execute")
	}
	if godebug := os.Getenv("GODEBUG"); !strings.Contains(godebug, "cpu.fma=") {
		t.Fatalf("GODEBUG = %q, want it to set cpu.fma", godebug)
	}
}

func TestEnviron(t *testing.T) {
	for _, c := range []struct {
		env   []string
		want  []string
		again bool
	}{
		{[]string{"HOME=/h"}, []string{"HOME=/h", "GODEBUG=cpu.fma=off"}, true},
		{[]string{"GODEBUG=gctrace=1", "A=b"}, []string{"A=b", "GODEBUG=gctrace=1,cpu.fma=off"}, true},
		{[]string{"GODEBUG=cpu.fmax=1"}, []string{"GODEBUG=cpu.fmax=1,cpu.fma=off"}, true},
		{[]string{"GODEBUG=cpu.fma=off", "GODEBUG=x=1"}, []string{"GODEBUG=x=1,cpu.fma=off"}, true},
		{[]string{"GODEBUG=gctrace=1, cpu.fma=on"}, []string{"GODEBUG=gctrace=1, cpu.fma=on"}, false},
		{[]string{"A=b", "GODEBUG=cpu.fma=off"}, []string{"A=b", "GODEBUG=cpu.fma=off"}, false},
	} {
		got, again := environ(c.env)
		if again != c.again || !slices.Equal(got, c.want) {
			t.Errorf("environ(%q) = %q, %v; want %q, %v", c.env, got, again, c.want, c.again)
		}
	}
}
