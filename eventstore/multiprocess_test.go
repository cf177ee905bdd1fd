package eventstore_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
	"github.com/dealreg/dealreg/eventstore/storetest"
	"github.com/stretchr/testify/require"
)

// Several handles on one ledger file, in one process or in several (an
// admin command appending while the server runs), must behave as one store:
// contiguous positions, expected revisions checked against every handle's
// appends, recorded time never decreasing, one Merkle tree, and every
// handle's subscriptions fed by every handle's appends.

// requireConsistentLedger checks the whole ledger through s and returns it.
func requireConsistentLedger(t *testing.T, s *eventstore.SQLite) []domain.RecordedEvent {
	t.Helper()
	ctx := context.Background()
	all, err := s.ReadAll(ctx, domain.ReadAllOptions{})
	require.NoError(t, err)
	revisions := map[string]uint64{}
	seen := map[string]bool{}
	var last time.Time
	for i, e := range all {
		require.Equal(t, uint64(i), e.Position, "positions must be contiguous")
		require.Equal(t, revisions[e.Stream], e.Revision, "revision of %s at position %d", e.Stream, e.Position)
		revisions[e.Stream]++
		require.False(t, seen[e.ID.String()], "event %s stored twice", e.ID)
		seen[e.ID.String()] = true
		require.False(t, e.RecordedAt.Before(last), "recorded time decreases at position %d", e.Position)
		last = e.RecordedAt
	}
	head, err := s.Verify(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(len(all)), head.Size)
	return all
}

func TestSQLite_TwoHandlesAlternating(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	// B's clock is an hour behind A's: B must still never record a time
	// earlier than A's last event.
	clockA, clockB := domain.NewManualClock(t0.Add(time.Hour)), domain.NewManualClock(t0)
	a := MustOpenPath(t, path, eventstore.Options{Clock: clockA})
	b := MustOpenPath(t, path, eventstore.Options{Clock: clockB})
	ctx := context.Background()

	res, err := a.Append(ctx, "shared", domain.NoStream(), storetest.Event("E", 0))
	require.NoError(t, err)
	require.Equal(t, domain.AppendResult{NextExpectedRevision: 0, Position: 0}, res)

	res, err = b.Append(ctx, "shared", domain.Exact(0), storetest.Event("E", 1))
	require.NoError(t, err)
	require.Equal(t, domain.AppendResult{NextExpectedRevision: 1, Position: 1}, res)

	// A cached revision 0 of "shared" from its own append: stale now.
	_, err = a.Append(ctx, "shared", domain.Exact(0), storetest.Event("E", 2))
	var wrong *domain.WrongExpectedRevisionError
	require.ErrorAs(t, err, &wrong)
	require.True(t, wrong.ActualExists)
	require.Equal(t, uint64(1), wrong.Actual)
	_, err = a.Append(ctx, "shared", domain.NoStream(), storetest.Event("E", 2))
	require.ErrorAs(t, err, &wrong)

	res, err = a.Append(ctx, "shared", domain.Exact(1), storetest.Event("E", 2))
	require.NoError(t, err)
	require.Equal(t, domain.AppendResult{NextExpectedRevision: 2, Position: 2}, res)

	_, err = b.Append(ctx, "shared", domain.Exact(1), storetest.Event("E", 3))
	require.ErrorAs(t, err, &wrong)
	require.Equal(t, uint64(2), wrong.Actual)

	// A retry through the other handle is recognised as a retry; the same
	// ID in another stream is a conflict.
	e := storetest.Event("E", 4)
	first, err := a.Append(ctx, "retried", domain.NoStream(), e)
	require.NoError(t, err)
	again, err := b.Append(ctx, "retried", domain.NoStream(), e)
	require.NoError(t, err)
	require.Equal(t, first, again)
	_, err = b.Append(ctx, "elsewhere", domain.Any(), e)
	require.ErrorIs(t, err, domain.ErrDuplicateEventID)

	// Alternate handles, several events per append, same and own streams.
	next := uint64(4)
	handles := []*eventstore.SQLite{a, b}
	for i := range 40 {
		h := handles[i%2]
		clockA.Advance(time.Millisecond)
		clockB.Advance(time.Millisecond)
		stream := fmt.Sprintf("own-%d", i%2)
		if i%3 == 0 {
			stream = "shared"
		}
		n := 1 + i%3
		batch := make([]domain.EventData, n)
		for j := range batch {
			batch[j] = storetest.Event("E", i)
		}
		res, err := h.Append(ctx, stream, domain.Any(), batch...)
		require.NoError(t, err, "append %d", i)
		next += uint64(n)
		require.Equal(t, next-1, res.Position, "append %d", i)
	}

	all := requireConsistentLedger(t, a)
	require.Len(t, all, int(next))
	require.Equal(t, all, requireConsistentLedger(t, b))
	for _, e := range all[1:] {
		require.False(t, e.RecordedAt.Before(t0.Add(time.Hour)), "B recorded a time before A's event")
	}
	for _, h := range handles {
		require.Eventually(t, func() bool { return h.Head() == next }, 5*time.Second, 5*time.Millisecond)
	}
	ha, err := a.TreeHead(ctx)
	require.NoError(t, err)
	hb, err := b.TreeHead(ctx)
	require.NoError(t, err)
	require.Equal(t, ha, hb)
}

