package backend

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// fakeSite builds site-packages with a pip CUDA plugin of version cuda and the nvidia/ tree of
// its wheels: data holds bin/ptxas (and nvvm/libdevice when libdevice), the others only lib/.
func fakeSite(t *testing.T, cuda int, data string, libdevice bool, others ...string) string {
	t.Helper()
	sp := filepath.Join(t.TempDir(), "lib", "python3.12", "site-packages")
	write := func(p string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("not an ELF"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(sp, "jax_plugins", "xla_cuda"+strconv.Itoa(cuda), "xla_cuda_plugin.so"))
	write(filepath.Join(sp, "nvidia", data, "bin", "ptxas"))
	write(filepath.Join(sp, "nvidia", data, "lib", "libcudart.so."+strconv.Itoa(cuda)))
	if libdevice {
		write(filepath.Join(sp, "nvidia", data, "nvvm", "libdevice", "libdevice.10.bc"))
	}
	for _, o := range others {
		write(filepath.Join(sp, "nvidia", o, "lib", "lib"+o+".so.9"))
	}
	return sp
}

func TestFindPipCUDALayouts(t *testing.T) {
	empty := t.TempDir()
	cu13 := fakeSite(t, 13, "cu13", true, "cudnn", "nccl")
	cu12 := fakeSite(t, 12, "cuda_nvcc", true, "cuda_runtime", "cublas", "cudnn")
	for _, c := range []struct {
		name     string
		dirs     []string
		want     int
		cuda     int
		site     string
		dataBase string
		libs     int
	}{
		{"cuda13", []string{empty, cu13}, 0, 13, cu13, "cu13", 3},
		{"cuda12", []string{cu12}, 0, 12, cu12, "cuda_nvcc", 4},
		{"first directory wins", []string{cu12, cu13}, 0, 12, cu12, "cuda_nvcc", 4},
		{"asked for 13", []string{cu12, cu13}, 13, 13, cu13, "cu13", 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := FindPipCUDA(c.dirs, c.want)
			if err != nil {
				t.Fatal(err)
			}
			if p.CUDA != c.cuda || p.SitePackages != c.site || filepath.Base(p.DataDir) != c.dataBase || len(p.LibDirs) != c.libs {
				t.Fatalf("got %+v, want CUDA %d in %s, data dir .../%s, %d lib dirs", p, c.cuda, c.site, c.dataBase, c.libs)
			}
			if want := filepath.Join(c.site, "jax_plugins", "xla_cuda"+strconv.Itoa(c.cuda), "xla_cuda_plugin.so"); p.Plugin != want {
				t.Fatalf("plugin %s, want %s", p.Plugin, want)
			}
		})
	}
	if _, err := FindPipCUDA([]string{empty, cu12}, 13); err == nil || !strings.Contains(err.Error(), empty) {
		t.Fatalf("no CUDA 13 plugin: got %v, want an error naming the directories searched", err)
	}
}

