package projections_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

func TestRegistrations_List(t *testing.T) {
	l := mustOpenLedger(t)
	a := l.approved(partner1, details("Acme", "US", "West"))
	b := l.submitted(partner2, details("Globex", "DE", "Bavaria"), domain.VerdictPossibleDuplicate)
	c := l.draft(partner1, domain.TypeNamedAccount, domain.Details{Account: domain.Account{CompanyName: "Umbrella", Country: "US", Region: "east"}})
	d := l.submitted(partner1, details("Initech", "us", "East"), domain.VerdictClear)
	p := l.mustReplay(0)

	for name, tc := range map[string]struct {
		filter projections.ListFilter
		want   []uuid.UUID
	}{
		"All":       {projections.ListFilter{}, []uuid.UUID{a.ID(), b.ID(), c.ID(), d.ID()}},
		"Status":    {projections.ListFilter{Status: []domain.Status{domain.StatusActive}}, []uuid.UUID{a.ID()}},
		"AnyStatus": {projections.ListFilter{Status: []domain.Status{domain.StatusCleared, domain.StatusPossibleDuplicate}}, []uuid.UUID{b.ID(), d.ID()}},
		"Partner":   {projections.ListFilter{PartnerID: "partner-1"}, []uuid.UUID{a.ID(), c.ID(), d.ID()}},
		"Type":      {projections.ListFilter{Type: domain.TypeNamedAccount}, []uuid.UUID{c.ID()}},
		"Country":   {projections.ListFilter{Country: "de"}, []uuid.UUID{b.ID()}},
		"Region":    {projections.ListFilter{Country: "US", Region: "EAST"}, []uuid.UUID{c.ID(), d.ID()}},
		"Combined":  {projections.ListFilter{PartnerID: "partner-1", Type: domain.TypeOpportunity, Region: "east"}, []uuid.UUID{d.ID()}},
		"NoneMatch": {projections.ListFilter{PartnerID: "partner-9"}, []uuid.UUID{}},
	} {
		t.Run(name, func(t *testing.T) {
			for _, size := range []int{1, 2, 0} {
				require.Equal(t, tc.want, ids(listAll(t, p, tc.filter, size)), "page size %d", size)
			}
		})
	}

	t.Run("LastPageHasNoCursor", func(t *testing.T) {
		items, next, err := p.List(projections.ListFilter{}, "", 4)
		require.NoError(t, err)
		require.Len(t, items, 4)
		require.Empty(t, next)
		items, next, err = p.List(projections.ListFilter{}, "", 3)
		require.NoError(t, err)
		require.Len(t, items, 3)
		require.NotEmpty(t, next)
	})

	t.Run("InvalidCursor", func(t *testing.T) {
		for _, cursor := range []string{"!!", "AQ", "AgAAAAAAAAAB", "not a cursor"} {
			_, _, err := p.List(projections.ListFilter{}, cursor, 10)
			require.Error(t, err, cursor)
			require.Equal(t, domain.EINVALID, domain.ErrorCode(err), cursor)
		}
	})
}

// TestRegistrations_ListWhileAppending pages through a projection that a
// runner keeps live while new registrations (and changes to old ones)
// arrive between page fetches: every registration that existed when paging
// began appears exactly once, in order.
func TestRegistrations_ListWhileAppending(t *testing.T) {
	l := mustOpenLedger(t)
	p, ctx := runLive(t, l)

	var existing []uuid.UUID
	var regs []*domain.Registration
	for range 7 {
		r := l.draft(partner1, domain.TypeOpportunity, details("Acme", "US", ""))
		existing, regs = append(existing, r.ID()), append(regs, r)
	}
	require.NoError(t, p.WaitFor(ctx, l.head()))

	var seen []uuid.UUID
	cursor := ""
	for page := 0; ; page++ {
		items, next, err := p.List(projections.ListFilter{}, cursor, 2)
		require.NoError(t, err)
		seen = append(seen, ids(items)...)
		if next == "" {
			break
		}
		cursor = next
		// Between pages: a new registration, and an old one submitted,
		// which must not move it in the order.
		l.draft(partner1, domain.TypeOpportunity, details("Later", "US", ""))
		r := regs[page]
		l.record(r, partner1)(r.Submit(partner1, domain.DefaultPolicy(), l.now()))
		require.NoError(t, p.WaitFor(ctx, l.head()))
	}
	require.GreaterOrEqual(t, len(seen), len(existing))
	require.Equal(t, existing, seen[:len(existing)], "the registrations of the first page fetch, in order")
	unique := make(map[uuid.UUID]bool)
	for _, id := range seen {
		require.False(t, unique[id], "registration %s listed twice", id)
		unique[id] = true
	}
}

