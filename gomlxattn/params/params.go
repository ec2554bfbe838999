// Package params is the parameter schema shared by positional encodings and attention
// mechanisms: numeric parameters with a default and a closed valid range, and choices given by
// name. Given values come from Go code, JSON or YAML files and command-line flags; Check validates
// them against the schema, before any graph is built, with errors that name the owner, the
// parameter, the value and the valid range.
package params

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Param describes one parameter. A numeric parameter has a default and a closed range [Min, Max];
// a choice parameter lists its names in Choices (the default is Choices[Default]) and is given
// by name, never by number.
type Param struct {
	Name     string
	Default  float64
	Min, Max float64
	Integer  bool
	Choices  []string
	Doc      string
}

// IsChoice reports whether p is given by name.
func (p Param) IsChoice() bool { return len(p.Choices) > 0 }

// String is the parameter as the command's help lists it: name, range or choices, default, doc.
func (p Param) String() string {
	var s string
	switch {
	case p.IsChoice():
		s = fmt.Sprintf("%s=%s (one of %s)", p.Name, p.Choices[int(p.Default)], strings.Join(p.Choices, "|"))
	case p.Integer:
		s = fmt.Sprintf("%s=%s (integer in [%s, %s])", p.Name, num(p.Default), num(p.Min), num(p.Max))
	default:
		s = fmt.Sprintf("%s=%s (in [%s, %s])", p.Name, num(p.Default), num(p.Min), num(p.Max))
	}
	if p.Doc != "" {
		s += ": " + p.Doc
	}
	return s
}

// num prints integers in full and other numbers in the shortest form.
func num(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// Given holds parameter values as a user wrote them: numbers (any Go integer or float type) for
// numeric parameters and names (strings) for choices. A string that parses as a number is
// accepted for a numeric parameter, so flag values need no conversion.
type Given map[string]any

// Values holds validated parameters by name; a choice holds the index of its name in Choices.
type Values map[string]float64

// Int returns an integer parameter (or the index of a choice).
func (v Values) Int(name string) int { return int(v[name]) }

// Bool returns a 0/1 parameter as a bool.
func (v Values) Bool(name string) bool { return v[name] != 0 }

// Check fills the defaults of specs and validates given; errors are prefixed with owner.
func Check(owner string, specs []Param, given Given) (Values, error) {
	p := Values{}
	for _, ps := range specs {
		p[ps.Name] = ps.Default
	}
	for _, k := range slices.Sorted(maps.Keys(given)) {
		i := slices.IndexFunc(specs, func(ps Param) bool { return ps.Name == k })
		if i < 0 {
			return nil, fmt.Errorf("%s: parameter %q is unknown, valid parameters: [%s]", owner, k, strings.Join(Names(specs), ", "))
		}
		v, err := specs[i].value(given[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", owner, err)
		}
		p[k] = v
	}
	return p, nil
}

// Names lists the parameter names of specs in order.
func Names(specs []Param) []string {
	out := make([]string, len(specs))
	for i, ps := range specs {
		out[i] = ps.Name
	}
	return out
}

// value converts and validates one given value.
func (ps Param) value(x any) (float64, error) {
	if ps.IsChoice() {
		s, ok := x.(string)
		if !ok {
			return 0, fmt.Errorf("parameter %q = %v is invalid, want a name, one of %s (numeric codes are not accepted)", ps.Name, x, strings.Join(ps.Choices, ", "))
		}
		i := slices.Index(ps.Choices, s)
		if i < 0 {
			return 0, fmt.Errorf("parameter %q = %q is invalid, want one of %s", ps.Name, s, strings.Join(ps.Choices, ", "))
		}
		return float64(i), nil
	}
	v, ok := number(x)
	if !ok {
		return 0, fmt.Errorf("parameter %q = %v is invalid, want a number in [%v, %v]", ps.Name, x, ps.Min, ps.Max)
	}
	if math.IsNaN(v) || v < ps.Min || v > ps.Max || (ps.Integer && v != math.Trunc(v)) {
		what := "a number"
		if ps.Integer {
			what = "an integer"
		}
		return 0, fmt.Errorf("parameter %q = %v is invalid, want %s in [%v, %v]", ps.Name, v, what, ps.Min, ps.Max)
	}
	return v, nil
}

func number(x any) (float64, bool) {
	switch v := x.(type) {
	case float64:
		return v, true
	case float32:
		return float64(v), true
	case int:
		return float64(v), true
	case int32:
		return float64(v), true
	case int64:
		return float64(v), true
	case uint64:
		return float64(v), true
	case uint32:
		return float64(v), true
	case uint:
		return float64(v), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return f, err == nil
	}
	return 0, false
}

// Parse reads "name=value,name=value" (a command-line flag) into Given; flag names the flag in
// errors. Repeated names are an error.
func Parse(flag, s string) (Given, error) {
	out := Given{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("-%s: %q is invalid, want name=value", flag, part)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("-%s: parameter %q is given twice", flag, k)
		}
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			out[k] = f
		} else {
			out[k] = v
		}
	}
	return out, nil
}
