package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// runLive starts Run on a fresh projection over l's store until the test
// ends, and requires that it stopped because it was told to.
func runLive(tb testing.TB, l *ledger) (*projections.Registrations, context.Context) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := projections.NewRegistrations(nil)
	done := make(chan error, 1)
	go func() { done <- projections.Run(ctx, l.store, p) }()
	tb.Cleanup(func() {
		cancel()
		require.ErrorIs(tb, <-done, context.Canceled)
	})
	return p, ctx
}

func TestRun(t *testing.T) {
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
		p, err := projections.Replay(context.Background(), l.store, 2)
		require.NoError(t, err)
		l.record(r, manager)(r.Approve(manager, domain.DefaultPolicy(), l.now()))

		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- projections.Run(ctx, l.store, p) }()
		require.NoError(t, p.WaitFor(ctx, l.head()))
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
		require.Equal(t, l.mustReplay(0).History(r.ID()), p.History(r.ID()))
	})

	t.Run("StopsWhenStoreCloses", func(t *testing.T) {
		l := mustOpenLedger(t)
		done := make(chan error, 1)
		go func() { done <- projections.Run(context.Background(), l.store, projections.NewRegistrations(nil)) }()
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
		p := projections.NewRegistrations(nil)
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
