package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	k8syaml "sigs.k8s.io/yaml"

	"github.com/attnbench/attnbench/internal/backend"
	"github.com/attnbench/attnbench/workbench/run"
)

const tinyBase = `
  model: {width: 16, heads: 2, layers: 1}
  data: {corpus: code, seq_len: 16, batch: 4}
  optim: {steps: 6}
  eval: {lengths: [16], sequences: 2}
  log_every: 1
  checkpoint_every: 2
`

func writeSweep(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(body, "ROOT", filepath.Join(dir, "runs"))), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExpandIsDeterministic(t *testing.T) {
	p := writeSweep(t, `
name: grid
root: ROOT
base:`+tinyBase+`
variants:
  - {name: prf, set: {model.attention: performer, model.attention_params: {m: 8, normalize: 0}, model.posenc: {kind: none}}}
  - {name: rpe, set: {model.attention: kernelized_rpe, model.posenc: {kind: luo_rpe}}}
axes:
  - {field: optim.lr, values: [0.003, 0.1]}
  - {field: seed, values: [1, 2, 3]}
`)
	f, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := f.Runs()
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 12 {
		t.Fatalf("%d runs, want 2 variants x 2 lr x 3 seeds = 12", len(runs))
	}
	want := []string{"prf_lr=0.003_seed=1", "prf_lr=0.003_seed=2", "prf_lr=0.003_seed=3", "prf_lr=0.1_seed=1"}
	for i, w := range want {
		if runs[i].Name != w || runs[i].Index != i || runs[i].Dir != filepath.Join(f.RootDir(), w) {
			t.Errorf("run %d: %s in %s, want %s", i, runs[i].Name, runs[i].Dir, w)
		}
	}
	r := runs[11]
	if r.Name != "rpe_lr=0.1_seed=3" || r.Experiment.Optim.LR != 0.1 || r.Experiment.Seed != 3 || r.Experiment.Model.Attention != "kernelized_rpe" ||
		r.Experiment.Model.PosEnc.Kind != "luo_rpe" || r.Experiment.Model.Width != 16 || r.Experiment.Data.SeqLen != 16 {
		t.Fatalf("last run %s: %+v", r.Name, r.Experiment)
	}
	if runs[0].Experiment.Model.AttentionParams["normalize"] != float64(0) && runs[0].Experiment.Model.AttentionParams["normalize"] != int64(0) {
		t.Errorf("variant parameters: %v", runs[0].Experiment.Model.AttentionParams)
	}
	again, _ := f.Runs()
	for i := range runs {
		if again[i].Name != runs[i].Name {
			t.Fatalf("a second expansion differs at %d", i)
		}
	}
}

func TestWithFieldsChangeTogether(t *testing.T) {
	p := writeSweep(t, "name: w\nbase:"+tinyBase+"axes:\n  - {field: data.seq_len, values: [16, 64, 256], with: {data.batch: [16, 4, 1], optim.steps: [3, 2, 1]}}\n  - {field: seed, values: [1, 2]}\n")
	f, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	runs, _ := f.Runs()
	if len(runs) != 6 {
		t.Fatalf("%d runs, want 6", len(runs))
	}
	for _, r := range runs {
		e := r.Experiment
		if e.Data.SeqLen*e.Data.Batch != 256 || e.Optim.Steps != map[int]int{16: 3, 64: 2, 256: 1}[e.Data.SeqLen] {
			t.Errorf("%s: seq_len %d, batch %d, steps %d", r.Name, e.Data.SeqLen, e.Data.Batch, e.Optim.Steps)
		}
		if strings.Contains(r.Name, "batch") || len(r.Settings) != 2 {
			t.Errorf("%s: settings %v, want only the axes' own fields", r.Name, r.Settings)
		}
	}
	if runs[2].Name != "seq_len=64_seed=1" {
		t.Errorf("run 2 is %s", runs[2].Name)
	}
}

