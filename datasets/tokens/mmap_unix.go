//go:build unix

package tokens

import (
	"os"
	"syscall"
	"unsafe"
)

// mapU16 memory-maps a file of n little-endian uint16 tokens.
func mapU16(path string, n int) (Seq, func() error, error) {
	if n == 0 || !littleEndian() {
		return readU16(path, n)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	b, err := syscall.Mmap(int(f.Fd()), 0, 2*n, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return readU16(path, n)
	}
	seq := u16Seq(unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), n))
	return seq, func() error { return syscall.Munmap(b) }, nil
}

func littleEndian() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}
