package projections_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// runLive starts a Follower feeding a fresh projection from l's store,
// with its state in a new state database, until the test ends, and
// requires that it stopped because it was told to.
func runLive(tb testing.TB, l *ledger) (*projections.Registrations, context.Context) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := projections.NewRegistrations(nil, l.store)
	done := make(chan error, 1)
	f := mustFollower(tb, l, p)
	go func() { done <- f.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		require.ErrorIs(tb, <-done, context.Canceled)
	})
	return p, ctx
}

func TestFollower_Run(t *testing.T) {
	t.Run("CatchesUpThenFollows", func(t *testing.T) {
		l := mustOpenLedger(t)
		r := l.submitted(partner1, details("Acme", "US", ""), domain.VerdictClear)
		p, ctx := runLive(t, l)

		require.NoError(t, p.WaitFor(ctx, l.head()))
		v, ok := p.Get(r.ID())
		require.True(t, ok)
		require.Equal(t, domain.StatusCleared, v.Status)

		pos := l.record(r, manager)(r.Approve(manager, domain.DefaultPolicy(), l.now()))
		require.NoError(t, p.WaitFor(ctx, pos))
		v, _ = p.Get(r.ID())
		require.Equal(t, domain.StatusActive, v.Status, "read your writes")
		require.Equal(t, pos+1, p.Checkpoint())
	})

	t.Run("ResumesFromCheckpoint", func(t *testing.T) {
		l := mustOpenLedger(t)
		r := l.submitted(partner1, details("Acme", "US", ""), domain.VerdictClear)
		path := filepath.Join(t.TempDir(), "views.db")
		ctx := context.Background()
		st, err := projections.OpenState(ctx, path, l.store)
		require.NoError(t, err)
		first := projections.NewFollower(l.store, st, projections.NewRegistrations(nil, l.store))
		require.NoError(t, first.CatchUp(ctx, 2))
		require.NoError(t, st.Close())
		l.record(r, manager)(r.Approve(manager, domain.DefaultPolicy(), l.now()))

		st, err = projections.OpenState(ctx, path, l.store)
		require.NoError(t, err)
		defer st.Close()
		require.Empty(t, st.Discarded)
		require.Equal(t, uint64(2), st.Checkpoint(), "the state kept its checkpoint")
		p := projections.NewRegistrations(nil, l.store)
		f := projections.NewFollower(l.store, st, p)
		require.NoError(t, f.Load(ctx))
		v, ok := p.Get(r.ID())
		require.True(t, ok, "the view came back from the state database")
		require.Equal(t, domain.StatusSubmitted, v.Status)

		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- f.Run(runCtx) }()
		require.NoError(t, p.WaitFor(runCtx, l.head()))
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
		require.Equal(t, l.mustReplay(0).History(r.ID()), p.History(r.ID()))
		got, _ := p.Get(r.ID())
		want, _ := l.mustReplay(0).Get(r.ID())
		require.Equal(t, want, got)
	})

	t.Run("StopsWhenStoreCloses", func(t *testing.T) {
		l := mustOpenLedger(t)
		done := make(chan error, 1)
		f := mustFollower(t, l, projections.NewRegistrations(nil, l.store))
		go func() { done <- f.Run(context.Background()) }()
		require.NoError(t, l.store.Close())
		require.ErrorIs(t, <-done, domain.ErrClosed)
	})
}

