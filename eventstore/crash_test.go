package eventstore_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
	"github.com/dealreg/dealreg/eventstore/storetest"
	"github.com/stretchr/testify/require"
)

// crashChildEnv, when set to a ledger path, turns the test binary into the
// crash test's child: it appends under load and reports every acknowledged
// append on stdout until it is killed.
const crashChildEnv = "DEALREG_CRASH_CHILD_LEDGER"

// eventsPerAppend is how many events each of the child's appends carries, so
// the parent can see that no append is ever half there.
const eventsPerAppend = 3

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		os.Exit(crashChild(path))
	}
	if path := os.Getenv(appendChildEnv); path != "" {
		os.Exit(appendChild(path))
	}
	code := m.Run()
	if readAllFixture.path != "" {
		os.RemoveAll(filepath.Dir(readAllFixture.path))
	}
	os.Exit(code)
}

func crashChild(path string) int {
	s, err := eventstore.OpenSQLite(path, eventstore.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		return 1
	}
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	fmt.Fprintln(out, "ready")
	out.Flush()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				stream := fmt.Sprintf("crash-%d-%d", w, i)
				batch := make([]domain.EventData, eventsPerAppend)
				for j := range batch {
					batch[j] = storetest.Event("Crash", j)
				}
				res, err := s.Append(context.Background(), stream, domain.NoStream(), batch...)
				if err != nil {
					fmt.Fprintln(os.Stderr, "child append:", err)
					os.Exit(1)
				}
				// Acknowledge only after Append returned: the event is durable.
				mu.Lock()
				fmt.Fprintf(out, "ack %s %d %s\n", stream, res.Position, batch[0].ID)
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return 0
}

type ack struct {
	stream  string
	pos     uint64
	firstID string
}

// TestSQLite_CrashSafety kills a process appending under load with SIGKILL at
// a random moment, then checks that every acknowledged append survived, that
// no append is half there, and that the ledger verifies and accepts writes.
func TestSQLite_CrashSafety(t *testing.T) {
	for round := range 5 {
		t.Run(fmt.Sprintf("Round%d", round), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ledger.db")
			acks := runAndKill(t, path, time.Duration(50+rand.IntN(400))*time.Millisecond)
			require.NotEmpty(t, acks, "the child acknowledged nothing before it was killed")

			s := MustOpenPath(t, path)
			ctx := context.Background()
			for _, a := range acks {
				got, err := s.ReadStream(ctx, a.stream, domain.ReadStreamOptions{})
				require.NoError(t, err, "acknowledged append to %s lost", a.stream)
				require.Len(t, got, eventsPerAppend)
				require.Equal(t, a.pos, got[eventsPerAppend-1].Position)
				require.Equal(t, a.firstID, got[0].ID.String())
			}
			all, err := s.ReadAll(ctx, domain.ReadAllOptions{})
			require.NoError(t, err)
			perStream := map[string]int{}
			for i, e := range all {
				require.Equal(t, uint64(i), e.Position)
				perStream[e.Stream]++
			}
			for stream, n := range perStream {
				require.Equal(t, eventsPerAppend, n, "append to %s is half there", stream)
			}
			head, err := s.Verify(ctx)
			require.NoError(t, err)
			require.Equal(t, uint64(len(all)), head.Size)
			t.Logf("killed after %d acknowledged appends; %d events on disk", len(acks), len(all))

			_, err = s.Append(ctx, "after-crash", domain.NoStream(), storetest.Event("E", 0))
			require.NoError(t, err)
		})
	}
}

func runAndKill(t *testing.T, path string, after time.Duration) []ack {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	var acks []ack
	ready := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 1 && f[0] == "ready" {
				close(ready)
				continue
			}
			if len(f) != 4 || f[0] != "ack" || len(f[3]) != 36 {
				continue // a line cut short by the kill
			}
			pos, err := strconv.ParseUint(f[2], 10, 64)
			if err != nil {
				continue
			}
			acks = append(acks, ack{stream: f[1], pos: pos, firstID: f[3]})
		}
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("child did not start")
	}
	time.Sleep(after)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	<-done
	cmd.Wait()
	return acks
}
