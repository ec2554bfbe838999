// Package memprobe measures the peak Go heap of a function call, for benchmarks of the pure-Go
// backend (its buffers live on the Go heap).
package memprobe

import (
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

const heapMetric = "/memory/classes/heap/objects:bytes"

func heapBytes(s []metrics.Sample) uint64 {
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// Peak runs f and returns the largest live heap observed while it ran (sampled every
// millisecond) above the heap before the call, in bytes.
func Peak(f func()) uint64 {
	runtime.GC()
	runtime.GC() // twice: pooled buffers survive one cycle
	s := []metrics.Sample{{Name: heapMetric}}
	base := heapBytes(s)
	var peak atomic.Uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		s := []metrics.Sample{{Name: heapMetric}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			if h := heapBytes(s); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(done)
	<-stopped
	if h := heapBytes(s); h > peak.Load() {
		peak.Store(h)
	}
	if p := peak.Load(); p > base {
		return p - base
	}
	return 0
}
