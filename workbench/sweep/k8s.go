package sweep

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"
)

// K8sOptions configure the Kubernetes Indexed Job of a sweep.
type K8sOptions struct {
	Image       string // default attnbench/workbench:dev (compose.yaml's image)
	Claim       string // PersistentVolumeClaim mounted as the repository's runs/; default attnbench-runs
	Parallelism int    // pods at once; default 4
	Namespace   string // "" = the context's
	CPUs        int    // cpu request per pod and its GOMAXPROCS; default 1
	Memory      string // memory request, e.g. 4Gi; "" = none
	GPUs        int    // nvidia.com/gpu limit per pod; 0 = none
}

// WorkDir is the repository checkout in the workbench image.
const WorkDir = "/home/workbench/attnbench"

var dnsLabelRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// Manifest returns the YAML of a batch/v1 Job with completionMode Indexed: one completion per
// run of the sweep, each pod running `workbench sweep run -file FILE -index $JOB_COMPLETION_INDEX`
// in the workbench image with the claim mounted as runs/, so finished runs are skipped and
// interrupted ones resume when a pod is retried or the Job is created again. file is the sweep
// file's path relative to the repository root (it must be in the image or under runs/).
func Manifest(f *File, file string, o K8sOptions) ([]byte, error) {
	runs, err := f.Runs()
	if err != nil {
		return nil, err
	}
	if o.Image == "" {
		o.Image = "attnbench/workbench:dev"
	}
	if o.Claim == "" {
		o.Claim = "attnbench-runs"
	}
	if o.Parallelism == 0 {
		o.Parallelism = 4
	}
	if o.CPUs == 0 {
		o.CPUs = 1
	}
	switch {
	case filepath.IsAbs(file) || strings.HasPrefix(filepath.Clean(file), ".."):
		return nil, fmt.Errorf("sweep file %q: want a path relative to the repository root (the pod's working directory %s)", file, WorkDir)
	case o.Parallelism < 1 || o.CPUs < 1 || o.GPUs < 0:
		return nil, fmt.Errorf("parallelism %d and cpus %d must be >= 1, gpus %d >= 0", o.Parallelism, o.CPUs, o.GPUs)
	case !dnsLabelRE.MatchString(o.Claim):
		return nil, fmt.Errorf("claim %q is not a Kubernetes name (lower-case letters, digits and '-')", o.Claim)
	}
	name := "attnbench-sweep-" + strings.Trim(regexp.MustCompile(`[^a-z0-9-]+`).ReplaceAllString(strings.ToLower(f.Name), "-"), "-")
	if len(name) > 63 {
		name = strings.TrimRight(name[:63], "-")
	}
	requests := map[string]any{"cpu": fmt.Sprint(o.CPUs)}
	if o.Memory != "" {
		requests["memory"] = o.Memory
	}
	resources := map[string]any{"requests": requests}
	if o.GPUs > 0 {
		resources["limits"] = map[string]any{"nvidia.com/gpu": fmt.Sprint(o.GPUs)}
	}
	meta := map[string]any{"name": name, "labels": map[string]any{"app.kubernetes.io/name": "attnbench", "attnbench/sweep": name}}
	if o.Namespace != "" {
		meta["namespace"] = o.Namespace
	}
	job := map[string]any{
		"apiVersion": "batch/v1",
		"kind":       "Job",
		"metadata":   meta,
		"spec": map[string]any{
			"completionMode":       "Indexed",
			"completions":          len(runs),
			"parallelism":          min(o.Parallelism, len(runs)),
			"backoffLimitPerIndex": 2,
			"maxFailedIndexes":     len(runs),
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]any{"attnbench/sweep": name}},
				"spec": map[string]any{
					"restartPolicy": "Never",
					"containers": []any{map[string]any{
						"name":         "run",
						"image":        o.Image,
						"workingDir":   WorkDir,
						"command":      []any{"workbench", "sweep", "run", "-file", filepath.ToSlash(file), "-index", "$(JOB_COMPLETION_INDEX)"},
						"env":          []any{map[string]any{"name": "GOMAXPROCS", "value": fmt.Sprint(o.CPUs)}},
						"resources":    resources,
						"volumeMounts": []any{map[string]any{"name": "runs", "mountPath": WorkDir + "/runs"}},
					}},
					"volumes": []any{map[string]any{"name": "runs", "persistentVolumeClaim": map[string]any{"claimName": o.Claim}}},
				},
			},
		},
	}
	b, err := json.Marshal(job)
	if err != nil {
		return nil, err
	}
	return yaml.JSONToYAML(b)
}