func TestRegistrations_WaitFor(t *testing.T) {
	t.Run("AlreadyApplied", func(t *testing.T) {
		l := mustOpenLedger(t)
		l.draft(partner1, domain.TypeOpportunity, details("Acme", "US", ""))
		p := l.mustReplay(0)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		require.NoError(t, p.WaitFor(ctx, 0), "an applied position never waits, even on a done context")
	})

	t.Run("Timeout", func(t *testing.T) {
		p := projections.NewRegistrations(nil, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		require.ErrorIs(t, p.WaitFor(ctx, 0), context.DeadlineExceeded)
	})

	t.Run("WakesEveryWaiter", func(t *testing.T) {
		l := mustOpenLedger(t)
		p, ctx := runLive(t, l)
		const waiters = 8
		errs := make(chan error, waiters)
		for range waiters {
			go func() { errs <- p.WaitFor(ctx, 2) }()
		}
		l.submitted(partner1, details("Acme", "US", ""), domain.VerdictClear)
		for range waiters {
			require.NoError(t, <-errs)
		}
	})
}

// probe is a handler that asks its batches, from a task, which events
// they hold.
type probe struct {
	ask  []uuid.UUID
	mu   sync.Mutex
	seen map[uuid.UUID]bool
}

func (p *probe) Load(context.Context, *sql.DB) error { return nil }
func (p *probe) Flush() (projections.Write, error)   { return nil, nil }
func (p *probe) Committed(uint64)                    {}
func (p *probe) ApplyBatch(b *projections.Batch, rec domain.RecordedEvent) error {
	b.Go(func(context.Context) error {
		for _, id := range p.ask {
			if b.HasEvent(id) {
				p.mu.Lock()
				p.seen[id] = true
				p.mu.Unlock()
			}
		}
		return nil
	})
	return nil
}

func TestBatch_HasEvent(t *testing.T) {
	l := mustOpenLedger(t)
	l.submitted(partner1, details("Acme", "US", ""), domain.VerdictClear)
	recs, err := l.store.ReadAll(context.Background(), domain.ReadAllOptions{Count: 100})
	require.NoError(t, err)
	require.Greater(t, len(recs), 2)
	first, last, absent := recs[0].ID, recs[len(recs)-1].ID, uuid.New()

	// One batch holds the whole ledger: any task of it finds every event.
	p := &probe{ask: []uuid.UUID{first, last, absent}, seen: map[uuid.UUID]bool{}}
	f := mustFollower(t, l, p)
	f.CatchUpPage = 100
	require.NoError(t, f.CatchUp(context.Background(), 0))
	require.Equal(t, map[uuid.UUID]bool{first: true, last: true}, p.seen)

	t.Run("OnlyItsOwn", func(t *testing.T) {
		// Batches of one event: each holds its own event only.
		var wrong []uint64
		var mu sync.Mutex
		h := handlerFunc(func(b *projections.Batch, rec domain.RecordedEvent) {
			b.Go(func(context.Context) error {
				if b.HasEvent(last) != (rec.ID == last) || !b.HasEvent(rec.ID) {
					mu.Lock()
					wrong = append(wrong, rec.Position)
					mu.Unlock()
				}
				return nil
			})
		})
		f := mustFollower(t, l, h)
		f.CatchUpPage = 1
		require.NoError(t, f.CatchUp(context.Background(), 0))
		require.Empty(t, wrong)
	})
}

type handlerFunc func(b *projections.Batch, rec domain.RecordedEvent)

func (h handlerFunc) Load(context.Context, *sql.DB) error { return nil }
func (h handlerFunc) Flush() (projections.Write, error)   { return nil, nil }
func (h handlerFunc) Committed(uint64)                    {}
func (h handlerFunc) ApplyBatch(b *projections.Batch, rec domain.RecordedEvent) error {
	h(b, rec)
	return nil
}

// TestRegistrations_EvictedFoldAgain keeps two aggregates at most: the
// registrations evicted between batches are folded again from their
// streams, and every view ends as a replay without eviction builds it.
func TestRegistrations_EvictedFoldAgain(t *testing.T) {
	l := mustOpenLedger(t)
	var regs []*domain.Registration
	for i := range 6 {
		regs = append(regs, l.submitted(partner1, details(fmt.Sprintf("Acme %d", i), "US", ""), domain.VerdictClear))
	}
	for _, r := range regs {
		l.record(r, manager)(r.Approve(manager, domain.DefaultPolicy(), l.now()))
	}
	for _, r := range regs[:3] {
		l.record(r, partner1)(r.Withdraw(partner1, "lost interest", l.now()))
	}
	p := projections.NewRegistrations(nil, l.store)
	p.MaxCached = 2
	f := mustFollower(t, l, p)
	f.CatchUpPage = 3
	require.NoError(t, f.CatchUp(context.Background(), 0))
	want := l.mustReplay(0)
	for _, r := range regs {
		got, ok := p.Detail(r.ID())
		require.True(t, ok)
		exp, _ := want.Detail(r.ID())
		require.Equal(t, exp, got)
	}
}
