package backend

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// SitePackagesEnvVar names extra Python site-packages directories (a colon-separated list) searched
// first for a pip-installed CUDA PJRT plugin.
const SitePackagesEnvVar = "ATTNBENCH_SITE_PACKAGES"

// PipCUDA is a CUDA PJRT plugin installed by pip (jax-cuda12-pjrt or jax-cuda13-pjrt) with the
// nvidia-* wheels in the same site-packages. go-xla expects another layout (the plugin as
// pjrt_c_api_cuda_plugin.so with nvidia/ beside it): Bridge makes this one loadable as it is.
type PipCUDA struct {
	Plugin       string   // site-packages/jax_plugins/xla_cudaNN/xla_cuda_plugin.so
	CUDA         int      // 12 or 13
	SitePackages string   // the directory holding jax_plugins/ and nvidia/
	DataDir      string   // XLA's --xla_gpu_cuda_data_dir: holds bin/ptxas (and nvvm/libdevice); "" if none
	LibDirs      []string // site-packages/nvidia/*/lib, the CUDA libraries the plugin loads
}

// String is a one-line description: plugin, CUDA major version, data and library directories.
func (p PipCUDA) String() string {
	data := p.DataDir
	if data == "" {
		data = "none (no bin/ptxas under nvidia/)"
	}
	return fmt.Sprintf("pip CUDA %d plugin %s; CUDA data dir %s; %d NVIDIA library dirs", p.CUDA, p.Plugin, data, len(p.LibDirs))
}

// XLAFlags returns existing XLA_FLAGS with --xla_gpu_cuda_data_dir set to the data directory,
// unless existing already names one (then it is kept as the user's choice).
func (p PipCUDA) XLAFlags(existing string) string {
	if p.DataDir == "" || strings.Contains(existing, "--xla_gpu_cuda_data_dir") {
		return existing
	}
	return strings.TrimSpace(existing + " --xla_gpu_cuda_data_dir=" + p.DataDir)
}

// pipPluginDirs are the jax_plugins sub-directories of the CUDA plugins, preferred first.
var pipPluginDirs = []struct {
	dir  string
	cuda int
}{{"xla_cuda13", 13}, {"xla_cuda12", 12}}

// FindPipCUDA returns the first pip CUDA plugin in dirs (CUDA 13 before 12 within a directory)
// of CUDA major version cuda, or of either when cuda is 0. The error lists the directories searched.
func FindPipCUDA(dirs []string, cuda int) (PipCUDA, error) {
	for _, sp := range dirs {
		for _, pd := range pipPluginDirs {
			if cuda != 0 && pd.cuda != cuda {
				continue
			}
			plugin := filepath.Join(sp, "jax_plugins", pd.dir, "xla_cuda_plugin.so")
			if isFile(plugin) {
				return PipCUDAAt(plugin)
			}
		}
	}
	return PipCUDA{}, fmt.Errorf("no pip CUDA PJRT plugin (jax_plugins/xla_cuda13 or xla_cuda12/xla_cuda_plugin.so) in %d site-packages directories searched: %s",
		len(dirs), strings.Join(dirs, ", "))
}

// PipCUDAAt describes the pip plugin at plugin, site-packages/jax_plugins/xla_cudaNN/xla_cuda_plugin.so.
func PipCUDAAt(plugin string) (PipCUDA, error) {
	plugin, err := filepath.Abs(plugin)
	if err != nil {
		return PipCUDA{}, err
	}
	if !isFile(plugin) {
		return PipCUDA{}, fmt.Errorf("CUDA PJRT plugin %s: not a file", plugin)
	}
	pdir := filepath.Dir(plugin)
	p := PipCUDA{Plugin: plugin, SitePackages: filepath.Dir(filepath.Dir(pdir))}
	for _, pd := range pipPluginDirs {
		if filepath.Base(pdir) == pd.dir {
			p.CUDA = pd.cuda
		}
	}
	if p.CUDA == 0 || filepath.Base(filepath.Dir(pdir)) != "jax_plugins" {
		return PipCUDA{}, fmt.Errorf("CUDA PJRT plugin %s: not in a pip layout (want site-packages/jax_plugins/xla_cuda13 or xla_cuda12/)", plugin)
	}
	nvidia := filepath.Join(p.SitePackages, "nvidia")
	entries, err := os.ReadDir(nvidia)
	if err != nil {
		return PipCUDA{}, fmt.Errorf("CUDA PJRT plugin %s: no nvidia-* wheels beside it (%v); install jax[cuda%d] or the nvidia-* wheels", plugin, err, p.CUDA)
	}
	// The data directory holds bin/ptxas; one that also holds nvvm/libdevice is preferred
	// (cu13/ for CUDA 13 wheels, cuda_nvcc/ for CUDA 12).
	score := 0
	for _, e := range entries {
		d := filepath.Join(nvidia, e.Name())
		if !isDir(d) {
			continue
		}
		if isDir(filepath.Join(d, "lib")) {
			p.LibDirs = append(p.LibDirs, filepath.Join(d, "lib"))
		}
		s := 0
		if isFile(filepath.Join(d, "bin", "ptxas")) {
			s = 1
			if isDir(filepath.Join(d, "nvvm", "libdevice")) {
				s = 2
			}
		}
		if s > score {
			score, p.DataDir = s, d
		}
	}
	if len(p.LibDirs) == 0 {
		return PipCUDA{}, fmt.Errorf("CUDA PJRT plugin %s: %s has no */lib directories; install the nvidia-* wheels of jax[cuda%d]", plugin, nvidia, p.CUDA)
	}
	return p, nil
}

