package projections_test

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// Every sort pages to the same total order whatever the page size, ends
// ties by creation, and refuses another sort's cursor.
func TestRegistrations_ListSorted(t *testing.T) {
	l := mustOpenLedger(t)
	withValue := func(company, amount, currency string) domain.Details {
		d := details(company, "US", "West")
		d.Opportunity.EstimatedValue = domain.Money{Amount: decimal.RequireFromString(amount), Currency: currency}
		return d
	}
	// Each registration's latest event at its own time, so updated_at orders
	// as the latest events' positions do.
	a := l.approved(partner2, withValue("Acme", "500", "USD"))
	l.clock.Advance(time.Minute)
	b := l.submitted(partner1, withValue("Globex", "70000", "EUR"), domain.VerdictClear)
	l.clock.Advance(domain.Day)
	c := l.approved(partner1, withValue("Initech", "500", "USD"))
	l.clock.Advance(time.Minute)
	d := l.approved(partner2, withValue("Umbrella", "9.5", "EUR"))
	l.clock.Advance(time.Minute)
	l.record(a, partner2)(a.Progress(partner2, domain.ProgressUpdate{BuyingStage: domain.StageProposal}, l.now()))
	p := l.mustReplay(0)

	all := listAll(t, p, projections.ListFilter{}, 0)
	require.Len(t, all, 4)
	byKey := func(key func(v projections.RegistrationView) []any) []projections.RegistrationView {
		out := slices.Clone(all)
		slices.SortStableFunc(out, func(x, y projections.RegistrationView) int {
			kx, ky := key(x), key(y)
			for i := range kx {
				var c int
				switch vx := kx[i].(type) {
				case string:
					c = cmp.Compare(vx, ky[i].(string))
				case int64:
					c = cmp.Compare(vx, ky[i].(int64))
				}
				if c != 0 {
					return c
				}
			}
			return cmp.Compare(x.Position, y.Position)
		})
		return out
	}
	lapse := func(v projections.RegistrationView) int64 {
		if !v.Status.Protected() {
			return 1<<63 - 1
		}
		return v.ProtectionLapsesAt.UnixNano()
	}
	want := map[string][]projections.RegistrationView{
		"created": all,
		"updated": byKey(func(v projections.RegistrationView) []any { return []any{v.UpdatedAt.UnixNano()} }),
		"value": byKey(func(v projections.RegistrationView) []any {
			return []any{v.Currency, v.EstimatedValue.Shift(4).IntPart()}
		}),
		"expires": byKey(func(v projections.RegistrationView) []any { return []any{lapse(v)} }),
		"partner": byKey(func(v projections.RegistrationView) []any { return []any{v.PartnerID} }),
	}
	require.Equal(t, ids(want["value"]), []uuid.UUID{d.ID(), b.ID(), a.ID(), c.ID()}, "per currency, then by value, ties by creation")
	require.Equal(t, ids(want["updated"])[3], a.ID(), "the progress update is the latest event")
	for field, order := range want {
		for _, desc := range []bool{false, true} {
			exp := slices.Clone(order)
			if desc {
				slices.Reverse(exp)
			}
			s := projections.ListSort{Field: field, Desc: desc}
			for _, size := range []int{1, 3, 0} {
				require.Equal(t, ids(exp), ids(listAll(t, p, projections.ListFilter{Sort: s}, size)), "%s desc=%v size %d", field, desc, size)
			}
		}
	}
	eur := listAll(t, p, projections.ListFilter{Currency: "EUR", Sort: projections.ListSort{Field: "value", Desc: true}}, 1)
	require.Equal(t, []uuid.UUID{b.ID(), d.ID()}, ids(eur))

	_, next, err := p.List(projections.ListFilter{Sort: projections.ListSort{Field: "value"}}, "", 1)
	require.NoError(t, err)
	_, _, err = p.List(projections.ListFilter{Sort: projections.ListSort{Field: "partner"}}, next, 1)
	require.Equal(t, domain.EINVALID, domain.ErrorCode(err))
	_, _, err = p.List(projections.ListFilter{}, next, 1)
	require.Equal(t, domain.EINVALID, domain.ErrorCode(err))

	_, err = projections.ParseListSort("-size")
	require.Equal(t, domain.EINVALID, domain.ErrorCode(err))
}
