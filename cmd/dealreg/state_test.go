package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// server is a real `dealreg serve` process of the test binary.
type serverProc struct {
	cmd    *exec.Cmd
	addr   string
	stderr *lockedBuffer
}

func startServer(t *testing.T, dir string, args ...string) *serverProc {
	t.Helper()
	s := &serverProc{addr: freeAddr(t), stderr: &lockedBuffer{}}
	s.cmd = exec.Command(os.Args[0], append([]string{"serve", "--data", dir, "--addr", s.addr}, args...)...)
	s.cmd.Env = append(os.Environ(), mainEnv+"=1")
	s.cmd.Stderr = s.stderr
	require.NoError(t, s.cmd.Start())
	t.Cleanup(func() { s.cmd.Process.Kill(); s.cmd.Wait() })
	return s
}

// readiness returns /readyz's status code and body, or 0 while nothing
// listens.
func (s *serverProc) readiness() (int, map[string]any) {
	res, err := http.Get("http://" + s.addr + "/readyz")
	if err != nil {
		return 0, nil
	}
	defer res.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	return res.StatusCode, body
}

func (s *serverProc) waitReady(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if code, _ := s.readiness(); code == http.StatusOK {
			return
		}
	}
	t.Fatalf("server never became ready: %s", s.stderr.String())
}

func (s *serverProc) get(t *testing.T, token, path string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+s.addr+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s: %s", path, b)
	return string(b)
}

// answers is what an auditor reads from the server: every registration
// (paged), each detail with history, the review queue, the conflicts, the
// partners and the direct pipeline.
func (s *serverProc) answers(t *testing.T, token string) map[string]string {
	t.Helper()
	out := map[string]string{}
	next := ""
	for page := 0; ; page++ {
		body := s.get(t, token, "/v1/registrations?limit=100"+next)
		out[fmt.Sprint("registrations page ", page)] = body
		var list struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			Next string `json:"next"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &list))
		for _, it := range list.Items {
			out["registration "+it.ID] = s.get(t, token, "/v1/registrations/"+it.ID)
		}
		if list.Next == "" {
			break
		}
		next = "&cursor=" + list.Next
	}
	for _, p := range []string{"/v1/review-queue", "/v1/conflicts", "/v1/conflicts?status=decided", "/v1/partners", "/v1/direct-opportunities"} {
		out[p] = s.get(t, token, p)
	}
	return out
}

var secretRe = regexp.MustCompile(`(?m)^(\S+)\s*$`)

// TestServe_KilledMidCatchUp kills serve with SIGKILL while it catches up
// on a generated ledger; the restarted server resumes from what was
// committed and answers exactly what a server rebuilding from scratch
// answers, and neither appends anything.
func TestServe_KilledMidCatchUp(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a ledger and runs servers")
	}
	dir := filepath.Join(t.TempDir(), "data")
	code, _, errOut := runCLI(t, "", "generate", "--data", dir, "--events", "2500", "--seed", "3")
	require.Equal(t, 0, code, errOut)
	code, out, errOut := runCLI(t, "", "token", "create", "--data", dir, "--role", "auditor", "--name", "audit")
	require.Equal(t, 0, code, errOut)
	m := secretRe.FindStringSubmatch(out)
	require.NotNil(t, m, "token in %q", out)
	token := m[1]
	head := ledgerHead(t, dir)

	// A copy without any state, rebuilt from scratch later.
	fresh := filepath.Join(t.TempDir(), "fresh")
	require.NoError(t, os.MkdirAll(fresh, 0o700))
	b, err := os.ReadFile(ledgerPath(dir))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(ledgerPath(fresh), b, 0o600))

	// Small batches, so that catching up commits many times.
	s := startServer(t, dir, "--catch-up-batch", "20")
	killed := false
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		code, body := s.readiness()
		if code == http.StatusServiceUnavailable && body["applied"].(float64) > 0 {
			require.NoError(t, s.cmd.Process.Signal(syscall.SIGKILL))
			_ = s.cmd.Wait()
			killed = true
			break
		}
		require.NotEqual(t, http.StatusOK, code, "caught up before it could be killed")
	}
	require.True(t, killed)
	st, err := os.Stat(statePath(dir))
	require.NoError(t, err, "the state database was being written")
	require.NotZero(t, st.Size())

	again := startServer(t, dir)
	again.waitReady(t)
	resumed := again.answers(t, token)
	require.NoError(t, again.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, again.cmd.Wait())

	rebuilt := startServer(t, fresh)
	rebuilt.waitReady(t)
	want := rebuilt.answers(t, token)
	require.NoError(t, rebuilt.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, rebuilt.cmd.Wait())

	require.Equal(t, len(want), len(resumed))
	for k, v := range want {
		require.Equal(t, v, resumed[k], k)
	}
	require.Equal(t, head, ledgerHead(t, dir), "restarting appended nothing")
	require.Equal(t, head, ledgerHead(t, fresh), "rebuilding appended nothing")
	code, _, errOut = runCLI(t, "", "verify", "--data", dir)
	require.Equal(t, 0, code, errOut)
}

func ledgerHead(t *testing.T, dir string) uint64 {
	t.Helper()
	store, err := openExisting(dir)
	require.NoError(t, err)
	defer store.Close()
	return store.Head()
}
