package kernelized

import "fmt"

func panicf(format string, args ...any) { panic(fmt.Errorf(format, args...)) }
