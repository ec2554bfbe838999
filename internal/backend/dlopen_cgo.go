//go:build cgo && linux

package backend

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

static const char* preload_global(const char* path) {
	if (dlopen(path, RTLD_NOW | RTLD_GLOBAL) == NULL) {
		return dlerror();
	}
	return NULL;
}
*/
import "C"

import (
	"errors"
	"unsafe"
)

// dlopenGlobal loads the shared library at path with RTLD_NOW | RTLD_GLOBAL, so that later
// dlopen calls by soname and symbol lookups find it.
func dlopenGlobal(path string) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	if msg := C.preload_global(cpath); msg != nil {
		return errors.New(C.GoString(msg))
	}
	return nil
}