func TestSQLite_TwoHandlesConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	a := MustOpenPath(t, path)
	b := MustOpenPath(t, path)
	handles := []*eventstore.SQLite{a, b}
	ctx := context.Background()
	const workers, appends = 6, 40
	var wg sync.WaitGroup
	var mu sync.Mutex
	appended := 0
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := fmt.Sprintf("own-%d", w)
			expected := domain.NoStream()
			for i := range appends {
				// Each worker's own stream is written through both
				// handles in turn, with exact expected revisions.
				h := handles[(w+i)%2]
				res, err := h.Append(ctx, own, expected, storetest.Event("E", i), storetest.Event("E", i))
				if !assertNoError(t, err, "worker %d append %d", w, i) {
					return
				}
				expected = domain.Exact(res.NextExpectedRevision)
				_, err = handles[(w+i+1)%2].Append(ctx, "shared", domain.Any(), storetest.Event("S", i))
				if !assertNoError(t, err, "worker %d shared %d", w, i) {
					return
				}
				mu.Lock()
				appended += 3
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	all := requireConsistentLedger(t, a)
	require.Len(t, all, appended)
	require.Equal(t, workers*appends*3, appended)
	requireConsistentLedger(t, b)
	// A third, fresh handle agrees and can go on.
	c := MustOpenPath(t, path)
	_, err := c.Append(ctx, "shared", domain.StreamExists(), storetest.Event("S", 0))
	require.NoError(t, err)
	require.Len(t, requireConsistentLedger(t, a), appended+1)
}

func assertNoError(t *testing.T, err error, msg string, args ...any) bool {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", fmt.Sprintf(msg, args...), err)
		return false
	}
	return true
}

// TestSQLite_SubscriptionSeesOtherHandle: a live subscription and Head of
// one handle follow appends made through another, with no local append.
func TestSQLite_SubscriptionSeesOtherHandle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	a := MustOpenPath(t, path)
	b := MustOpenPath(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sub, err := a.SubscribeAll(ctx, 0)
	require.NoError(t, err)
	defer sub.Close()

	for round := range 3 {
		start := time.Now()
		_, err := b.Append(ctx, "other", domain.Any(), storetest.Event("E", round), storetest.Event("E", round))
		require.NoError(t, err)
		for i := range 2 {
			e, err := sub.Next(ctx)
			require.NoError(t, err)
			require.Equal(t, uint64(2*round+i), e.Position)
		}
		require.Equal(t, uint64(2*round+2), a.Head())
		// The writer polls every 200 ms; allow for a loaded machine.
		lag := time.Since(start)
		t.Logf("round %d: seen through the other handle after %v", round, lag)
		require.Less(t, lag, 2*time.Second)
	}
}

// appendChildEnv, when set to a ledger path, turns the test binary into a
// second process that appends appendChildAppends events and exits, like an
// admin command run while the server is up.
const (
	appendChildEnv     = "DEALREG_APPEND_CHILD_LEDGER"
	appendChildAppends = 60
)

