package projections

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPipelineIndex_LoadKeepsWhatWasFlushedMeanwhile loads the index from a
// state database while a flush arrives: the flushed rows are newer than
// the table's and win; then the summary from memory equals the table's.
func TestPipelineIndex_LoadKeepsWhatWasFlushedMeanwhile(t *testing.T) {
	ctx := context.Background()
	st, err := OpenState(ctx, "", nil)
	require.NoError(t, err)
	defer st.Close()
	row := func(pos int64, partner, status, currency string, value int64) []any {
		a := make([]any, len(registrationColumns))
		for i, c := range registrationColumns {
			switch c {
			case "id":
				a[i] = "id-" + string(rune('a'+pos))
			case "pos":
				a[i] = pos
			case "partner_id":
				a[i] = partner
			case "status":
				a[i] = status
			case "currency":
				a[i] = currency
			case "value_e4":
				a[i] = value
			case "protected":
				a[i] = status == "active"
			case "awaiting":
				a[i] = false
			case "last_sub_pos", "lapses_at", "progress_at", "updated_pos", "expires_at":
				a[i] = int64(0)
			case "products":
				a[i] = "|payroll|hr management|"
			default:
				a[i] = ""
			}
		}
		return a
	}
	write := func(rows ...[]any) {
		tx, err := st.db.BeginTx(ctx, nil)
		require.NoError(t, err)
		for _, r := range rows {
			_, err := tx.ExecContext(ctx, upsertRegistrationSQL, r...)
			require.NoError(t, err)
		}
		require.NoError(t, tx.Commit())
	}
	write(row(1, "p1", "active", "USD", 10_0000), row(2, "p1", "submitted", "EUR", 5_0000))

	x := newPipelineIndex()
	x.loadFrom(st.db)
	// Flushed before the load, committed after it read the table.
	newer := [][]any{row(2, "p2", "active", "EUR", 7_0000), row(3, "p2", "draft", "", 0)}
	x.flushed(newer)
	x.mu.Lock()
	gen := x.gen
	x.db = nil // the load below is the one begin would start
	x.mu.Unlock()
	x.mu.RLock()
	require.False(t, x.ready, "not ready before the load: the summary reads the table")
	x.mu.RUnlock()
	x.load(ctx, st.db, gen)
	write(newer...)

	p := NewRegistrations(nil, nil)
	p.db, p.pipeline = st.db, x
	for _, c := range []struct {
		f       ListFilter
		groupBy []string
	}{
		{ListFilter{}, []string{"partner", "status"}},
		{ListFilter{PartnerID: "p2"}, []string{"product_line"}},
		{ListFilter{Currency: "EUR"}, nil},
		{ListFilter{PartnerID: "nobody"}, []string{"partner"}},
	} {
		mem, err := p.Summary(c.f, c.groupBy)
		require.NoError(t, err)
		fromTableOnly.Store(true)
		table, err := p.Summary(c.f, c.groupBy)
		fromTableOnly.Store(false)
		require.NoError(t, err)
		require.Equal(t, table, mem, "%+v by %v", c.f, c.groupBy)
	}
	all, err := p.Summary(ListFilter{}, []string{"partner"})
	require.NoError(t, err)
	require.Equal(t, 3, all.Total.Count)
	require.Len(t, all.Groups, 2)
	require.Equal(t, map[string]string{"partner": "p2"}, all.Groups[0].Key, "registration 2 moved to p2 in the flush")
	require.Equal(t, 2, all.Groups[0].Count)
}

// TestPipelineIndex_FailedLoadIsBegunAgain: a load that cannot read the
// table keeps what was flushed and waits for the next summary, which
// loads it.
func TestPipelineIndex_FailedLoadIsBegunAgain(t *testing.T) {
	ctx := context.Background()
	st, err := OpenState(ctx, "", nil)
	require.NoError(t, err)
	defer st.Close()
	broken, err := OpenState(ctx, "", nil)
	require.NoError(t, err)
	require.NoError(t, broken.Close())

	x := newPipelineIndex()
	x.loadFrom(broken.db)
	x.loadNow() // the query fails
	x.mu.RLock()
	require.False(t, x.ready)
	require.NotNil(t, x.db, "the failed load waits to be begun again")
	x.mu.RUnlock()
	x.mu.Lock()
	x.db = st.db // the state as it is reopened
	x.mu.Unlock()
	acc, ok := x.summary(ListFilter{}, nil)
	require.True(t, ok)
	require.Equal(t, 0, acc.total.count)
}
