package posenc_test

import (
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"

	"github.com/attnbench/attnbench/gomlxattn/posenc"
)

// Every registered encoding implements exactly one form, and the family names it.
func TestFamilyOfRegistered(t *testing.T) {
	want := map[string]posenc.Family{"none": posenc.FamilyNone, "learned": posenc.FamilyAbsolute, "sinusoidal": posenc.FamilyAbsolute,
		"rotary": posenc.FamilyQK, "xpos": posenc.FamilyQK, "alibi": posenc.FamilyRelative, "fire": posenc.FamilyRelative,
		"t5": posenc.FamilyRelative, "kerple_log": posenc.FamilyRelative, "kerple_biaswht": posenc.FamilyRelative}
	for _, name := range posenc.Names() {
		enc := mustNew(t, name, nil, posenc.Env{NumHeads: 2, HeadDim: 8, Width: 16, Causal: true})
		fam, err := posenc.FamilyOf(enc)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if w, ok := want[name]; ok && fam != w {
			t.Errorf("FamilyOf(%s) = %s, want %s", name, fam, w)
		}
	}
}

type formless struct{}

func (formless) Name() string { return "formless" }

type twoForms struct{ formless }

func (twoForms) EncodeQK(q, k *Node) (*Node, *Node) { return q, k }
func (twoForms) NoPosition()                        {}

func TestFamilyOfMalformed(t *testing.T) {
	for _, tc := range []struct {
		enc  posenc.Encoding
		want string
	}{{formless{}, "none of"}, {twoForms{}, "None and QK"}} {
		_, err := posenc.FamilyOf(tc.enc)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "formless") {
			t.Errorf("FamilyOf(%T) = %v, want an error naming the encoding and %q", tc.enc, err, tc.want)
		}
	}
}
