package tokens

import (
	"encoding/binary"
	"os"
)

// readU16 reads a file of n little-endian uint16 tokens into memory (for systems without mmap).
func readU16(path string, n int) (Seq, func() error, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	out := make(u16Seq, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return out, func() error { return nil }, nil
}
