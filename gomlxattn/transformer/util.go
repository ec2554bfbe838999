package transformer

import "fmt"

func panicf(format string, args ...any) { panic(fmt.Errorf(format, args...)) }
