package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/attnbench/attnbench/workbench/backend"
	"github.com/attnbench/attnbench/workbench/plots"
	"github.com/attnbench/attnbench/workbench/results"
	"github.com/attnbench/attnbench/workbench/run"
	"github.com/attnbench/attnbench/workbench/sweep"
)

const sweepUsage = `Usage:
  workbench sweep plan     -file SWEEP          the runs, their settings and directories
  workbench sweep run      -file SWEEP -index I train run I (resumes; a finished run returns at once)
  workbench sweep local    -file SWEEP [-jobs N -threads T]   every unfinished run, N processes at once
  workbench sweep submit   -file SWEEP -executor slurm [-partition P -time T -gpus G -cpus C -throttle K -sbatch OPT...]
  workbench sweep status   -file SWEEP          each run's state, with Slurm's for submitted arrays
  workbench sweep collect  -file SWEEP [-out DIR]   table.csv, table.json and the figures
  workbench sweep manifest -file SWEEP -executor k8s [-image I -claim C -parallelism P -cpus C -gpus G]
`

func sweepCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, sweepUsage)
		return fmt.Errorf("sweep: name a subcommand: plan, run, local, submit, status, collect or manifest")
	}
	sub, args := args[0], args[1:]
	fs := newFlags("sweep "+sub, stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), sweepUsage); fs.PrintDefaults() }
	file := fs.String("file", "", "sweep file (.json, .yaml)")
	index := fs.Int("index", -1, "run index (sweep run)")
	jobs := fs.Int("jobs", 0, "runs at once (sweep local); 0 = cores / threads")
	threads := fs.Int("threads", 0, "GOMAXPROCS of each run (sweep local); 0 = cores / jobs, 1 when neither is set")
	executor := fs.String("executor", "", "slurm (sweep submit) or k8s (sweep manifest)")
	partition := fs.String("partition", "", "Slurm partition")
	timeLimit := fs.String("time", "", "Slurm time limit per run, e.g. 02:00:00")
	gpus := fs.Int("gpus", 0, "GPUs per run")
	cpus := fs.Int("cpus", 0, "CPUs per run (and its GOMAXPROCS); 0 = 1")
	throttle := fs.Int("throttle", 0, "at most this many array tasks at once (Slurm --array=...%K); 0 = no limit")
	var extra multiFlag
	fs.Var(&extra, "sbatch", "an extra sbatch option, e.g. -sbatch --mem=8G (repeatable)")
	image := fs.String("image", "", "container image (k8s); default attnbench/workbench:dev")
	claim := fs.String("claim", "", "PersistentVolumeClaim mounted as runs/ (k8s); default attnbench-runs")
	parallelism := fs.Int("parallelism", 0, "pods at once (k8s); default 4")
	out := fs.String("out", "", "directory of the collected table and figures; default the sweep's directory")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *file == "" {
		return fmt.Errorf("sweep %s: -file is required", sub)
	}
	f, err := sweep.Load(*file)
	if err != nil {
		return err
	}
	runs, err := f.Runs()
	if err != nil {
		return err
	}
	// A signal ends `sweep run` at once, as a kill does (the run resumes from its checkpoint);
	// the other subcommands stop what they started first.
	ctx := context.Background()
	if sub != "run" {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
	}
	switch sub {
	case "plan":
		fmt.Fprintf(stdout, "sweep %s: %d runs under %s\n", f.Name, len(runs), f.RootDir())
		for _, r := range runs {
			var s []string
			for _, st := range r.Settings {
				s = append(s, fmt.Sprintf("%s=%v", st.Field, st.Value))
			}
			fmt.Fprintf(stdout, "%4d  %-40s %s\n", r.Index, r.Name, strings.Join(s, " "))
		}
		return nil
	case "run":
		if *index < 0 {
			if v := os.Getenv("SLURM_ARRAY_TASK_ID"); v != "" {
				*index, _ = strconv.Atoi(v)
			} else if v := os.Getenv("JOB_COMPLETION_INDEX"); v != "" {
				*index, _ = strconv.Atoi(v)
			}
		}
		if *index < 0 || *index >= len(runs) {
			return fmt.Errorf("sweep run: -index %d is outside [0, %d]", *index, len(runs)-1)
		}
		choice, err := backend.New()
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, choice.String())
		r := runs[*index]
		fmt.Fprintf(stdout, "sweep %s: run %d %s in %s\n", f.Name, r.Index, r.Name, r.Dir)
		res, err := run.Train(r.Experiment, r.Dir, run.Options{Backend: choice.Backend, Progress: stdout})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "sweep %s: run %d %s: %s at step %d\n", f.Name, r.Index, r.Name, res.Status.State, res.Status.Step)
		return nil
	case "local":
		return localSweep(ctx, f, *file, *jobs, *threads, stdout)
	case "submit":
		if *executor != "slurm" {
			return fmt.Errorf("sweep submit: -executor %q is unknown, valid executors: slurm (sweep local runs here, sweep manifest writes a Kubernetes Job)", *executor)
		}
		job, err := sweep.Submit(ctx, f, *file, sweep.SlurmOptions{Partition: *partition, Time: *timeLimit, GPUs: *gpus, CPUs: *cpus, Throttle: *throttle, Extra: extra})
		if err != nil {
			return err
		}
		if job == nil {
			fmt.Fprintf(stdout, "sweep %s: every run has finished, nothing submitted\n", f.Name)
			return nil
		}
		fmt.Fprintf(stdout, "sweep %s: submitted job %s, %d array tasks (%s)\n", f.Name, job.ID, len(job.Indices), job.Script)
		return nil
	case "status":
		js, err := sweep.Jobs(f)
		if err != nil {
			return err
		}
		slurm := sweep.TaskStates(ctx, js)
		rows, err := sweep.Collect(f)
		if err != nil {
			return err
		}
		counts := map[string]int{}
		for _, r := range rows {
			counts[r.State]++
			s := ""
			if st, ok := slurm[r.Index]; ok {
				s = "slurm " + st
			}
			fmt.Fprintf(stdout, "%4d  %-40s %-12s step %6d  %s\n", r.Index, r.Name, r.State, r.Step, s)
		}
		fmt.Fprintf(stdout, "sweep %s: %d runs: %v\n", f.Name, len(rows), counts)
		return nil
	case "collect":
		rows, err := sweep.Collect(f)
		if err != nil {
			return err
		}
		dir := *out
		if dir == "" {
			dir = f.RootDir()
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for _, name := range []string{"table.csv", "table.json"} {
			if err := sweep.WriteTable(filepath.Join(dir, name), rows); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "sweep %s: %d runs collected into %s\n", f.Name, len(rows), filepath.Join(dir, "table.csv"))
		var dirs []string
		for _, r := range runs {
			dirs = append(dirs, r.Dir)
		}
		if rep, err := results.Collect(dirs); err == nil && len(rep.Curves) > 0 {
			if fig, err := plots.Stability(rep.Curves, "Training loss, sweep "+f.Name); err == nil {
				if files, err := fig.Export(dir, "stability"); err == nil {
					fmt.Fprintf(stdout, "wrote %s\n", strings.Join(files, " "))
				}
			}
		}
		figs, err := sweep.PhaseFigures(f, rows)
		if err != nil {
			return err
		}
		for _, fig := range figs {
			files, err := fig.Figure.Export(dir, fig.Name)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "wrote %s\n", strings.Join(files, " "))
		}
		return nil
	case "manifest":
		if *executor != "k8s" {
			return fmt.Errorf("sweep manifest: -executor %q is unknown, valid executors: k8s", *executor)
		}
		b, err := sweep.Manifest(f, *file, sweep.K8sOptions{Image: *image, Claim: *claim, Parallelism: *parallelism, CPUs: *cpus, GPUs: *gpus})
		if err != nil {
			return err
		}
		_, err = stdout.Write(b)
		return err
	}
	return fmt.Errorf("sweep: subcommand %q is unknown, valid subcommands: plan, run, local, submit, status, collect, manifest", sub)
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

// localSweep runs the unfinished runs of the sweep in file as processes of this program
// (`workbench sweep run -index i`), jobs at a time.
func localSweep(ctx context.Context, f *sweep.File, file string, jobs, threads int, stdout io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	failed, err := sweep.Local(ctx, f, sweep.LocalOptions{Jobs: jobs, Threads: threads, Progress: stdout,
		Command: func(i int) *exec.Cmd {
			return exec.Command(exe, "sweep", "run", "-file", file, "-index", strconv.Itoa(i))
		}})
	if err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("sweep %s: %d runs failed (indices %v); run the command again to resume them", f.Name, len(failed), failed)
	}
	return nil
}