func appendChild(path string) int {
	s, err := eventstore.OpenSQLite(path, eventstore.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		return 1
	}
	defer s.Close()
	ctx := context.Background()
	expected := domain.NoStream()
	for i := range appendChildAppends {
		res, err := s.Append(ctx, "child", expected, storetest.Event("Child", i))
		if err != nil {
			fmt.Fprintln(os.Stderr, "child append:", err)
			return 1
		}
		expected = domain.Exact(res.NextExpectedRevision)
		if _, err := s.Append(ctx, "shared", domain.Any(), storetest.Event("Child", i)); err != nil {
			fmt.Fprintln(os.Stderr, "child append:", err)
			return 1
		}
	}
	if err := s.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "child close:", err)
		return 1
	}
	return 0
}

// TestSQLite_SecondProcess runs a second process appending to the ledger
// while this one appends and subscribes.
func TestSQLite_SecondProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	s := MustOpenPath(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sub, err := s.SubscribeAll(ctx, 0)
	require.NoError(t, err)
	defer sub.Close()

	stop := make(chan struct{})
	parentDone := make(chan int)
	go func() {
		n := 0
		defer func() { parentDone <- n }()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			stream := "parent"
			if i%2 == 1 {
				stream = "shared"
			}
			if _, err := s.Append(ctx, stream, domain.Any(), storetest.Event("Parent", i)); err != nil {
				t.Errorf("parent append: %v", err)
				return
			}
			n++
			time.Sleep(time.Millisecond)
		}
	}()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), appendChildEnv+"="+path)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "child: %s", out)
	close(stop)
	parent := <-parentDone

	// The child's events reach this process's subscription, with no gap.
	want := uint64(parent + 2*appendChildAppends)
	childSeen := 0
	for pos := uint64(0); pos < want; pos++ {
		e, err := sub.Next(ctx)
		require.NoError(t, err)
		require.Equal(t, pos, e.Position)
		if e.Type == "Child" {
			childSeen++
		}
	}
	require.Equal(t, 2*appendChildAppends, childSeen)
	require.Equal(t, want, s.Head())

	all := requireConsistentLedger(t, s)
	require.Len(t, all, int(want))
	child, err := s.ReadStream(ctx, "child", domain.ReadStreamOptions{})
	require.NoError(t, err)
	require.Len(t, child, appendChildAppends)
	t.Logf("parent appended %d events, child %d", parent, 2*appendChildAppends)

	// And this process goes on appending after the child is gone.
	res, err := s.Append(ctx, "shared", domain.StreamExists(), storetest.Event("Parent", -1))
	require.NoError(t, err)
	require.Equal(t, want, res.Position)
}

// TestSQLite_Refresh appends through one handle and refreshes the other: its
// head shows the append at once, not at the next poll, with several callers
// sharing the looks.
func TestSQLite_Refresh(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	a := MustOpenPath(t, path, eventstore.Options{})
	b := MustOpenPath(t, path, eventstore.Options{})
	ctx := context.Background()

	t.Run("OneCaller", func(t *testing.T) {
		for i := range 50 {
			_, err := b.Append(ctx, "other-process", domain.Any(), storetest.Event("E", i))
			require.NoError(t, err)
			require.NoError(t, a.Refresh(ctx))
			require.Equal(t, b.Head(), a.Head(), "append %d", i)
		}
	})
	t.Run("ConcurrentCallers", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 25 {
					want := b.Head() // committed before the call
					if err := a.Refresh(ctx); err != nil {
						errs <- err
						return
					}
					if got := a.Head(); got < want {
						errs <- fmt.Errorf("head %d after refresh, want at least %d", got, want)
						return
					}
				}
			}()
		}
		for i := range 100 {
			_, err := b.Append(ctx, "other-process", domain.Any(), storetest.Event("E", i))
			require.NoError(t, err)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
	})
	t.Run("Closed", func(t *testing.T) {
		c := MustOpenPath(t, path, eventstore.Options{})
		require.NoError(t, c.Close())
		require.ErrorIs(t, c.Refresh(ctx), domain.ErrClosed)
	})
}
