//go:build !cgo || !linux

package backend

import "errors"

func dlopenGlobal(path string) error {
	return errors.New(path + ": preloading needs cgo on linux")
}
