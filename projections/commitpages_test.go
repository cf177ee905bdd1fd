package projections_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// commitProbe records the checkpoints it is told are committed, and the
// side effects that had finished by then.
type commitProbe struct {
	mu        sync.Mutex
	committed []uint64
	done      map[uint64]bool // positions whose task finished
	early     []uint64        // committed past a position whose task had not finished
}

func (p *commitProbe) Load(context.Context, *sql.DB) error { return nil }
func (p *commitProbe) Flush() (projections.Write, error)   { return nil, nil }
func (p *commitProbe) Committed(next uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if next == 0 {
		return // the load
	}
	p.committed = append(p.committed, next)
	for pos := range next {
		if !p.done[pos] {
			p.early = append(p.early, pos)
		}
	}
}
func (p *commitProbe) ApplyBatch(b *projections.Batch, rec domain.RecordedEvent) error {
	b.Go(func(context.Context) error {
		p.mu.Lock()
		p.done[rec.Position] = true
		p.mu.Unlock()
		return nil
	})
	return nil
}

// TestFollower_CatchUpCommitPages: a catch-up commits every
// CatchUpCommitPages pages and after its last one, each commit only once
// the side effects of every batch it covers are done; the views end as a
// replay builds them.
func TestFollower_CatchUpCommitPages(t *testing.T) {
	l := mustOpenLedger(t)
	for i := range 5 {
		l.submitted(partner1, details(fmt.Sprintf("Acme %d", i), "US", ""), domain.VerdictClear)
	}
	recs, err := l.store.ReadAll(context.Background(), domain.ReadAllOptions{Count: 1000})
	require.NoError(t, err)
	n := uint64(len(recs))

	for _, tc := range []struct{ page, every int }{{2, 3}, {1, 1}, {3, 100}, {int(n), 2}} {
		t.Run(fmt.Sprintf("Page%dEvery%d", tc.page, tc.every), func(t *testing.T) {
			probe := &commitProbe{done: map[uint64]bool{}}
			p := projections.NewRegistrations(nil, l.store)
			f := mustFollower(t, l, probe, p)
			f.CatchUpPage, f.CatchUpCommitPages = tc.page, tc.every
			require.NoError(t, f.CatchUp(context.Background(), 0))
			var want []uint64
			step := uint64(tc.page * max(1, tc.every))
			for next := step; next < n; next += step {
				want = append(want, next)
			}
			want = append(want, n)
			require.Equal(t, want, probe.committed)
			require.Empty(t, probe.early)
			replay := l.mustReplay(0)
			views, _, err := replay.List(projections.ListFilter{}, "", 100)
			require.NoError(t, err)
			require.Len(t, views, 5)
			for _, v := range views {
				got, ok := p.Detail(v.ID)
				require.True(t, ok)
				exp, _ := replay.Detail(v.ID)
				require.Equal(t, exp, got)
			}
		})
	}
}
