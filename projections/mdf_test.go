package projections_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// The MDF view counts each figure in the quarter its event was recorded,
// per partner and currency, and a view loaded from the state database
// answers as the one that folded the events.
func TestMDF_BudgetsByQuarterAndReload(t *testing.T) {
	l := mustOpenLedger(t)
	ctx := context.Background()
	r := uuid.MustParse("6f1c2a8e-7d1b-4c3a-9e55-0a1b2c3d4e5f")
	usd := func(s string) domain.Money {
		return domain.Money{Amount: decimal.RequireFromString(s), Currency: "USD"}
	}
	q1 := time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC)
	q2 := time.Date(2026, 4, 2, 12, 0, 0, 0, time.UTC)
	q3 := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	benefits := domain.DefaultPolicy().BenefitsFor("partner-1", domain.TierGold, domain.TypeOpportunity, usd("123456.78"))
	receipt := domain.Attachment{SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Size: 42, ContentType: "application/pdf"}
	steps := []struct {
		at     time.Time
		stream string
		ev     domain.Event
	}{
		{q1, domain.RegistrationStream(r), domain.RegistrationApproved{RegistrationID: r, ApprovedBy: "cm", Benefits: &benefits, At: q1}},
		{q1, domain.MDFStream(r), domain.MDFRequested{RegistrationID: r, PartnerID: "partner-1", Request: 1, Activity: domain.MDFCustomDemo, Amount: usd("1000"),
			StartDate: "2026-03-30", EndDate: "2026-04-01", Allocation: benefits.MDF.Amount, PolicyVersion: 1, RemainingBefore: benefits.MDF.Amount, RequestedBy: "u1", At: q1}},
		{q2, domain.MDFStream(r), domain.MDFRequestApproved{RegistrationID: r, Request: 1, Amount: usd("900"), ApprovedBy: "mkt", At: q2}},
		{q2, domain.MDFStream(r), domain.MDFReceiptAdded{RegistrationID: r, Request: 1, Receipt: receipt, AddedBy: "u1", At: q2}},
		{q2, domain.MDFStream(r), domain.MDFClaimSubmitted{RegistrationID: r, Request: 1, Amount: usd("880.4"), Receipts: []string{receipt.SHA256}, ClaimedBy: "u1", At: q2}},
		{q3, domain.MDFStream(r), domain.MDFClaimReimbursed{RegistrationID: r, Request: 1, Amount: usd("850"), Claimed: usd("880.4"), Reason: "catering", ReimbursedBy: "mkt", At: q3}},
	}
	count := map[string]uint64{}
	for _, s := range steps {
		l.clock.Set(s.at)
		typ, version, data, err := domain.EncodeEvent(s.ev)
		require.NoError(t, err)
		expected := domain.NoStream()
		if n := count[s.stream]; n > 0 {
			expected = domain.Exact(n - 1)
		}
		_, err = l.store.Append(ctx, s.stream, expected, domain.EventData{ID: uuid.New(), Type: typ, SchemaVersion: version, Data: data})
		require.NoError(t, err)
		count[s.stream]++
	}

	path := filepath.Join(t.TempDir(), "views.db")
	st, err := projections.OpenState(ctx, path, l.store)
	require.NoError(t, err)
	live := projections.NewMDF()
	f := projections.NewFollower(l.store, st, live)
	require.NoError(t, f.Load(ctx))
	require.NoError(t, f.CatchUp(ctx, 0))
	require.NoError(t, st.Close())

	figures := func(b projections.MDFBudget) []string {
		return []string{b.Quarter, b.Allocated.String(), b.Requested.String(), b.Approved.String(), b.Claimed.String(), b.Reimbursed.String()}
	}
	got := live.Budgets("partner-1", "")
	require.Len(t, got, 3)
	require.Equal(t, []string{"2026-Q1", "2469.14", "1000", "0", "0", "0"}, figures(got[0]))
	require.Equal(t, []string{"2026-Q2", "0", "0", "900", "880.4", "0"}, figures(got[1]))
	require.Equal(t, []string{"2026-Q3", "0", "0", "0", "0", "850"}, figures(got[2]))
	require.Equal(t, []projections.MDFBudget{got[1]}, live.Budgets("", "2026-Q2"))
	require.Empty(t, live.Budgets("partner-2", ""))
	acc, ok := live.Account(r)
	require.True(t, ok)
	require.Equal(t, "1619.14", acc.Remaining().Amount.String())

	// Reloaded from the state database.
	st, err = projections.OpenState(ctx, path, l.store)
	require.NoError(t, err)
	defer st.Close()
	loaded := projections.NewMDF()
	require.NoError(t, projections.NewFollower(l.store, st, loaded).Load(ctx))
	// (Compared as JSON: a zero loaded back is "0", not the zero value.)
	want, err := json.Marshal(live.Budgets("", ""))
	require.NoError(t, err)
	have, err := json.Marshal(loaded.Budgets("", ""))
	require.NoError(t, err)
	require.JSONEq(t, string(want), string(have))
	again, _ := loaded.Account(r)
	require.Equal(t, acc, again)
	require.Equal(t, live.Requests(projections.MDFRequestFilter{}), loaded.Requests(projections.MDFRequestFilter{}))
}
