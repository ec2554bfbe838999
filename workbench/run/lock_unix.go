//go:build unix

package run

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes an exclusive lock on dir/.lock for the life of a trainer, so two trainers never
// write one run directory; the lock goes with the process, however it ends.
func lockDir(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, ".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("run: %s is in use by another trainer (%s is locked); wait for it or use another directory", dir, path)
	}
	return func() { f.Close() }, nil
}