func TestRegistrations_ReviewQueue(t *testing.T) {
	l := mustOpenLedger(t)
	first := l.submitted(partner1, details("Acme", "US", ""), domain.VerdictPossibleDuplicate)
	firstAt := l.now()
	l.clock.Advance(time.Hour)
	l.approved(partner1, details("Decided", "US", ""))
	l.clock.Advance(time.Hour)
	waiting := l.draft(partner1, domain.TypeOpportunity, details("No verdict yet", "US", ""))
	l.record(waiting, partner1)(waiting.Submit(partner1, domain.DefaultPolicy(), l.now()))
	l.clock.Advance(time.Hour)
	second := l.submitted(partner2, details("Globex", "DE", ""), domain.VerdictClear)
	secondAt := l.now()
	l.clock.Advance(time.Hour)
	third := l.submitted(partner1, details("Initech", "US", ""), domain.VerdictClear)
	l.record(third, manager)(third.StartReview(manager, l.now()))
	l.draft(partner2, domain.TypeOpportunity, details("Draft", "US", ""))
	// The first submission reviewed later was started earlier: review
	// does not change its place.
	l.record(first, manager)(first.StartReview(manager, l.now()))

	p := l.mustReplay(0)
	queue, err := p.ReviewQueue(0)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{first.ID(), second.ID(), third.ID()}, []uuid.UUID{queue[0].ID, queue[1].ID, queue[2].ID})
	require.Len(t, queue, 3)
	require.Equal(t, domain.StatusUnderReview, queue[0].Status)

	sla := domain.DefaultPolicy().ReviewSLA
	require.Equal(t, firstAt.Add(sla), queue[0].DueAt)
	require.Equal(t, secondAt.Add(sla), queue[1].DueAt)
	deadline, ok := second.ReviewDeadline(domain.DefaultPolicy())
	require.True(t, ok)
	require.Equal(t, deadline, queue[1].DueAt, "the aggregate agrees when command and recorded times agree")

	require.False(t, queue[0].Overdue(firstAt.Add(sla)))
	require.True(t, queue[0].Overdue(firstAt.Add(sla+time.Second)))
	require.False(t, queue[1].Overdue(firstAt.Add(sla+time.Second)))

	limited, err := p.ReviewQueue(2)
	require.NoError(t, err)
	require.Equal(t, queue[:2], limited)

	t.Run("Resubmission", func(t *testing.T) {
		l.record(first, manager)(first.Return(manager, "Add proof.", nil, l.now()))
		l.clock.Advance(domain.Day)
		again := l.now()
		l.record(first, partner1)(first.Submit(partner1, domain.DefaultPolicy(), again))
		l.record(first, checker)(first.RecordVerdict(2, domain.VerdictClear, nil, "", again))

		queue, err := l.mustReplay(0).ReviewQueue(0)
		require.NoError(t, err)
		require.Equal(t, []uuid.UUID{second.ID(), third.ID(), first.ID()}, []uuid.UUID{queue[0].ID, queue[1].ID, queue[2].ID})
		require.Equal(t, again.Add(sla), queue[2].DueAt, "a resubmission restarts the SLA")
	})

	t.Run("UnknownPolicy", func(t *testing.T) {
		p := projections.NewRegistrations(func(int) (domain.Policy, bool) { return domain.Policy{}, false }, l.store)
		require.NoError(t, p.CatchUp(t.Context(), l.store, 0))
		_, err := p.ReviewQueue(0)
		require.Equal(t, domain.EINTERNAL, domain.ErrorCode(err))
	})
}

func TestRegistrations_ExpiringBefore(t *testing.T) {
	l := mustOpenLedger(t)
	a := l.approved(partner1, details("Acme", "US", ""))
	l.clock.Advance(domain.Day)
	b := l.approved(partner2, details("Globex", "US", ""))
	l.clock.Advance(domain.Day)
	c := l.approved(partner1, details("Initech", "US", ""))
	l.record(c, partner1)(c.CloseLost(partner1, "Budget cut.", l.now()))
	l.submitted(partner1, details("Pending", "US", ""), domain.VerdictClear)
	// a asks for more time, which holds off its expiry past b's.
	l.record(a, partner1)(a.RequestExtension(partner1, "Board meets next month.", l.now()))

	p := l.mustReplay(0)
	require.Empty(t, mustExpiring(t, p, b.ProtectionEnd()))
	require.Equal(t, []uuid.UUID{b.ID()}, ids(mustExpiring(t, p, b.ProtectionEnd().Add(time.Nanosecond))))
	require.Equal(t, []uuid.UUID{b.ID(), a.ID()}, ids(mustExpiring(t, p, a.ProtectionEnd().Add(60*domain.Day))),
		"soonest lapse first; closed and pending registrations never")
}

func mustExpiring(t *testing.T, p *projections.Registrations, at time.Time) []projections.RegistrationView {
	t.Helper()
	out, err := p.ExpiringBefore(at)
	require.NoError(t, err)
	return out
}
