package kernelized

import (
	"fmt"

	"github.com/attnbench/attnbench/gomlxattn/posenc"
)

func panicf(format string, args ...any) { panic(fmt.Errorf(format, args...)) }

// isRelative reports whether enc is a relative bias on the logits.
func isRelative(enc posenc.Encoding) bool {
	f, err := posenc.FamilyOf(enc)
	return err == nil && f == posenc.FamilyRelative
}
