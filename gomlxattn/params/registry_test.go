package params_test

import (
	"strings"
	"testing"

	"github.com/attnbench/attnbench/gomlxattn/params"
)

func TestRegistry(t *testing.T) {
	type spec struct{ doc string }
	r := params.NewRegistry[spec]("owner")
	for _, n := range []string{"b", "c", "a"} {
		r.Register(n, &spec{n})
	}
	if got := strings.Join(r.Names(), ","); got != "a,b,c" {
		t.Errorf("Names = %s, want sorted", got)
	}
	if s, err := r.Get("b"); err != nil || s.doc != "b" {
		t.Errorf("Get(b) = %v, %v", s, err)
	}
	if _, err := r.Get("d"); err == nil || !strings.Contains(err.Error(), `owner: kind "d" is unknown, valid kinds: a, b, c`) {
		t.Errorf("Get(d) = %v", err)
	}
	defer func() {
		if p := recover(); p == nil || !strings.Contains(p.(string), `"a" registered twice`) {
			t.Errorf("second registration: %v", p)
		}
	}()
	r.Register("a", &spec{})
}