func TestBadSweepsNameTheProblem(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{"name: a b\nbase: {}\n", `name "a b" is invalid`},
		{"name: s\nbase: {optim: {lr: -1}}\n", "optim.lr"},
		{"name: s\naxes:\n  - {field: optim.lrr, values: [1]}\n", "lrr"},
		{"name: s\naxes:\n  - {field: optim.lr, values: []}\n", "axes[0]"},
		{"name: s\naxes:\n  - {field: model.width, values: [16, 0]}\n", "run 1 (width=0)"},
		{"name: s\naxes:\n  - {field: data.corpus, values: [a/b, a-b]}\n", "both named"},
		{"name: s\nbase: {}\nbase_file: x.json\n", "both set"},
		{"name: s\naxis: []\n", "axis"},
		{"name: s\naxes:\n  - {field: seed.x, values: [1]}\n", "seed is a value"},
		{"name: s\naxes:\n  - {field: data.seq_len, values: [16, 32], with: {data.batch: [4]}}\n", `with field "data.batch" has 1 values, want one per value of data.seq_len (2)`},
		{"name: s\naxes:\n  - {field: data.seq_len, values: [16], with: {data.seq_len: [4]}}\n", `with field "data.seq_len" is invalid`},
		{"name: s\naxes:\n  - {field: data.seq_len, values: [16], with: {data.batch: [0]}}\n", "data.batch"},
		{"name: s\naxes:\n  - {field: seed, values: [" + strings.Repeat("1, ", 400) + "1]}\n  - {field: model.width, values: [" + strings.Repeat("16, ", 400) + "16]}\n", "more than 100000 runs"},
	} {
		p := writeSweep(t, c.body)
		if _, err := Load(p); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want an error containing %q", c.body, err, c.want)
		}
	}
}

