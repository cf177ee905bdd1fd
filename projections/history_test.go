package projections_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// asOfQueries are the list and summary queries the history must answer as
// they stood: a filter of each kind, every sort, both directions.
var asOfQueries = []projections.ListFilter{
	{},
	{PartnerID: "partner-1"},
	{Status: []domain.Status{domain.StatusActive, domain.StatusClosedWon}},
	{Currency: "EUR", Sort: projections.ListSort{Field: "value", Desc: true}},
	{Sort: projections.ListSort{Field: "value"}},
	{Sort: projections.ListSort{Field: "expires"}},
	{Sort: projections.ListSort{Field: "partner", Desc: true}},
	{Sort: projections.ListSort{Desc: true}},
	{Stage: domain.StageNegotiation},
	{ProductLine: "payroll", Region: "west"},
	// The summary of now is answered from memory (pipeline_mem.go), the
	// summary as of a moment from the history: the capture of each moment
	// compares the two, filter by filter.
	{Country: "es", Type: domain.TypeOpportunity},
	{PartnerID: "nobody"},
	{Status: []domain.Status{domain.StatusWithdrawn, "no-such-status"}, Currency: "USD"},
	{ExpiringBefore: t0.Add(400 * domain.Day)},
	{StaleBefore: t0.Add(400 * domain.Day), Vertical: "Healthcare"},
}

// capture is what the list and summary answer now, as JSON.
func capture(t *testing.T, p *projections.Registrations, before uint64) string {
	t.Helper()
	out := map[string]any{}
	for i, f := range asOfQueries {
		f.Before = before
		for _, size := range []int{1, 3} {
			out[jsonKey(i, size)] = listAll(t, p, f, size)
		}
		sum, err := p.Summary(f, []string{"partner", "status", "product_line", "quarter"})
		require.NoError(t, err)
		out[jsonKey(i, 0)] = sum
	}
	b, err := json.Marshal(out)
	require.NoError(t, err)
	return string(b)
}

func jsonKey(i, size int) string { return string(rune('a'+i)) + string(rune('0'+size)) }

// TestRegistrations_AsOfListAndSummary folds a ledger event by event,
// capturing the list and the summary after each one, then asks the
// finished projection (and one rebuilt from scratch, and one that evicts
// every aggregate between events, so versions are continued after a
// reload) for each past position: each answer equals the capture of that
// moment.
func TestRegistrations_AsOfListAndSummary(t *testing.T) {
	l := mustOpenLedger(t)
	eur := func(company, region string, amount string) domain.Details {
		d := details(company, "ES", region)
		d.Opportunity.EstimatedValue = domain.Money{Amount: decimal.RequireFromString(amount), Currency: "EUR"}
		return d
	}
	a := l.approved(partner1, details("Acme", "US", "West"))
	b := l.submitted(partner2, eur("Globex", "Madrid", "900.5"), domain.VerdictClear)
	l.clock.Advance(domain.Day)
	c := l.approved(partner1, eur("Initech", "West", "12000"))
	l.record(a, partner1)(a.Progress(partner1, domain.ProgressUpdate{BuyingStage: domain.StageNegotiation}, l.now()))
	l.record(b, manager)(b.Return(manager, "the value, please", []string{"opportunity.estimated_value"}, l.now()))
	l.clock.Advance(domain.Day)
	l.record(b, partner2)(b.Amend(partner2, eur("Globex", "Madrid", "45000"), l.now()))
	l.record(b, partner2)(b.Submit(partner2, domain.DefaultPolicy(), l.now()))
	l.record(c, partner1)(c.CloseWon(partner1, domain.Money{Amount: decimal.RequireFromString("13000"), Currency: "EUR"}, "", l.now()))
	_ = l.draft(partner2, domain.TypeNamedAccount, domain.Details{Account: domain.Account{CompanyName: "Umbrella", Country: "US", Region: "East"}})
	l.record(a, partner1)(a.Withdraw(partner1, "lost interest", l.now()))

	events, err := l.store.ReadAll(context.Background(), domain.ReadAllOptions{})
	require.NoError(t, err)
	live := projections.NewRegistrations(nil, l.store)
	evicting := projections.NewRegistrations(nil, l.store)
	evicting.MaxCached = 0
	captured := make([]string, len(events))
	for i, rec := range events {
		require.NoError(t, live.Apply(rec))
		require.NoError(t, evicting.Apply(rec))
		captured[i] = capture(t, live, 0)
	}
	rebuilt := l.mustReplay(0)
	for name, p := range map[string]*projections.Registrations{"live": live, "rebuilt": rebuilt, "evicting": evicting} {
		for i, rec := range events {
			require.JSONEq(t, captured[i], capture(t, p, rec.Position+1), "%s as of position %d", name, rec.Position)
		}
	}
	// Before the first event nothing existed.
	empty := capture(t, live, 0+1)
	require.NotEqual(t, captured[len(captured)-1], empty)
}
