package run

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
)

// A checkpoint exists once latest.json names it: GoMLX writes a checkpoint's .bin and .json in
// place, so files newer than the pointer (a save cut by a kill) are removed before loading.
// It also holds the divergence detector's recent losses, so a resumed run judges spikes exactly
// as the uninterrupted run would.
type pointer struct {
	Step   int       `json:"step"`
	Recent []float64 `json:"recent_losses,omitempty"`
}

var ckptStep = regexp.MustCompile(`^checkpoint-.*-step-(\d+)\.(json|bin)$`)

func checkpointDir(dir string) string { return filepath.Join(dir, "checkpoints") }

// prepareCheckpoints returns the pointer of the last complete checkpoint (step 0 when none)
// after removing every checkpoint file newer than it.
func prepareCheckpoints(dir string) (pointer, error) {
	cdir := checkpointDir(dir)
	p := pointer{Step: -1}
	if b, err := os.ReadFile(filepath.Join(cdir, "latest.json")); err == nil {
		if err := json.Unmarshal(b, &p); err != nil {
			return pointer{}, fmt.Errorf("run: %s is corrupt: %v", filepath.Join(cdir, "latest.json"), err)
		}
	}
	entries, err := os.ReadDir(cdir)
	if err != nil && !os.IsNotExist(err) {
		return pointer{}, fmt.Errorf("run: %w", err)
	}
	for _, e := range entries {
		m := ckptStep.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		step, _ := strconv.Atoi(m[1])
		if step > p.Step {
			if err := os.Remove(filepath.Join(cdir, e.Name())); err != nil {
				return pointer{}, fmt.Errorf("run: removing unfinished checkpoint: %w", err)
			}
		}
	}
	p.Step = max(p.Step, 0)
	return p, nil
}

func savePointer(dir string, p pointer) error {
	return writeJSONAtomic(filepath.Join(checkpointDir(dir), "latest.json"), p)
}