// TestMain lets the test binary be the process of one run, as `workbench sweep run` is.
func TestMain(m *testing.M) {
	if file := os.Getenv("ATTNBENCH_SWEEP_CHILD_FILE"); file != "" {
		i, _ := strconv.Atoi(os.Getenv("ATTNBENCH_SWEEP_CHILD_INDEX"))
		f, err := Load(file)
		if err == nil {
			_, err = RunIndex(f, i, run.Options{Backend: backend.MustShared()})
		}
		if err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func childCommand(file string) func(i int) *exec.Cmd {
	return func(i int) *exec.Cmd {
		c := exec.Command(os.Args[0])
		c.Env = []string{"ATTNBENCH_SWEEP_CHILD_FILE=" + file, "ATTNBENCH_SWEEP_CHILD_INDEX=" + strconv.Itoa(i)}
		return c
	}
}

func TestLocalRunsEverythingOnceAndCollects(t *testing.T) {
	p := writeSweep(t, "name: local\nroot: ROOT\nbase:"+tinyBase+"axes:\n  - {field: optim.lr, values: [0.001, 0.01]}\n  - {field: seed, values: [1, 2]}\n")
	f, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	failed, err := Local(context.Background(), f, LocalOptions{Jobs: 2, Threads: 1, Command: childCommand(p), Progress: &log})
	if err != nil || len(failed) > 0 {
		runs, _ := f.Runs()
		for _, i := range failed {
			b, _ := os.ReadFile(filepath.Join(runs[i].Dir, "sweep.log"))
			t.Logf("sweep.log of run %d:\n%s", i, b)
		}
		t.Fatalf("failed %v, %v\n%s", failed, err, log.String())
	}
	if !strings.Contains(log.String(), "4 to run, 2 at a time") || strings.Count(log.String(), ": done at step 6") != 4 {
		t.Fatalf("progress:\n%s", log.String())
	}
	rows, err := Collect(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.State != "done" || r.Step != 6 || r.Perplexity[16] <= 1 || len(r.Settings) != 2 {
			t.Errorf("row %+v", r)
		}
	}
	// Everything finished: a second call starts nothing.
	log.Reset()
	if _, err := Local(context.Background(), f, LocalOptions{Jobs: 2, Command: childCommand(p), Progress: &log}); err != nil || !strings.Contains(log.String(), "4 finished, 0 to run") {
		t.Fatalf("second call: %v\n%s", err, log.String())
	}
	table := filepath.Join(t.TempDir(), "table.csv")
	if err := WriteTable(table, rows); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(table)
	if !strings.HasPrefix(string(b), "index,name,optim.lr,seed,state,step,final_loss,reason,accuracy,ppl@16\n") || strings.Count(string(b), "\n") != 5 {
		t.Fatalf("table:\n%s", b)
	}
}

func TestPlanOfCores(t *testing.T) {
	for _, c := range []struct{ jobs, threads, n, cores, wj, wt int }{
		{0, 0, 4, 2, 2, 1}, {0, 0, 1, 8, 1, 1}, {0, 2, 10, 8, 4, 2}, {3, 0, 10, 8, 3, 2}, {4, 4, 10, 2, 4, 4},
	} {
		j, th := LocalOptions{Jobs: c.jobs, Threads: c.threads}.Plan(c.n, c.cores)
		if j != c.wj || th != c.wt {
			t.Errorf("Plan(jobs %d, threads %d, %d runs, %d cores) = %d, %d; want %d, %d", c.jobs, c.threads, c.n, c.cores, j, th, c.wj, c.wt)
		}
	}
}

func TestSlurmScript(t *testing.T) {
	p := writeSweep(t, "name: arr\nroot: ROOT\nbase:"+tinyBase+"axes:\n  - {field: seed, values: [1, 2, 3, 4, 5, 6]}\n")
	f, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Script(f, p, "/work dir", []int{0, 1, 2, 4, 5}, SlurmOptions{Throttle: 2, Partition: "gpu", Time: "01:00:00", GPUs: 1, CPUs: 4,
		Extra: []string{"--mem=8G"}, Workbench: "/usr/bin/workbench"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"#SBATCH --array=0-2,4-5%2\n", "#SBATCH --partition=gpu\n", "#SBATCH --time=01:00:00\n", "#SBATCH --gpus-per-task=1\n",
		"#SBATCH --cpus-per-task=4\n", "#SBATCH --mem=8G\n", "cd '/work dir' || exit 1\n", "export GOMAXPROCS=4\n",
		"exec /usr/bin/workbench sweep run -file " + p + ` -index "$SLURM_ARRAY_TASK_ID"`} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q:\n%s", want, s)
		}
	}
	if _, err := Script(f, p, "/w", []int{0}, SlurmOptions{Extra: []string{"--mem 8G; rm -rf /"}, Workbench: "w"}); err == nil || !strings.Contains(err.Error(), "--mem 8G") {
		t.Errorf("a bad sbatch option: got %v", err)
	}
	for in, want := range map[string][]int{"3": {3}, "[0-2,5%2]": {0, 1, 2, 5}, "[7]": {7}} {
		if got := expandTasks(in); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("expandTasks(%q) = %v, want %v", in, got, want)
		}
	}
	if got := compactRanges([]int{0, 1, 2, 4, 6, 7}); got != "0-2,4,6-7" {
		t.Errorf("compactRanges = %q", got)
	}
}

// TestK8sManifestDecodes decodes the manifest strictly with the Kubernetes API types.
func TestK8sManifestDecodes(t *testing.T) {
	p := writeSweep(t, "name: K8s_Sweep\nroot: ROOT\nbase:"+tinyBase+"axes:\n  - {field: seed, values: [1, 2, 3]}\n")
	f, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Manifest(f, "runs/sweeps/s.yaml", K8sOptions{Parallelism: 2, CPUs: 2, GPUs: 1, Memory: "4Gi"})
	if err != nil {
		t.Fatal(err)
	}
	var job batchv1.Job
	if err := k8syaml.UnmarshalStrict(b, &job); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	spec := job.Spec
	c := spec.Template.Spec.Containers[0]
	switch {
	case job.Kind != "Job" || job.APIVersion != "batch/v1" || job.Name != "attnbench-sweep-k8s-sweep":
		t.Errorf("kind %s, apiVersion %s, name %s", job.Kind, job.APIVersion, job.Name)
	case spec.CompletionMode == nil || *spec.CompletionMode != batchv1.IndexedCompletion || *spec.Completions != 3 || *spec.Parallelism != 2:
		t.Errorf("spec %+v", spec)
	case strings.Join(c.Command, " ") != "workbench sweep run -file runs/sweeps/s.yaml -index $(JOB_COMPLETION_INDEX)" || c.WorkingDir != WorkDir:
		t.Errorf("command %v in %s", c.Command, c.WorkingDir)
	case c.Resources.Limits.Name("nvidia.com/gpu", "").Value() != 1 || c.Resources.Requests.Cpu().Value() != 2 || c.VolumeMounts[0].MountPath != WorkDir+"/runs":
		t.Errorf("resources %+v, mounts %+v", c.Resources, c.VolumeMounts)
	case spec.Template.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "attnbench-runs" || spec.Template.Spec.RestartPolicy != "Never":
		t.Errorf("volumes %+v", spec.Template.Spec.Volumes)
	}
	if _, err := Manifest(f, "/abs/s.yaml", K8sOptions{}); err == nil || !strings.Contains(err.Error(), "relative") {
		t.Errorf("absolute file: %v", err)
	}
}

