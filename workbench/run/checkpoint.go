package run

import (
	"errors"
	"slices"
	"strings"

	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/gomlx/gomlx/ml/model"
)

// A checkpoint exists once latest.json names it: GoMLX writes a checkpoint's .bin and .json in
// place, so files newer than the pointer (a save cut by a kill) are removed before loading.
// It also holds the divergence detector's recent losses, so a resumed run judges spikes exactly
// as the uninterrupted run would, and the variables that are not trained (random projections,
// generator states, optimizer state), which a checkpoint loader restores as trainable.
type pointer struct {
	Step   int       `json:"step"`
	Recent []float64 `json:"recent_losses,omitempty"`
	Frozen []string  `json:"frozen,omitempty"`
}

var ckptStep = regexp.MustCompile(`^checkpoint-.*-step-(\d+)\.(json|bin)$`)

func checkpointDir(dir string) string { return filepath.Join(dir, "checkpoints") }

func pointerPath(dir string) string { return filepath.Join(checkpointDir(dir), "latest.json") }

// checkpointFiles lists the checkpoint files of dir by step.
func checkpointFiles(dir string) (map[int][]string, error) {
	entries, err := os.ReadDir(checkpointDir(dir))
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("run: %w", err)
	}
	out := map[int][]string{}
	for _, e := range entries {
		if m := ckptStep.FindStringSubmatch(e.Name()); m != nil {
			step, _ := strconv.Atoi(m[1])
			out[step] = append(out[step], filepath.Join(checkpointDir(dir), e.Name()))
		}
	}
	return out, nil
}

// readPointer reads latest.json. A run directory gets one (step 0) before its first step, so a
// missing pointer beside checkpoints or metrics is damage: it is an error that says how to
// recover, and nothing is deleted. fresh reports a directory where no run has started.
func readPointer(dir string) (p pointer, fresh bool, err error) {
	path := pointerPath(dir)
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		files, ferr := checkpointFiles(dir)
		if ferr != nil {
			return p, false, ferr
		}
		_, merr := os.Stat(filepath.Join(dir, "metrics.jsonl"))
		if len(files) == 0 && os.IsNotExist(merr) {
			return pointer{}, true, nil
		}
		newest := 0
		for s := range files {
			newest = max(newest, s)
		}
		return p, false, fmt.Errorf("run: %s is missing but the run has checkpoints or metrics; nothing was deleted. "+
			"To resume from the newest checkpoint (step %d), write {\"step\": %d} to it; to start over, use a new directory", path, newest, newest)
	}
	if err != nil {
		return p, false, fmt.Errorf("run: %w", err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, false, fmt.Errorf("run: %s is damaged (%v); nothing was deleted. Restore it, or write {\"step\": N} with the step of a checkpoint in %s", path, err, checkpointDir(dir))
	}
	if p.Step < 0 {
		return p, false, fmt.Errorf("run: %s holds step %d, want >= 0; nothing was deleted. Write {\"step\": N} with the step of a checkpoint in %s", path, p.Step, checkpointDir(dir))
	}
	return p, false, nil
}

// prepareCheckpoints returns the pointer of the last complete checkpoint (step 0 when none)
// after removing every checkpoint file newer than it; in a new run directory it writes the
// step-0 pointer first.
func prepareCheckpoints(dir string) (pointer, error) {
	p, fresh, err := readPointer(dir)
	if err != nil {
		return p, err
	}
	if fresh {
		return p, savePointer(dir, p)
	}
	files, err := checkpointFiles(dir)
	if err != nil {
		return p, err
	}
	if p.Step > 0 && len(files[p.Step]) == 0 {
		return p, fmt.Errorf("run: %s names step %d, but %s has no checkpoint of that step; nothing was deleted", pointerPath(dir), p.Step, checkpointDir(dir))
	}
	for step, fs := range files {
		if step <= p.Step {
			continue
		}
		for _, f := range fs {
			if err := os.Remove(f); err != nil {
				return p, fmt.Errorf("run: removing unfinished checkpoint: %w", err)
			}
		}
	}
	return p, nil
}

func savePointer(dir string, p pointer) error {
	return writeJSONAtomic(pointerPath(dir), p)
}

// frozen lists the variables of store that are not trained.
func frozen(store *model.Store) []string {
	var out []string
	for v := range store.IterVariables() {
		if !v.Trainable {
			out = append(out, v.Path())
		}
	}
	slices.Sort(out)
	return out
}

// freeze marks the variables of paths as not trained again after a checkpoint is loaded.
func freeze(store *model.Store, paths []string) {
	for _, p := range paths {
		if v := store.GetVariable(p); v != nil {
			v.SetTrainable(false)
		}
	}
}

// damaged is the error of a checkpoint that does not load: it names the checkpoint's files and
// the previous kept checkpoint to fall back to by hand.
func damaged(dir string, step int, err error) error {
	files, ferr := checkpointFiles(dir)
	if ferr != nil {
		return ferr
	}
	prev := -1
	for s := range files {
		if s < step && s > prev {
			prev = s
		}
	}
	msg := fmt.Sprintf("run: the checkpoint of step %d (%s), named by %s, does not load: %v; nothing was deleted", step,
		strings.Join(files[step], ", "), pointerPath(dir), err)
	if prev >= 0 {
		msg += fmt.Sprintf(". The previous kept checkpoint is step %d (%s): to resume from it, move the damaged files away and write {\"step\": %d} to %s",
			prev, strings.Join(files[prev], ", "), prev, pointerPath(dir))
	}
	return errors.New(msg)
}