// SitePackages lists the Python site-packages directories searched for a pip CUDA plugin, in
// order: $ATTNBENCH_SITE_PACKAGES, $VIRTUAL_ENV, $CONDA_PREFIX, the sys.path of python3 on $PATH
// and of /usr/bin/python3, then the usual per-user and system locations. Only existing
// directories are listed, each once.
func SitePackages() []string {
	var dirs []string
	add := func(ds ...string) {
		for _, d := range ds {
			if d = filepath.Clean(d); filepath.IsAbs(d) && isDir(d) && !slices.Contains(dirs, d) {
				dirs = append(dirs, d)
			}
		}
	}
	glob := func(pattern string) {
		m, _ := filepath.Glob(pattern)
		slices.Sort(m)
		slices.Reverse(m) // python3.12 before python3.11
		add(m...)
	}
	for _, d := range filepath.SplitList(os.Getenv(SitePackagesEnvVar)) {
		add(d)
	}
	for _, env := range []string{"VIRTUAL_ENV", "CONDA_PREFIX"} {
		if p := os.Getenv(env); p != "" {
			glob(filepath.Join(p, "lib", "python3*", "site-packages"))
		}
	}
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		add(pythonPath(py)...)
	}
	if home, err := os.UserHomeDir(); err == nil {
		glob(filepath.Join(home, ".local", "lib", "python3*", "site-packages"))
	}
	glob("/usr/local/lib/python3*/dist-packages")
	glob("/usr/local/lib/python3*/site-packages")
	glob("/opt/conda/lib/python3*/site-packages")
	add("/usr/lib/python3/dist-packages")
	return dirs
}

// pythonPath returns the sys.path entries of the given interpreter, or nil if it cannot run.
func pythonPath(py string) []string {
	path, err := exec.LookPath(py)
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "-c", `import sys; print("\n".join(p for p in sys.path if p))`).Output()
	if err != nil {
		return nil
	}
	return strings.Fields(string(out))
}

// Bridge prepares this process to load the pip plugin through go-xla: it sets XLA_FLAGS
// (--xla_gpu_cuda_data_dir), turns off go-xla's check for an nvidia/ directory beside the plugin
// (GOPJRT_CUDA_CHECKS=0, this layout has it two levels up, where the plugin's RPATH looks) and
// preloads the NVIDIA libraries with RTLD_GLOBAL, as jax does, so that the libraries the plugin
// opens by name later are found. It returns a one-line account of what it did.
func (p PipCUDA) Bridge() (string, error) {
	var notes []string
	if flags := p.XLAFlags(os.Getenv("XLA_FLAGS")); flags != os.Getenv("XLA_FLAGS") {
		if err := os.Setenv("XLA_FLAGS", flags); err != nil {
			return "", err
		}
		notes = append(notes, "XLA_FLAGS="+flags)
	}
	if _, ok := os.LookupEnv("GOPJRT_CUDA_CHECKS"); !ok {
		_ = os.Setenv("GOPJRT_CUDA_CHECKS", "0")
	}
	loaded, failed := preload(p.LibDirs)
	notes = append(notes, fmt.Sprintf("preloaded %d NVIDIA libraries", loaded))
	if len(failed) > 0 {
		notes = append(notes, fmt.Sprintf("%d did not load (first: %s)", len(failed), failed[0]))
	}
	return strings.Join(notes, "; "), nil
}

// preload dlopens every shared library in dirs with RTLD_GLOBAL, retrying the ones that fail
// until no more load (a library whose dependencies are not yet loaded fails the first time).
// It returns the number loaded and the errors of those that never did.
func preload(dirs []string) (loaded int, failed []string) {
	var todo []string
	for _, d := range dirs {
		m, _ := filepath.Glob(filepath.Join(d, "lib*.so*"))
		slices.Sort(m)
		todo = append(todo, m...)
	}
	for len(todo) > 0 {
		var next []string
		failed = failed[:0]
		for _, lib := range todo {
			if err := dlopenGlobal(lib); err != nil {
				next = append(next, lib)
				failed = append(failed, err.Error())
				continue
			}
			loaded++
		}
		if len(next) == len(todo) {
			break
		}
		todo = next
	}
	if len(todo) == 0 {
		failed = nil
	}
	return loaded, failed
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
