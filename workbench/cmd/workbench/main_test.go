package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestTrainRunsAndLearns(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"train", "-steps", "40", "-seq", "32", "-batch", "8", "-width", "32", "-layers", "1", "-lr", "1e-2", "-log_every", "10"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	s := out.String()
	for _, w := range []string{"backend go", "step    40", "validation loss", "unigram baseline"} {
		if !strings.Contains(s, w) {
			t.Errorf("output lacks %q:\n%s", w, s)
		}
	}
}

func TestBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "-heads", "3"}, "Heads = 3"},
		{[]string{"train", "-seq", "0"}, "SeqLen = 0"},
		{[]string{"train", "-posenc", "nope"}, `"nope"`},
		{[]string{"train", "-corpus", "wiki"}, `"wiki"`},
		{[]string{"train", "-stepz", "3"}, "stepz"},
		{[]string{"fly"}, `"fly"`},
		{[]string{"train", "-attention", "performer", "-attn_params", "m=x"}, `"m"`},
		{[]string{"train", "-attention", "performer", "-attn_params", "q=3"}, `"q" is unknown`},
		{[]string{"train", "-attention", "performer", "-posenc", "alibi"}, "kernelized_rpe"},
	} {
		var out, errb bytes.Buffer
		if code := run(c.args, &out, &errb); code != 2 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 mentioning %q", c.args, code, errb.String(), c.want)
		}
	}
}
