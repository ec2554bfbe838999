package sweep

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/attnbench/attnbench/workbench/run"
)

// Finished reports whether a run has ended (done or diverged); such runs are skipped.
func Finished(r Run) bool {
	st, err := run.ReadStatus(r.Dir)
	return err == nil && (st.State == "done" || st.State == "diverged")
}

// Unfinished lists the indices of the runs that have not ended.
func Unfinished(runs []Run) []int {
	var idx []int
	for _, r := range runs {
		if !Finished(r) {
			idx = append(idx, r.Index)
		}
	}
	return idx
}

// RunIndex trains run i of the sweep (resuming it if interrupted; a finished run returns at once).
func RunIndex(f *File, i int, o run.Options) (*run.Result, error) {
	runs, err := f.Runs()
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= len(runs) {
		return nil, fmt.Errorf("sweep %s: -index %d is outside [0, %d]", f.Name, i, len(runs)-1)
	}
	r := runs[i]
	return run.Train(r.Experiment, r.Dir, o)
}

// LocalOptions configure Local.
type LocalOptions struct {
	// Jobs is the number of runs at once; 0 = cores / Threads.
	Jobs int
	// Threads is GOMAXPROCS of each run; 0 = cores / Jobs (at least 1).
	Threads int
	// Command returns the process that runs index i (the workbench's `sweep run`).
	Command func(i int) *exec.Cmd
	// Progress receives one line when a run starts and one when it ends; writes are serialized.
	Progress io.Writer
}

// Plan returns the number of parallel runs and threads per run for n runs on cores cores.
func (o LocalOptions) Plan(n, cores int) (jobs, threads int) {
	jobs, threads = o.Jobs, o.Threads
	switch {
	case jobs <= 0 && threads <= 0:
		threads = 1
		jobs = cores
	case jobs <= 0:
		jobs = max(1, cores/threads)
	case threads <= 0:
		threads = max(1, cores/jobs)
	}
	return min(jobs, max(n, 1)), threads
}

// Local runs the unfinished runs of the sweep as separate processes, Jobs at a time, each with
// GOMAXPROCS = Threads and its output in <run dir>/sweep.log. It returns the runs that failed.
func Local(ctx context.Context, f *File, o LocalOptions) (failed []int, err error) {
	runs, err := f.Runs()
	if err != nil {
		return nil, err
	}
	todo := Unfinished(runs)
	jobs, threads := o.Plan(len(todo), runtime.NumCPU())
	var sayMu sync.Mutex
	say := func(format string, args ...any) {
		if o.Progress != nil {
			sayMu.Lock()
			fmt.Fprintf(o.Progress, format+"\n", args...)
			sayMu.Unlock()
		}
	}
	say("sweep %s: %d runs, %d finished, %d to run, %d at a time with %d threads each", f.Name, len(runs), len(runs)-len(todo), len(todo), jobs, threads)
	var mu sync.Mutex
	next := 0
	var wg sync.WaitGroup
	for range jobs {
		wg.Go(func() {
			for {
				mu.Lock()
				if next >= len(todo) || ctx.Err() != nil {
					mu.Unlock()
					return
				}
				i := todo[next]
				next++
				mu.Unlock()
				r := runs[i]
				start := time.Now()
				say("[%d/%d] %s: started", i, len(runs)-1, r.Name)
				err := runOne(ctx, r, o.Command(i), threads)
				st, _ := run.ReadStatus(r.Dir)
				if err != nil {
					mu.Lock()
					failed = append(failed, i)
					mu.Unlock()
					say("[%d/%d] %s: failed after %.0f s (%v); see %s", i, len(runs)-1, r.Name, time.Since(start).Seconds(), err, filepath.Join(r.Dir, "sweep.log"))
					continue
				}
				say("[%d/%d] %s: %s at step %d in %.0f s", i, len(runs)-1, r.Name, st.State, st.Step, time.Since(start).Seconds())
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return failed, ctx.Err()
	}
	return failed, nil
}

func runOne(ctx context.Context, r Run, cmd *exec.Cmd, threads int) error {
	if err := os.MkdirAll(r.Dir, 0o755); err != nil {
		return err
	}
	log, err := os.OpenFile(filepath.Join(r.Dir, "sweep.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	c := exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
	c.Dir, c.Stdout, c.Stderr = cmd.Dir, log, log
	c.Env = append(append(os.Environ(), cmd.Env...), "GOMAXPROCS="+strconv.Itoa(threads))
	return c.Run()
}
