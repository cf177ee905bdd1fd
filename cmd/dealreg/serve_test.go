package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// serveProcess is `dealreg serve` running as a real process.
type serveProcess struct {
	cmd    *exec.Cmd
	addr   string
	stderr *lockedBuffer
	exited chan struct{}
	err    error // the exit status, once exited is closed
}

// startServe starts the test binary as `dealreg serve --data dir`, with
// the extra flags given.
func startServe(t *testing.T, dir string, extra ...string) *serveProcess {
	t.Helper()
	p := &serveProcess{addr: freeAddr(t), stderr: &lockedBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], append([]string{"serve", "--data", dir, "--addr", p.addr}, extra...)...)
	p.cmd.Env = append(os.Environ(), mainEnv+"=1")
	p.cmd.Stderr = p.stderr
	require.NoError(t, p.cmd.Start())
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// healthy reports whether the server is ready (/readyz): its views have
// caught up, so the API answers.
func (p *serveProcess) healthy() bool {
	res, err := http.Get("http://" + p.addr + "/readyz")
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// waitHealthy waits until the server answers, failing if it exits first.
func (p *serveProcess) waitHealthy(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !p.healthy(); time.Sleep(20 * time.Millisecond) {
		select {
		case <-p.exited:
			t.Fatalf("serve exited (%v): %s", p.err, p.stderr.String())
		default:
		}
		require.True(t, time.Now().Before(deadline), "server did not come up: %s", p.stderr.String())
	}
}

// TestServe_OneServerPerDataDirectory starts a second serve on the data
// directory of a running one: it refuses to start and says why, while the
// console commands keep working. Once the first is killed with SIGKILL
// (no chance to clean up) a new serve starts on the directory.
func TestServe_OneServerPerDataDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	first := startServe(t, dir)
	first.waitHealthy(t)

	second := startServe(t, dir)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		require.False(t, second.healthy(), "a second serve runs on the same data directory")
		done := false
		select {
		case <-second.exited:
			done = true
		default:
		}
		if done {
			break
		}
		require.True(t, time.Now().Before(deadline), "second serve neither started nor exited: %s", second.stderr.String())
	}
	var exit *exec.ExitError
	require.ErrorAs(t, second.err, &exit, "the second serve fails: %s", second.stderr.String())
	require.Equal(t, 2, exit.ExitCode())
	require.Contains(t, second.stderr.String(), "is already serving the data directory "+dir)
	require.Contains(t, second.stderr.String(), fmt.Sprintf("process %d", first.cmd.Process.Pid))
	require.True(t, first.healthy(), "the first serve keeps serving")

	// The console commands write while serve runs, and a token they
	// create works on the running server at once.
	code, out, errOut := runCLI(t, "", "token", "create", "--data", dir, "--role", "admin", "--name", "ops")
	require.Equal(t, 0, code, errOut)
	admin := strings.TrimSpace(out)
	require.Equal(t, http.StatusOK, getPartners(t, first.addr, admin), "a token from token create, first request")
	code, _, errOut = runCLI(t, "", "partner", "add", "--data", dir, "--id", "acme", "--name", "Acme Integradores")
	require.Equal(t, 0, code, errOut)

	require.NoError(t, first.cmd.Process.Signal(syscall.SIGKILL))
	<-first.exited

	third := startServe(t, dir)
	third.waitHealthy(t)
	require.Equal(t, http.StatusOK, getPartners(t, third.addr, admin), "the token created meanwhile works")
}

// getPartners lists the partners at addr with token and returns the status.
func getPartners(t *testing.T, addr, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/partners", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	return res.StatusCode
}

// TestServe_TokenCreatedWhileServing creates tokens with the console
// command, a real second process, while serve runs, and uses each at once.
func TestServe_TokenCreatedWhileServing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	srv := startServe(t, dir)
	srv.waitHealthy(t)
	for i := range 3 {
		cmd := exec.Command(os.Args[0], "token", "create", "--data", dir, "--role", "auditor", "--name", fmt.Sprintf("auditor-%d", i))
		cmd.Env = append(os.Environ(), mainEnv+"=1")
		out, err := cmd.Output()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, getPartners(t, srv.addr, strings.TrimSpace(string(out))), "token %d, first request", i)
	}
}

// TestServe_DebugAddr serves Go's profiles on their own address only:
// the API's address does not answer them.
func TestServe_DebugAddr(t *testing.T) {
	debug := freeAddr(t)
	srv := startServe(t, t.TempDir(), "--debug-addr", debug)
	srv.waitHealthy(t)
	res, err := http.Get("http://" + debug + "/debug/pprof/goroutine?debug=1")
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, string(body), "goroutine profile")

	res, err = http.Get("http://" + srv.addr + "/debug/pprof/")
	require.NoError(t, err)
	res.Body.Close()
	require.NotEqual(t, http.StatusOK, res.StatusCode, "the API does not serve profiles")
}