// TestPhaseFromLoadedSettings: settings as Load decodes them (json.Number) make a phase diagram,
// seeds pooled, unfinished runs left out.
func TestPhaseFromLoadedSettings(t *testing.T) {
	row := func(v, lr, l, state string) Row {
		return Row{State: state, Settings: []Setting{{"variant", v}, {"optim.lr", json.Number(lr)}, {"data.seq_len", json.Number(l)}, {"seed", json.Number("1")}}}
	}
	rows := []Row{row("prf", "0.01", "64", "diverged"), row("prf", "0.01", "64", "done"), row("prf", "0.1", "64", "diverged"),
		row("rpe", "0.01", "64", "done"), row("rpe", "0.01", "64", "running")}
	cells := Phase(rows, "optim.lr", "data.seq_len")
	if len(cells) != 3 || cells[0].Runs != 2 || cells[0].Diverged != 1 || cells[1].Diverged != 1 || cells[2].Runs != 1 || cells[2].Diverged != 0 {
		t.Fatalf("cells %+v", cells)
	}
	figs, err := PhaseFigures(&File{Name: "p"}, rows)
	if err != nil || len(figs) != 1 || figs[0].Name != "phase" {
		t.Fatalf("figures %v, %v", figs, err)
	}
	if figs, err := PhaseFigures(&File{Name: "p"}, []Row{{State: "done", Settings: []Setting{{"seed", json.Number("1")}}}}); err != nil || len(figs) != 0 {
		t.Fatalf("a sweep without the axes: %v, %v", figs, err)
	}
}

// A run that has only started (its directory holds sweep.log) is not started yet; a damaged
// status.json or eval.json is an error naming the file, never a silently dropped run.
func TestCollectWhileRunning(t *testing.T) {
	p := writeSweep(t, "name: c\nroot: ROOT\nbase:"+tinyBase+"axes:\n  - {field: seed, values: [1, 2, 3]}\n")
	f, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	runs, _ := f.Runs()
	for _, r := range runs {
		if err := os.MkdirAll(r.Dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(runs[0].Dir, "sweep.log"), []byte("backend go\n"), 0o644)
	rows, err := Collect(f)
	if err != nil || len(rows) != 3 || rows[0].State != "not started" {
		t.Fatalf("rows %+v, %v", rows, err)
	}
	os.WriteFile(filepath.Join(runs[1].Dir, "status.json"), []byte(`{"state": "do`), 0o644)
	if _, err := Collect(f); err == nil || !strings.Contains(err.Error(), filepath.Join(runs[1].Dir, "status.json")) {
		t.Fatalf("damaged status.json: %v", err)
	}
	os.WriteFile(filepath.Join(runs[1].Dir, "status.json"), []byte(`{"state": "done", "step": 6}`), 0o644)
	os.WriteFile(filepath.Join(runs[1].Dir, "eval.json"), []byte(`[{"len`), 0o644)
	if _, err := Collect(f); err == nil || !strings.Contains(err.Error(), filepath.Join(runs[1].Dir, "eval.json")) {
		t.Fatalf("damaged eval.json: %v", err)
	}
}
