package main

import (
	"debug/elf"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMakeBuildIsStatic builds the binary the way the README says (make
// build) and checks that it needs no dynamic loader, so it runs on any
// Linux machine without a matching libc.
func TestMakeBuildIsStatic(t *testing.T) {
	if testing.Short() || runtime.GOOS != "linux" {
		t.Skip("builds the binary; Linux only")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed")
	}
	bin := filepath.Join(t.TempDir(), "dealreg")
	cmd := exec.Command("make", "-s", "build", "BIN="+bin, "GO="+goTool(t))
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	f, err := elf.Open(bin)
	require.NoError(t, err)
	defer f.Close()
	for _, p := range f.Progs {
		require.NotEqual(t, elf.PT_INTERP, p.Type, "make build made a dynamically linked binary")
	}
	require.Nil(t, f.Section(".dynamic"), "make build made a dynamically linked binary")
}

// TestRepositoryHoldsNoBuildOutput fails when a compiled test binary or the
// built binary is tracked by git.
func TestRepositoryHoldsNoBuildOutput(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	cmd := exec.Command("git", "ls-files")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Skip("not a git work tree")
	}
	for _, name := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		require.False(t, strings.HasSuffix(name, ".test") || strings.HasPrefix(name, "bin/"), "build output is committed: %s", name)
	}
}

// goTool returns the go command the tests run under.
func goTool(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skip("go command not on PATH")
	}
	return filepath.Join(strings.TrimSpace(string(out)), "bin", "go")
}
