package eventstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
	"github.com/dealreg/dealreg/eventstore/storetest"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// MustOpenStore opens a new ledger in a temporary directory, closed at the
// end of the test.
func MustOpenStore(tb testing.TB, opts ...eventstore.Options) *eventstore.SQLite {
	tb.Helper()
	return MustOpenPath(tb, filepath.Join(tb.TempDir(), "ledger.db"), opts...)
}

// MustOpenPath opens the ledger at path, closed at the end of the test.
func MustOpenPath(tb testing.TB, path string, opts ...eventstore.Options) *eventstore.SQLite {
	tb.Helper()
	var o eventstore.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	s, err := eventstore.OpenSQLite(path, o)
	require.NoError(tb, err)
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestSQLite_Contract(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		Name: "sqlite",
		Open: func(tb testing.TB) domain.EventStore { return MustOpenStore(tb) },
		Reopen: func(tb testing.TB, closed domain.EventStore) domain.EventStore {
			return MustOpenPath(tb, closed.(*eventstore.SQLite).Path())
		},
		ContiguousPositions: true,
		GloballyUniqueIDs:   true,
	})
}

// TestSQLite_CloseWhileAppending closes the store under load: every append
// that was acknowledged is on disk after reopening, and every append that
// was refused (ErrClosed) is not.
func TestSQLite_CloseWhileAppending(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	s, err := eventstore.OpenSQLite(path, eventstore.Options{})
	require.NoError(t, err)
	type outcome struct {
		id  uuid.UUID
		err error
	}
	results := make(chan outcome, 1<<20)
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				e := storetest.Event("E", i)
				_, err := s.Append(context.Background(), fmt.Sprintf("w-%d", w), domain.Any(), e)
				results <- outcome{e.ID, err}
				if err != nil {
					return
				}
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, s.Close())
	wg.Wait()
	close(results)

	s = MustOpenPath(t, path)
	all, err := s.ReadAll(context.Background(), domain.ReadAllOptions{})
	require.NoError(t, err)
	stored := make(map[uuid.UUID]bool, len(all))
	for _, e := range all {
		stored[e.ID] = true
	}
	acked := 0
	for r := range results {
		if r.err == nil {
			acked++
			require.True(t, stored[r.id], "acknowledged event %s lost at close", r.id)
		} else {
			require.ErrorIs(t, r.err, domain.ErrClosed)
			require.False(t, stored[r.id], "refused event %s was written", r.id)
		}
	}
	require.Equal(t, acked, len(all))
	require.Positive(t, acked)
}

// TestSQLite_ManyReadersThenClose: more concurrent reads than there are
// read connections all succeed, each sees a prefix of the log with no gap,
// and reads racing Close end with ErrClosed, never another error.
func TestSQLite_ManyReadersThenClose(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	for i := range 50 {
		_, err := s.Append(ctx, fmt.Sprintf("s-%d", i%5), domain.Any(), storetest.Event("E", i))
		require.NoError(t, err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 64)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				events, err := s.ReadAll(ctx, domain.ReadAllOptions{})
				if err != nil {
					errs <- err
					return
				}
				for i, e := range events {
					if e.Position != uint64(i) || len(e.Data) == 0 {
						errs <- fmt.Errorf("event %d at index %d", e.Position, i)
						return
					}
				}
				if _, err := s.ReadStream(ctx, "s-3", domain.ReadStreamOptions{Direction: domain.Backwards, FromEnd: true, Count: 2}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, s.Close())
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.ErrorIs(t, err, domain.ErrClosed)
	}
	_, err := s.ReadAll(ctx, domain.ReadAllOptions{})
	require.ErrorIs(t, err, domain.ErrClosed)
}

// TestSQLite_NoSync loads a ledger in bulk without per-commit flushes: after
// Close everything is in the one file (no WAL left), and a normal open
// reads and verifies every event.
func TestSQLite_NoSync(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	s, err := eventstore.OpenSQLite(path, eventstore.Options{NoSync: true})
	require.NoError(t, err)
	for i := range 50 {
		_, err := s.Append(ctx, fmt.Sprintf("bulk-%d", i%5), domain.Any(), domain.EventData{
			ID: uuid.New(), Type: "Loaded", SchemaVersion: 1, Data: []byte(`{}`), Metadata: []byte(`{}`),
		})
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())
	require.NoFileExists(t, path+"-wal")

	again := MustOpenPath(t, path)
	all, err := again.ReadAll(ctx, domain.ReadAllOptions{Count: 100})
	require.NoError(t, err)
	require.Len(t, all, 50)
	head, err := again.Verify(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 50, head.Size)
}
