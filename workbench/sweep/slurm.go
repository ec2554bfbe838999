package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/attnbench/attnbench/internal/atomicfile"
)

// SlurmOptions configure a job array.
type SlurmOptions struct {
	Partition string   // --partition; "" = the cluster's default
	Time      string   // --time, e.g. 01:00:00; "" = the partition's default
	GPUs      int      // --gpus-per-task; 0 = none
	CPUs      int      // --cpus-per-task; 0 = 1 (each task's GOMAXPROCS)
	Throttle  int      // at most this many tasks at once (--array=...%P); 0 = no limit
	Extra     []string // more #SBATCH options, e.g. --mem=8G
	// Workbench is the command each task runs; default the running executable.
	Workbench string
	// Sbatch is the sbatch command; default "sbatch".
	Sbatch string
}

// Job is a submitted array, recorded in <sweep>/slurm/jobs.json.
type Job struct {
	ID      string    `json:"id"`
	Indices []int     `json:"indices"`
	Script  string    `json:"script"`
	Time    time.Time `json:"time"`
}

var sbatchOptRE = regexp.MustCompile(`^--[a-z][a-z-]*(=\S+)?$`)

// Script is the sbatch script of a job array over the given run indices: one array task per
// run, each running `workbench sweep run -file FILE -index $SLURM_ARRAY_TASK_ID` in workDir.
func Script(f *File, file, workDir string, indices []int, o SlurmOptions) (string, error) {
	if len(indices) == 0 {
		return "", fmt.Errorf("sweep %s: no runs to submit", f.Name)
	}
	for _, x := range o.Extra {
		if !sbatchOptRE.MatchString(x) {
			return "", fmt.Errorf("sbatch option %q is invalid, want --name or --name=value", x)
		}
	}
	if o.GPUs < 0 || o.CPUs < 0 || o.Throttle < 0 {
		return "", fmt.Errorf("gpus %d, cpus %d and throttle %d must be >= 0", o.GPUs, o.CPUs, o.Throttle)
	}
	if o.Workbench == "" {
		exe, err := os.Executable()
		if err != nil {
			return "", err
		}
		o.Workbench = exe
	}
	cpus := max(o.CPUs, 1)
	array := compactRanges(indices)
	if o.Throttle > 0 {
		array += "%" + strconv.Itoa(o.Throttle)
	}
	logs := filepath.Join(absOr(f.RootDir()), "slurm")
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/sh\n")
	fmt.Fprintf(&b, "#SBATCH --job-name=attnbench-%s\n", f.Name)
	fmt.Fprintf(&b, "#SBATCH --array=%s\n", array)
	fmt.Fprintf(&b, "#SBATCH --output=%s/%%A_%%a.out\n", logs)
	fmt.Fprintf(&b, "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=%d\n", cpus)
	if o.Partition != "" {
		fmt.Fprintf(&b, "#SBATCH --partition=%s\n", o.Partition)
	}
	if o.Time != "" {
		fmt.Fprintf(&b, "#SBATCH --time=%s\n", o.Time)
	}
	if o.GPUs > 0 {
		fmt.Fprintf(&b, "#SBATCH --gpus-per-task=%d\n", o.GPUs)
	}
	for _, x := range o.Extra {
		fmt.Fprintf(&b, "#SBATCH %s\n", x)
	}
	fmt.Fprintf(&b, "# One array task per run of the sweep; a finished run returns at once, an interrupted one resumes.\n")
	fmt.Fprintf(&b, "cd %s || exit 1\n", shellQuote(workDir))
	fmt.Fprintf(&b, "export GOMAXPROCS=%d\n", cpus)
	fmt.Fprintf(&b, "exec %s sweep run -file %s -index \"$SLURM_ARRAY_TASK_ID\"\n", shellQuote(o.Workbench), shellQuote(absOr(file)))
	return b.String(), nil
}