func TestPipCUDADataDirPrefersLibdevice(t *testing.T) {
	// A wheel with ptxas alone (cu13 without nvvm) loses to one with ptxas and nvvm/libdevice.
	sp := fakeSite(t, 13, "cu13", false)
	full := filepath.Join(sp, "nvidia", "zz_nvcc")
	for _, p := range []string{"bin/ptxas", "nvvm/libdevice/libdevice.10.bc"} {
		os.MkdirAll(filepath.Dir(filepath.Join(full, p)), 0o755)
		os.WriteFile(filepath.Join(full, p), nil, 0o755)
	}
	p, err := FindPipCUDA([]string{sp}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if p.DataDir != full {
		t.Fatalf("data dir %s, want %s", p.DataDir, full)
	}
}

func TestPipCUDARefusesOtherLayouts(t *testing.T) {
	d := t.TempDir()
	loose := filepath.Join(d, "xla_cuda_plugin.so")
	os.WriteFile(loose, nil, 0o644)
	if _, err := PipCUDAAt(loose); err == nil || !strings.Contains(err.Error(), "pip layout") {
		t.Fatalf("plugin outside jax_plugins/: got %v", err)
	}
	noWheels := filepath.Join(d, "sp", "jax_plugins", "xla_cuda13", "xla_cuda_plugin.so")
	os.MkdirAll(filepath.Dir(noWheels), 0o755)
	os.WriteFile(noWheels, nil, 0o644)
	if _, err := PipCUDAAt(noWheels); err == nil || !strings.Contains(err.Error(), "nvidia") {
		t.Fatalf("no nvidia/ beside the plugin: got %v", err)
	}
}

func TestXLAFlags(t *testing.T) {
	p := PipCUDA{DataDir: "/sp/nvidia/cu13"}
	for _, c := range [][2]string{
		{"", "--xla_gpu_cuda_data_dir=/sp/nvidia/cu13"},
		{"--xla_gpu_autotune_level=0", "--xla_gpu_autotune_level=0 --xla_gpu_cuda_data_dir=/sp/nvidia/cu13"},
		{"--xla_gpu_cuda_data_dir=/mine", "--xla_gpu_cuda_data_dir=/mine"},
	} {
		if got := p.XLAFlags(c[0]); got != c[1] {
			t.Errorf("XLAFlags(%q) = %q, want %q", c[0], got, c[1])
		}
	}
	if got := (PipCUDA{}).XLAFlags("--x"); got != "--x" {
		t.Errorf("no data dir: XLAFlags = %q, want the flags unchanged", got)
	}
}

func TestSitePackagesOrder(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	venv := t.TempDir()
	vsp := filepath.Join(venv, "lib", "python3.12", "site-packages")
	os.MkdirAll(vsp, 0o755)
	t.Setenv(SitePackagesEnvVar, a+string(filepath.ListSeparator)+"/does/not/exist"+string(filepath.ListSeparator)+b+string(filepath.ListSeparator)+a)
	t.Setenv("VIRTUAL_ENV", venv)
	dirs := SitePackages()
	if len(dirs) < 3 || dirs[0] != a || dirs[1] != b || dirs[2] != vsp {
		t.Fatalf("site-packages %v, want %s, %s, %s first (missing and repeated ones dropped)", dirs, a, b, vsp)
	}
}

// TestPipPluginPathIsBridged asks for a pip plugin by its path: the configuration is resolved
// and bridged (XLA_FLAGS), and loading the fake plugin fails with an error, not a panic.
func TestPipPluginPathIsBridged(t *testing.T) {
	if !slices.Contains(Available(), "xla") {
		t.Skip("xla not compiled in")
	}
	sp := fakeSite(t, 13, "cu13", true, "cudnn")
	plugin := filepath.Join(sp, "jax_plugins", "xla_cuda13", "xla_cuda_plugin.so")
	t.Setenv("XLA_FLAGS", "")
	t.Setenv("GOPJRT_CUDA_CHECKS", "")
	os.Unsetenv("GOPJRT_CUDA_CHECKS")
	resolved, note, err := resolvePlugin("xla:" + plugin + ",preallocate=false")
	if err != nil {
		t.Fatal(err)
	}
	if resolved != "xla:"+plugin+",preallocate=false" {
		t.Fatalf("resolved %q", resolved)
	}
	if want := "--xla_gpu_cuda_data_dir=" + filepath.Join(sp, "nvidia", "cu13"); os.Getenv("XLA_FLAGS") != want || !strings.Contains(note, want) {
		t.Fatalf("XLA_FLAGS %q, note %q; want %q", os.Getenv("XLA_FLAGS"), note, want)
	}
	if os.Getenv("GOPJRT_CUDA_CHECKS") != "0" || !strings.Contains(note, "CUDA 13") {
		t.Fatalf("GOPJRT_CUDA_CHECKS %q, note %q", os.Getenv("GOPJRT_CUDA_CHECKS"), note)
	}
	t.Setenv(EnvVar, "xla:"+plugin)
	if _, err := New(); err == nil || !strings.Contains(err.Error(), plugin) {
		t.Fatalf("loading a fake plugin: got %v, want an error naming it", err)
	}
}

func TestCUDAWithoutGPUIsAnError(t *testing.T) {
	if !slices.Contains(Available(), "xla") || hasNvidiaGPU() {
		t.Skip("xla not compiled in, or a GPU is here")
	}
	t.Setenv(SitePackagesEnvVar, fakeSite(t, 13, "cu13", true))
	t.Setenv(EnvVar, "xla:cuda")
	if _, err := New(); err == nil || !strings.Contains(err.Error(), "no NVIDIA GPU") {
		t.Fatalf("xla:cuda without a GPU: got %v", err)
	}
}

// TestPreloadResolvesDependencies builds two shared libraries, libb depending on liba with no
// RPATH, in separate directories listed dependent first: the retry loads both.
func TestPreloadResolvesDependencies(t *testing.T) {
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler")
	}
	d := t.TempDir()
	da, db := filepath.Join(d, "a", "lib"), filepath.Join(d, "b", "lib")
	os.MkdirAll(da, 0o755)
	os.MkdirAll(db, 0o755)
	src := func(name, code string) string {
		p := filepath.Join(d, name)
		os.WriteFile(p, []byte(code), 0o644)
		return p
	}
	run := func(args ...string) {
		if out, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
			t.Skipf("cc %v: %v\n%s", args, err, out)
		}
	}
	run("-shared", "-fPIC", "-o", filepath.Join(da, "libattnbench_a.so.1"), "-Wl,-soname,libattnbench_a.so.1",
		src("a.c", "int attnbench_a(void) { return 41; }\n"))
	run("-shared", "-fPIC", "-o", filepath.Join(db, "libattnbench_b.so.1"), src("b.c", "int attnbench_a(void);\nint attnbench_b(void) { return attnbench_a() + 1; }\n"),
		"-L"+da, "-l:libattnbench_a.so.1")
	loaded, failed := preload([]string{db, da})
	if loaded != 2 || len(failed) != 0 {
		t.Fatalf("loaded %d, failed %v; want both", loaded, failed)
	}
	os.WriteFile(filepath.Join(db, "libbroken.so.1"), []byte("not an ELF"), 0o644)
	if loaded, failed := preload([]string{db}); loaded != 1 || len(failed) != 1 || !strings.Contains(failed[0], "libbroken") {
		t.Fatalf("with a broken library: loaded %d, failed %v", loaded, failed)
	}
}
