package params

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Registry holds specs by name: the encodings of posenc and the mechanisms of attention
// register into one each, from the init functions of their own files.
type Registry[S any] struct {
	owner string // "posenc" or "attention", for messages
	specs map[string]*S
}

// NewRegistry returns an empty registry whose messages start with owner.
func NewRegistry[S any](owner string) *Registry[S] {
	return &Registry[S]{owner: owner, specs: map[string]*S{}}
}

// Register adds s under name; a second registration of a name is a programming error.
func (r *Registry[S]) Register(name string, s *S) {
	if _, dup := r.specs[name]; dup {
		panic(fmt.Sprintf("%s: %q registered twice", r.owner, name))
	}
	r.specs[name] = s
}

// Names lists the registered names, sorted.
func (r *Registry[S]) Names() []string { return slices.Sorted(maps.Keys(r.specs)) }

// Lookup returns the spec registered under name.
func (r *Registry[S]) Lookup(name string) (*S, bool) {
	s, ok := r.specs[name]
	return s, ok
}

// Get returns the spec registered under name, or an error listing the valid names.
func (r *Registry[S]) Get(name string) (*S, error) {
	if s, ok := r.specs[name]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("%s: kind %q is unknown, valid kinds: %s", r.owner, name, strings.Join(r.Names(), ", "))
}