// Submit writes the script of the unfinished runs under <sweep>/slurm/ and submits it with
// sbatch; it returns the job, recorded in jobs.json. With every run finished it submits nothing
// and returns a nil job.
func Submit(ctx context.Context, f *File, file string, o SlurmOptions) (*Job, error) {
	runs, err := f.Runs()
	if err != nil {
		return nil, err
	}
	todo := Unfinished(runs)
	if len(todo) == 0 {
		return nil, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	script, err := Script(f, file, wd, todo, o)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(f.RootDir(), "slurm")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, fmt.Sprintf("array-%s.sh", time.Now().UTC().Format("20060102T150405.000")))
	if err := atomicfile.Write(path, []byte(script)); err != nil {
		return nil, err
	}
	sbatch := o.Sbatch
	if sbatch == "" {
		sbatch = "sbatch"
	}
	out, err := exec.CommandContext(ctx, sbatch, "--parsable", path).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("sweep %s: %s %s: %v: %s", f.Name, sbatch, path, err, strings.TrimSpace(string(out)))
	}
	id, _, _ := strings.Cut(strings.TrimSpace(string(out)), ";")
	if _, err := strconv.Atoi(id); err != nil {
		return nil, fmt.Errorf("sweep %s: sbatch printed %q, want a job id", f.Name, strings.TrimSpace(string(out)))
	}
	job := &Job{ID: id, Indices: todo, Script: path, Time: time.Now().UTC()}
	jobs, err := Jobs(f)
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteJSON(filepath.Join(dir, "jobs.json"), append(jobs, *job)); err != nil {
		return nil, err
	}
	return job, nil
}

// Jobs lists the arrays submitted for the sweep. A damaged jobs.json is an error naming it.
func Jobs(f *File) ([]Job, error) {
	path := filepath.Join(f.RootDir(), "slurm", "jobs.json")
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var jobs []Job
	if err := json.Unmarshal(b, &jobs); err != nil {
		return nil, fmt.Errorf("sweep: %s is damaged (%v); it lists the submitted jobs, move it aside to start the list anew", path, err)
	}
	return jobs, nil
}

// TaskStates asks the scheduler for the state of every task of the given jobs: squeue for the
// pending and running ones, sacct for the others (where accounting is on). Keys are run indices.
func TaskStates(ctx context.Context, jobs []Job) map[int]string {
	states := map[int]string{}
	if len(jobs) == 0 {
		return states
	}
	var ids []string
	for _, j := range jobs {
		ids = append(ids, j.ID)
	}
	parse := func(out []byte) {
		for _, line := range strings.Split(string(out), "\n") {
			fs := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '|' })
			if len(fs) < 2 {
				continue
			}
			job, task, ok := strings.Cut(fs[0], "_")
			if !ok || strings.Contains(task, ".") {
				continue
			}
			for _, t := range expandTasks(task) {
				if isJob(jobs, job) {
					states[t] = fs[1]
				}
			}
		}
	}
	if out, err := exec.CommandContext(ctx, "sacct", "-n", "-P", "-X", "-j", strings.Join(ids, ","), "-o", "JobID,State").Output(); err == nil {
		parse(out)
	}
	if out, err := exec.CommandContext(ctx, "squeue", "-h", "-r", "-j", strings.Join(ids, ","), "-o", "%i %T").Output(); err == nil {
		parse(out) // squeue is current: it overrides sacct
	}
	return states
}

func isJob(jobs []Job, id string) bool {
	for _, j := range jobs {
		if j.ID == id {
			return true
		}
	}
	return false
}

// expandTasks reads an array task field: "3", "[0-2,5%2]" or "[1-3]".
func expandTasks(s string) []int {
	s = strings.Trim(s, "[]")
	s, _, _ = strings.Cut(s, "%")
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
	}
	return out
}

// compactRanges writes sorted indices as Slurm's array list: 0-3,5,7-8.
func compactRanges(idx []int) string {
	var parts []string
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", idx[i], idx[j]))
		} else {
			parts = append(parts, strconv.Itoa(idx[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`;&|<>()*?[]#~!{}") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func absOr(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
