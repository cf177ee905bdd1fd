package projections_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

func indexNames(tb testing.TB, db *sql.DB) []string {
	tb.Helper()
	rows, err := db.Query("SELECT name || ' ' || sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
	require.NoError(tb, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(tb, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(tb, rows.Err())
	return out
}

// TestFollower_CatchUpFromEmptyBuildsIndexes: a catch-up of many pages into
// an empty state drops the registrations' secondary indexes and builds
// them once at its end. Afterwards the state holds every index a fresh one
// holds, the queries use them, and they answer as a replay does; while the
// catch-up runs, the indexes are indeed absent.
func TestFollower_CatchUpFromEmptyBuildsIndexes(t *testing.T) {
	ctx := context.Background()
	l := mustOpenLedger(t)
	for i := range 8 {
		r := l.submitted(partner1, details(fmt.Sprintf("Acme %d", i), "US", "West"), domain.VerdictClear)
		if i%2 == 0 {
			l.record(r, manager)(r.Approve(manager, domain.DefaultPolicy(), l.now()))
		}
	}
	fresh, err := projections.OpenState(ctx, "", nil)
	require.NoError(t, err)
	defer fresh.Close()
	want := indexNames(t, fresh.DB())
	require.NotEmpty(t, want)

	st, err := projections.OpenState(ctx, filepath.Join(t.TempDir(), "views.db"), l.store)
	require.NoError(t, err)
	defer st.Close()
	p := projections.NewRegistrations(nil, l.store)
	var during []int
	probe := handlerFunc(func(_ *projections.Batch, rec domain.RecordedEvent) {
		if rec.Position > 4 {
			during = append(during, len(indexNames(t, st.DB())))
		}
	})
	f := projections.NewFollower(l.store, st, p, probe)
	f.CatchUpPage = 2
	require.NoError(t, f.Load(ctx))
	require.NoError(t, f.CatchUp(ctx, 0))
	require.Equal(t, want, indexNames(t, st.DB()))
	require.NotEmpty(t, during)
	require.Less(t, during[len(during)-1], len(want), "the indexes are dropped while catching up")

	var plan string
	var a, b, c int
	require.NoError(t, st.DB().QueryRow("EXPLAIN QUERY PLAN SELECT pos FROM registrations WHERE pos > -1 AND partner_id = ? ORDER BY pos", partner1.ID).
		Scan(&a, &b, &c, &plan))
	require.Contains(t, plan, "registrations_partner")

	replay := l.mustReplay(0)
	for _, flt := range []projections.ListFilter{{PartnerID: partner1.ID}, {Status: []domain.Status{domain.StatusActive}}, {Region: "west"}} {
		require.Equal(t, listAll(t, replay, flt, 3), listAll(t, p, flt, 3))
	}
	q, err := p.ReviewQueue(0)
	require.NoError(t, err)
	wq, err := replay.ReviewQueue(0)
	require.NoError(t, err)
	require.Equal(t, wq, q)
}
