//go:build !unix

package tokens

func mapU16(path string, n int) (Seq, func() error, error) { return readU16(path, n) }
