package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// handLedger is a ledger written by hand: each event gets the next
// position and the time given, so every expected figure can be checked on
// paper.
type handLedger struct {
	tb   testing.TB
	recs []domain.RecordedEvent
}

func (l *handLedger) add(stream string, at time.Time, e domain.Event) uint64 {
	l.tb.Helper()
	typ, version, data, err := domain.EncodeEvent(e)
	require.NoError(l.tb, err)
	pos := uint64(len(l.recs))
	l.recs = append(l.recs, domain.RecordedEvent{ID: uuid.New(), Stream: stream, Position: pos, Type: typ, SchemaVersion: version, Data: data, RecordedAt: at})
	return pos
}

func day(d int) time.Time { return t0.Add(time.Duration(d) * domain.Day) }

func usd(v string) domain.Money {
	return domain.Money{Amount: decimal.RequireFromString(v), Currency: "USD"}
}

// analyticsLedger builds the program the table tests count:
//
//	R1 acme (gold) Northeast: submitted day 0, approved 2 h later, won day 10 (1000 USD), rated 5
//	R2 acme (gold) Northeast: submitted day 1, auto-approved 60 s later, expired day 91
//	R3 globex (silver) West: submitted day 2, rejected day 3
//	R4 globex (silver) West: submitted day 3, approved day 5, won day 20 (500 EUR), rated 4
//	(day 4: acme becomes platinum)
//	R5 acme (platinum) Northeast: submitted day 5, duplicate verdict, rated 2
//	R6 acme: drafted only
//	R7 acme (platinum) Northeast: submitted day 40, approved a day later, won day 50 (750 USD)
//	C1 day 5: R1 (first, proof) vs R5; escalated day 6; day 7 awarded to R1
//	C2 day 8: R3 (first, proof) vs R4; day 9 awarded to R4, the later claimant
//	C3 day 9: R7 vs a direct deal, open
type analyticsLedger struct {
	handLedger
	r   [8]uuid.UUID
	c   [4]uuid.UUID
	pos map[string]uint64
}

func newAnalyticsLedger(tb testing.TB) *analyticsLedger {
	l := &analyticsLedger{handLedger: handLedger{tb: tb}, pos: map[string]uint64{}}
	for i := range l.r {
		l.r[i] = uuid.New()
	}
	for i := range l.c {
		l.c[i] = uuid.New()
	}
	l.add("partner-acme", day(-1), domain.PartnerAdded{Partner: domain.Partner{ID: "acme", Tier: domain.TierGold}})
	l.add("partner-globex", day(-1), domain.PartnerAdded{Partner: domain.Partner{ID: "globex", Tier: domain.TierSilver}})
	submit := func(n int, partner, region string, at time.Time) {
		id := l.r[n]
		d := domain.Details{Account: domain.Account{CompanyName: "C", Country: "MX", Region: region}}
		l.add(domain.RegistrationStream(id), at.Add(-time.Hour), domain.RegistrationDrafted{RegistrationID: id, PartnerID: partner, Details: d})
		l.pos["sub"+string(rune('0'+n))] = l.add(domain.RegistrationStream(id), at, domain.RegistrationSubmitted{RegistrationID: id, PartnerID: partner, Attempt: 1, Details: d})
	}
	key := func(what string, n int) string { return what + string(rune('0'+n)) }
	approve := func(n int, at time.Time) {
		l.pos[key("app", n)] = l.add(domain.RegistrationStream(l.r[n]), at, domain.RegistrationApproved{RegistrationID: l.r[n], Terms: domain.ProtectionTerms{ProtectionEnd: at.Add(90 * domain.Day)}})
	}
	won := func(n int, at time.Time, m domain.Money) {
		l.pos[key("won", n)] = l.add(domain.RegistrationStream(l.r[n]), at, domain.RegistrationClosedWon{RegistrationID: l.r[n], FinalValue: m})
	}
	rate := func(n int, partner string, at time.Time, score int) {
		l.pos[key("rate", n)] = l.add(domain.RatingStream(l.r[n]), at, domain.RegistrationRated{RegistrationID: l.r[n], PartnerID: partner, Score: score})
	}
	submit(1, "acme", "Northeast", day(0))
	approve(1, day(0).Add(2*time.Hour))
	submit(2, "acme", "northeast", day(1))
	l.add(domain.RegistrationStream(l.r[2]), day(1).Add(time.Minute), domain.RegistrationAutoApproved{RegistrationID: l.r[2], Attempt: 1, Rule: "track record"})
	approve(2, day(1).Add(time.Minute))
	submit(3, "globex", "West", day(2))
	l.pos["dec3"] = l.add(domain.RegistrationStream(l.r[3]), day(3), domain.RegistrationRejected{RegistrationID: l.r[3], Reason: domain.RejectNotQualified})
	submit(4, "globex", "West", day(3))
	l.add("partner-acme", day(4), domain.PartnerUpdated{Partner: domain.Partner{ID: "acme", Tier: domain.TierPlatinum}})
	approve(4, day(5))
	submit(5, "acme", "Northeast", day(5))
	l.pos["dec5"] = l.add(domain.RegistrationStream(l.r[5]), day(5).Add(time.Minute), domain.RegistrationVerdictRecorded{RegistrationID: l.r[5], Attempt: 1, Verdict: domain.VerdictDuplicate})
	party := func(n int, partner string, claim uint64, proof bool) domain.Party {
		return domain.Party{Key: domain.PartyKeyRegistration(l.r[n]), Kind: domain.PartyPartner, PartnerID: partner, RegistrationID: l.r[n], ClaimPosition: claim, HasProof: proof}
	}
	l.pos["c1"] = l.add(domain.ConflictStream(l.c[1]), day(5), domain.ConflictOpened{ConflictID: l.c[1], Kind: domain.ConflictPartnerVsPartner, Level: 1,
		Account: domain.Account{Region: "Northeast"}, Parties: []domain.Party{party(5, "acme", l.pos["sub5"], false), party(1, "acme", l.pos["sub1"], true)}})
	l.add(domain.ConflictStream(l.c[1]), day(6), domain.ConflictEscalated{ConflictID: l.c[1], FromLevel: 1, ToLevel: 2})
	l.pos["c1d"] = l.add(domain.ConflictStream(l.c[1]), day(7), domain.ConflictDecided{ConflictID: l.c[1], Outcome: domain.OutcomeAward, Winner: domain.PartyKeyRegistration(l.r[1]),
		PolicyClause: "first-to-register 3.1", Level: 2, DecidedBy: "director"})
	l.pos["c2"] = l.add(domain.ConflictStream(l.c[2]), day(8), domain.ConflictOpened{ConflictID: l.c[2], Kind: domain.ConflictPartnerVsPartner, Level: 1,
		Account: domain.Account{Region: "West"}, Parties: []domain.Party{party(4, "globex", l.pos["sub4"], false), party(3, "globex", l.pos["sub3"], true)}})
	l.pos["c2d"] = l.add(domain.ConflictStream(l.c[2]), day(9), domain.ConflictDecided{ConflictID: l.c[2], Outcome: domain.OutcomeAward, Winner: domain.PartyKeyRegistration(l.r[4]),
		PolicyClause: "partner-first 4.2", Level: 1, DecidedBy: "manager", Overrode: true})
	won(1, day(10), usd("1000.00"))
	rate(1, "acme", day(10), 5)
	l.add(domain.RegistrationStream(l.r[6]), day(12), domain.RegistrationDrafted{RegistrationID: l.r[6], PartnerID: "acme"})
	won(4, day(20), domain.Money{Amount: decimal.RequireFromString("500"), Currency: "EUR"})
	rate(4, "globex", day(21), 4)
	rate(5, "acme", day(22), 2)
	submit(7, "acme", "Northeast", day(40))
	approve(7, day(41))
	l.pos["c3"] = l.add(domain.ConflictStream(l.c[3]), day(42), domain.ConflictOpened{ConflictID: l.c[3], Kind: domain.ConflictPartnerVsDirect, Level: 1,
		Account: domain.Account{Region: "Northeast"}, Parties: []domain.Party{party(7, "acme", l.pos["sub7"], false),
			{Key: "direct:x", Kind: domain.PartyDirect, ClaimPosition: 1}}})
	won(7, day(50), usd("750.5"))
	l.pos["exp2"] = l.add(domain.RegistrationStream(l.r[2]), day(91), domain.RegistrationExpired{RegistrationID: l.r[2]})
	return l
}

// mustAnalytics folds recs into a view on a new state database and
// commits it, as a follower would: the queries read what is committed.
func mustAnalytics(tb testing.TB, recs []domain.RecordedEvent) *projections.Analytics {
	tb.Helper()
	st, err := projections.OpenState(context.Background(), "", nil)
	require.NoError(tb, err)
	tb.Cleanup(func() { st.Close() })
	a := projections.NewAnalytics()
	require.NoError(tb, a.Load(context.Background(), st.DB()))
	for _, r := range recs {
		require.NoError(tb, a.Apply(r))
	}
	commitAnalytics(tb, st, a, uint64(len(recs)))
	return a
}

// commitAnalytics writes what a changed into st and tells a that every
// event below next is committed.
func commitAnalytics(tb testing.TB, st *projections.State, a *projections.Analytics, next uint64) {
	tb.Helper()
	w, err := a.Flush()
	require.NoError(tb, err)
	if w != nil {
		tx, err := st.DB().Begin()
		require.NoError(tb, err)
		require.NoError(tb, w(context.Background(), tx))
		require.NoError(tb, tx.Commit())
	}
	a.Committed(next)
}

// consistency and ratings are the view's answers, which must not fail.
func consistency(tb testing.TB, a *projections.Analytics, f projections.AnalyticsFilter) projections.Consistency {
	tb.Helper()
	c, err := a.Consistency(f)
	require.NoError(tb, err)
	return c
}

func ratings(tb testing.TB, a *projections.Analytics, f projections.AnalyticsFilter) []projections.Rating {
	tb.Helper()
	r, err := a.Ratings(f)
	require.NoError(tb, err)
	return r
}

// brief is what the table compares of a group's metrics.
type brief struct {
	Submitted, Decided, Approved, Auto, Rejected, Duplicates int
	Approval, Utilisation, Conversion, Expiry, Conflict      string // "n/d=value", value "-" when null
	ManualCount                                              int
	ManualMedian, ManualP90, AutoMedian                      time.Duration
	Ratings, RatingSum                                       int
	Satisfaction                                             string
	Won                                                      string
}

func ratioString(r projections.Ratio) string {
	v := "-"
	if r.Value != nil {
		v = r.Value.String()
	}
	return decimal.NewFromInt(int64(r.Numerator)).String() + "/" + decimal.NewFromInt(int64(r.Denominator)).String() + "=" + v
}

func briefOf(m projections.RegistrationMetrics) brief {
	b := brief{Submitted: m.Submitted, Decided: m.Decided, Approved: m.Approved, Auto: m.AutoApproved, Rejected: m.Rejected, Duplicates: m.Duplicates,
		Approval: ratioString(m.ApprovalRate), Utilisation: ratioString(m.Utilisation), Conversion: ratioString(m.Conversion),
		Expiry: ratioString(m.ExpiryRate), Conflict: ratioString(m.ConflictRate),
		ManualCount: m.TimeToApproval.Count, ManualMedian: m.TimeToApproval.Median, ManualP90: m.TimeToApproval.P90, AutoMedian: m.TimeToAutoApproval.Median,
		Ratings: m.Satisfaction.Count, RatingSum: m.Satisfaction.Sum, Satisfaction: "-"}
	if m.Satisfaction.Value != nil {
		b.Satisfaction = m.Satisfaction.Value.String()
	}
	for _, w := range m.WonValue {
		b.Won += w.String() + ";"
	}
	return b
}

func TestAnalytics_Registrations(t *testing.T) {
	l := newAnalyticsLedger(t)
	a := mustAnalytics(t, l.recs)
	all := brief{Submitted: 6, Decided: 6, Approved: 4, Auto: 1, Rejected: 1, Duplicates: 1,
		Approval: "4/6=0.6667", Utilisation: "3/4=0.75", Conversion: "3/6=0.5", Expiry: "1/4=0.25", Conflict: "5/6=0.8333",
		ManualCount: 3, ManualMedian: 24 * time.Hour, ManualP90: 48 * time.Hour, AutoMedian: time.Minute,
		Ratings: 3, RatingSum: 11, Satisfaction: "3.6667", Won: "500 EUR;1750.5 USD;"}
	empty := brief{Approval: "0/0=-", Utilisation: "0/0=-", Conversion: "0/0=-", Expiry: "0/0=-", Conflict: "0/0=-", Satisfaction: "-"}
	for _, c := range []struct {
		name   string
		filter projections.AnalyticsFilter
		want   brief
	}{
		{"Everything", projections.AnalyticsFilter{}, all},
		{"FirstFourDays", projections.AnalyticsFilter{From: day(0), To: day(4)}, brief{Submitted: 4, Decided: 4, Approved: 3, Auto: 1, Rejected: 1,
			Approval: "3/4=0.75", Utilisation: "2/3=0.6667", Conversion: "2/4=0.5", Expiry: "1/3=0.3333", Conflict: "3/4=0.75",
			ManualCount: 2, ManualMedian: 2 * time.Hour, ManualP90: 48 * time.Hour, AutoMedian: time.Minute,
			Ratings: 2, RatingSum: 9, Satisfaction: "4.5", Won: "500 EUR;1000 USD;"}},
		// To is excluded: R4 was submitted at day 3 exactly.
		{"ToExcluded", projections.AnalyticsFilter{From: day(0), To: day(3)}, brief{Submitted: 3, Decided: 3, Approved: 2, Auto: 1, Rejected: 1,
			Approval: "2/3=0.6667", Utilisation: "1/2=0.5", Conversion: "1/3=0.3333", Expiry: "1/2=0.5", Conflict: "2/3=0.6667",
			ManualCount: 1, ManualMedian: 2 * time.Hour, ManualP90: 2 * time.Hour, AutoMedian: time.Minute,
			Ratings: 1, RatingSum: 5, Satisfaction: "5", Won: "1000 USD;"}},
		{"EmptyPeriod", projections.AnalyticsFilter{From: day(400), To: day(500)}, empty},
		// Whole months (March, April) from the cohorts.
		{"WholeMonths", projections.AnalyticsFilter{From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)}, all},
		// A whole year from its cohorts.
		{"WholeYear", projections.AnalyticsFilter{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}, all},
		{"EmptyWholeMonths", projections.AnalyticsFilter{From: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)}, empty},
		// April from its cohort, the rest of March (from day 1) from the facts.
		{"MonthAndEdge", projections.AnalyticsFilter{From: day(1), To: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)}, brief{Submitted: 5, Decided: 5, Approved: 3, Auto: 1, Rejected: 1, Duplicates: 1,
			Approval: "3/5=0.6", Utilisation: "2/3=0.6667", Conversion: "2/5=0.4", Expiry: "1/3=0.3333", Conflict: "4/5=0.8",
			ManualCount: 2, ManualMedian: 24 * time.Hour, ManualP90: 48 * time.Hour, AutoMedian: time.Minute,
			Ratings: 2, RatingSum: 6, Satisfaction: "3", Won: "500 EUR;750.5 USD;"}},
		{"MonthAndEdgeOfAPartner", projections.AnalyticsFilter{From: day(1), To: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), PartnerID: "acme", Region: "northEAST"}, brief{Submitted: 3, Decided: 3, Approved: 2, Auto: 1, Duplicates: 1,
			Approval: "2/3=0.6667", Utilisation: "1/2=0.5", Conversion: "1/3=0.3333", Expiry: "1/2=0.5", Conflict: "2/3=0.6667",
			ManualCount: 1, ManualMedian: 24 * time.Hour, ManualP90: 24 * time.Hour, AutoMedian: time.Minute,
			Ratings: 1, RatingSum: 2, Satisfaction: "2", Won: "750.5 USD;"}},
		{"Partner", projections.AnalyticsFilter{PartnerID: "globex"}, brief{Submitted: 2, Decided: 2, Approved: 1, Rejected: 1,
			Approval: "1/2=0.5", Utilisation: "1/1=1", Conversion: "1/2=0.5", Expiry: "0/1=0", Conflict: "2/2=1",
			ManualCount: 1, ManualMedian: 48 * time.Hour, ManualP90: 48 * time.Hour, Ratings: 1, RatingSum: 4, Satisfaction: "4", Won: "500 EUR;"}},
		{"NoSuchPartner", projections.AnalyticsFilter{PartnerID: "initech"}, empty},
		// Region matches regardless of case (R2 says "northeast").
		{"Region", projections.AnalyticsFilter{Region: "NORTHEAST"}, brief{Submitted: 4, Decided: 4, Approved: 3, Auto: 1, Duplicates: 1,
			Approval: "3/4=0.75", Utilisation: "2/3=0.6667", Conversion: "2/4=0.5", Expiry: "1/3=0.3333", Conflict: "3/4=0.75",
			ManualCount: 2, ManualMedian: 2 * time.Hour, ManualP90: 24 * time.Hour, AutoMedian: time.Minute,
			Ratings: 2, RatingSum: 7, Satisfaction: "3.5", Won: "1750.5 USD;"}},
		// The tier at submission: acme was gold for R1 and R2 only.
		{"TierAtSubmission", projections.AnalyticsFilter{Tier: "gold"}, brief{Submitted: 2, Decided: 2, Approved: 2, Auto: 1,
			Approval: "2/2=1", Utilisation: "1/2=0.5", Conversion: "1/2=0.5", Expiry: "1/2=0.5", Conflict: "1/2=0.5",
			ManualCount: 1, ManualMedian: 2 * time.Hour, ManualP90: 2 * time.Hour, AutoMedian: time.Minute,
			Ratings: 1, RatingSum: 5, Satisfaction: "5", Won: "1000 USD;"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := a.Registrations(c.filter, nil)
			require.NoError(t, err)
			require.Equal(t, c.want, briefOf(got.Total))
			require.Empty(t, got.Groups)
		})
	}

	t.Run("GroupedByTier", func(t *testing.T) {
		got, err := a.Registrations(projections.AnalyticsFilter{}, []string{"tier"})
		require.NoError(t, err)
		var keys []string
		var counts []int
		for _, g := range got.Groups {
			keys = append(keys, g.Key["tier"])
			counts = append(counts, g.Submitted)
		}
		// Largest first, ties by key.
		require.Equal(t, []string{"gold", "platinum", "silver"}, keys)
		require.Equal(t, []int{2, 2, 2}, counts)
		require.Equal(t, all, briefOf(got.Total))
	})

	t.Run("Explain", func(t *testing.T) {
		got, err := a.Registrations(projections.AnalyticsFilter{Explain: true}, nil)
		require.NoError(t, err)
		m := got.Total
		require.Equal(t, []uint64{l.pos["sub1"], l.pos["sub2"], l.pos["sub3"], l.pos["sub4"], l.pos["sub5"], l.pos["sub7"]}, m.Positions)
		require.Equal(t, []uint64{l.pos["app1"], l.pos["app2"], l.pos["app4"], l.pos["app7"]}, m.ApprovalRate.Explain.Numerator)
		require.Equal(t, []uint64{l.pos["app1"], l.pos["app2"], l.pos["dec3"], l.pos["app4"], l.pos["dec5"], l.pos["app7"]}, m.ApprovalRate.Explain.Denominator)
		require.Equal(t, []uint64{l.pos["won1"], l.pos["won4"], l.pos["won7"]}, m.Utilisation.Explain.Numerator)
		require.Equal(t, []uint64{l.pos["exp2"]}, m.ExpiryRate.Explain.Numerator)
		require.Equal(t, []uint64{l.pos["rate1"], l.pos["rate4"], l.pos["rate5"]}, m.Satisfaction.Explain)
		require.Len(t, m.TimeToApproval.Explain, 3)
		require.Equal(t, projections.Span{ID: l.r[1], From: l.pos["sub1"], To: l.pos["app1"], Length: 2 * time.Hour, Seconds: 7200}, m.TimeToApproval.Explain[0])
		without, err := a.Registrations(projections.AnalyticsFilter{}, nil)
		require.NoError(t, err)
		require.Nil(t, without.Total.Positions)
		require.Nil(t, without.Total.ApprovalRate.Explain)
	})

	t.Run("BadGroup", func(t *testing.T) {
		_, err := a.Registrations(projections.AnalyticsFilter{}, []string{"colour"})
		require.Equal(t, domain.EINVALID, domain.ErrorCode(err))
	})
}

func TestAnalytics_Conflicts(t *testing.T) {
	l := newAnalyticsLedger(t)
	a := mustAnalytics(t, l.recs)

	got := a.Conflicts(projections.AnalyticsFilter{Explain: true})
	require.Equal(t, 3, got.Opened)
	require.Equal(t, 2, got.Decided)
	require.Equal(t, 1, got.Escalated)
	require.Equal(t, map[string]int{"award": 2}, got.Outcomes)
	require.Equal(t, []uint64{l.pos["c1"], l.pos["c2"], l.pos["c3"]}, got.Positions)
	require.Equal(t, 2, got.TimeToResolution.Count)
	require.Equal(t, domain.Day, got.TimeToResolution.Median)
	require.Equal(t, 2*domain.Day, got.TimeToResolution.P90)
	require.Len(t, got.Levels, domain.ConflictLevels)
	l1, l2, l3 := got.Levels[0], got.Levels[1], got.Levels[2]
	require.Equal(t, []int{1, 2, 1}, []int{l1.Level, l1.Opened, l1.Decided})
	require.Equal(t, domain.Day, l1.TimeToResolution.Median)
	require.Equal(t, []uint64{l.pos["c2"], l.pos["c3"]}, l1.Positions)
	require.Equal(t, []int{2, 1, 1}, []int{l2.Level, l2.Opened, l2.Decided})
	require.Equal(t, 2*domain.Day, l2.TimeToResolution.P90)
	require.Equal(t, projections.Span{ID: l.c[1], From: l.pos["c1"], To: l.pos["c1d"], Length: 2 * domain.Day, Seconds: 172800}, l2.TimeToResolution.Explain[0])
	require.Equal(t, []int{3, 0, 0}, []int{l3.Level, l3.Opened, l3.Decided})
	require.Zero(t, l3.TimeToResolution.Count)

	// A partner's conflicts are those it is a party to.
	globex := a.Conflicts(projections.AnalyticsFilter{PartnerID: "globex"})
	require.Equal(t, []int{1, 1}, []int{globex.Opened, globex.Decided})
	require.Equal(t, 2, a.Conflicts(projections.AnalyticsFilter{Region: "northeast"}).Opened)
	none := a.Conflicts(projections.AnalyticsFilter{From: day(100)})
	require.Equal(t, []int{0, 0, 0}, []int{none.Opened, none.Decided, none.TimeToResolution.Count})
	require.Len(t, none.Levels, domain.ConflictLevels)
}

func TestAnalytics_Consistency(t *testing.T) {
	l := newAnalyticsLedger(t)
	a := mustAnalytics(t, l.recs)
	got := consistency(t, a, projections.AnalyticsFilter{})
	require.Equal(t, 2, got.Decided)
	require.Equal(t, 1, got.Inconsistent)
	require.Len(t, got.Groups, 1)
	g := got.Groups[0]
	// Similar cases (the first claimant had proof, the later none) with
	// different results, side by side.
	require.Equal(t, projections.CaseFeatures{Kind: "partner_vs_partner", FirstClaimant: "partner", FirstHasProof: true, FirstContact: "unknown"}, g.Features)
	require.False(t, g.Consistent)
	require.Equal(t, map[string]int{projections.ResultFirstClaimant: 1, projections.ResultLaterClaimant: 1}, g.Results)
	require.Equal(t, []projections.DecidedCase{
		{ConflictID: l.c[1], Result: projections.ResultFirstClaimant, Clause: "first-to-register 3.1", Level: 2, DecidedBy: "director", Position: l.pos["c1d"]},
		{ConflictID: l.c[2], Result: projections.ResultLaterClaimant, Clause: "partner-first 4.2", Level: 1, DecidedBy: "manager", Overrode: true, Position: l.pos["c2d"]},
	}, g.Cases)
	require.Equal(t, []projections.ClauseUse{
		{Clause: "first-to-register 3.1", Cases: 1, Results: map[string]int{projections.ResultFirstClaimant: 1}},
		{Clause: "partner-first 4.2", Cases: 1, Results: map[string]int{projections.ResultLaterClaimant: 1}},
	}, got.Clauses)
	// Registration decisions: globex's two (silver, alike) went both ways.
	rc := got.Registrations
	require.Equal(t, 5, rc.Decided, "R5's duplicate verdict is the duplicate check's, not a decision compared here")
	require.Equal(t, 1, rc.Inconsistent)
	require.Len(t, rc.Groups, 3)
	require.Equal(t, projections.RegistrationFeatures{Tier: "silver"}, rc.Groups[0].Features)
	require.Equal(t, []projections.DecidedRegistration{
		{RegistrationID: l.r[3], PartnerID: "globex", Result: "rejected", Rule: "reviewer", Reason: string(domain.RejectNotQualified), Position: l.pos["dec3"]},
		{RegistrationID: l.r[4], PartnerID: "globex", Result: "approved", Rule: "reviewer", Position: l.pos["app4"]},
	}, rc.Groups[0].Decisions)
	require.Equal(t, projections.RegistrationFeatures{Tier: "gold"}, rc.Groups[1].Features)
	require.True(t, rc.Groups[1].Consistent)
	require.Equal(t, []projections.RuleUse{
		{Rule: "reviewer", Cases: 4, Results: map[string]int{"approved": 3, "rejected": 1}},
		{Rule: "auto_approval", Cases: 1, Results: map[string]int{"approved": 1}},
	}, rc.Rules)
	require.Equal(t, 1, consistency(t, a, projections.AnalyticsFilter{PartnerID: "acme", Tier: "platinum"}).Registrations.Decided)

	// Decided in the period: C1 on day 7 only.
	only := consistency(t, a, projections.AnalyticsFilter{To: day(8)})
	require.Equal(t, 0, only.Inconsistent)
	require.Len(t, only.Groups, 1)
	require.True(t, only.Groups[0].Consistent)
	require.Empty(t, consistency(t, a, projections.AnalyticsFilter{From: day(100)}).Groups)
	require.Empty(t, consistency(t, a, projections.AnalyticsFilter{From: day(100)}).Registrations.Groups)

	for _, c := range []struct {
		value domain.Money
		band  string
	}{{domain.Money{}, ""}, {usd("9999.99"), "USD <10k"}, {usd("10000"), "USD 10k-100k"}, {usd("150000"), "USD 100k-1M"}, {usd("20000000"), "USD >=10M"}} {
		require.Equal(t, c.band, projections.ValueBand(c.value), "%s", c.value)
	}
}

func TestAnalytics_TopPartners(t *testing.T) {
	l := newAnalyticsLedger(t)
	a := mustAnalytics(t, l.recs)
	march, april := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	got, err := a.TopPartners(projections.AnalyticsFilter{Explain: true}, 5, "month")
	require.NoError(t, err)
	require.Equal(t, []projections.PartnerTrend{
		{PartnerID: "acme", Submitted: 4, Change: -2, Buckets: []projections.TrendPoint{
			{Start: march, Submitted: 3, Positions: []uint64{l.pos["sub1"], l.pos["sub2"], l.pos["sub5"]}},
			{Start: april, Submitted: 1, Positions: []uint64{l.pos["sub7"]}}}},
		{PartnerID: "globex", Submitted: 2, Change: -2, Buckets: []projections.TrendPoint{
			{Start: march, Submitted: 2, Positions: []uint64{l.pos["sub3"], l.pos["sub4"]}}, {Start: april}}},
	}, got)

	top1, err := a.TopPartners(projections.AnalyticsFilter{From: day(0), To: day(7).Truncate(domain.Day)}, 1, "week")
	require.NoError(t, err)
	// t0 is a Monday: one week, acme 3 (R1, R2, R5) against globex 2.
	require.Equal(t, []projections.PartnerTrend{{PartnerID: "acme", Submitted: 3, Buckets: []projections.TrendPoint{{Start: day(0).Truncate(domain.Day), Submitted: 3}}}}, top1)

	q, err := a.TopPartners(projections.AnalyticsFilter{}, 0, "quarter")
	require.NoError(t, err)
	require.Len(t, q, 2)
	require.Len(t, q[0].Buckets, 2) // Q1 (March) and Q2 (April)

	empty, err := a.TopPartners(projections.AnalyticsFilter{From: day(400)}, 5, "month")
	require.NoError(t, err)
	require.Empty(t, empty)
	_, err = a.TopPartners(projections.AnalyticsFilter{}, 5, "fortnight")
	require.Equal(t, domain.EINVALID, domain.ErrorCode(err))
}

func TestAnalytics_Ratings(t *testing.T) {
	l := newAnalyticsLedger(t)
	a := mustAnalytics(t, l.recs)
	got := ratings(t, a, projections.AnalyticsFilter{From: day(15)})
	require.Equal(t, []projections.Rating{
		{RegistrationID: l.r[4], PartnerID: "globex", Score: 4, RatedAt: day(21), Position: l.pos["rate4"]},
		{RegistrationID: l.r[5], PartnerID: "acme", Score: 2, RatedAt: day(22), Position: l.pos["rate5"]},
	}, got)
	r1, ok, err := a.Rating(l.r[1])
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, projections.Rating{RegistrationID: l.r[1], PartnerID: "acme", Score: 5, RatedAt: day(10), Position: l.pos["rate1"]}, r1)
	_, ok, err = a.Rating(l.r[2])
	require.NoError(t, err)
	require.False(t, ok)
}

// The state written batch by batch and loaded back folds the rest of the
// ledger to the same figures as one fold of it all.
func TestAnalytics_LoadResumes(t *testing.T) {
	l := newAnalyticsLedger(t)
	whole := mustAnalytics(t, l.recs)
	for _, split := range []int{0, 1, 7, 20, len(l.recs) / 2, len(l.recs) - 1, len(l.recs)} {
		st, err := projections.OpenState(context.Background(), "", nil)
		require.NoError(t, err)
		first := projections.NewAnalytics()
		for _, r := range l.recs[:split] {
			require.NoError(t, first.Apply(r))
		}
		w, err := first.Flush()
		require.NoError(t, err)
		if w != nil {
			tx, err := st.DB().Begin()
			require.NoError(t, err)
			require.NoError(t, w(context.Background(), tx))
			require.NoError(t, tx.Commit())
		}
		resumed := projections.NewAnalytics()
		require.NoError(t, resumed.Load(context.Background(), st.DB()))
		resumed.Committed(uint64(split))
		for _, r := range l.recs {
			require.NoError(t, resumed.Apply(r)) // those below the checkpoint are skipped
		}
		commitAnalytics(t, st, resumed, uint64(len(l.recs)))
		f := projections.AnalyticsFilter{Explain: true}
		for _, groupBy := range [][]string{nil, {"partner", "region", "tier"}} {
			want, err := whole.Registrations(f, groupBy)
			require.NoError(t, err)
			got, err := resumed.Registrations(f, groupBy)
			require.NoError(t, err)
			require.Equal(t, want, got, "split at %d", split)
		}
		require.Equal(t, whole.Conflicts(f), resumed.Conflicts(f))
		require.Equal(t, consistency(t, whole, f), consistency(t, resumed, f))
		require.Equal(t, ratings(t, whole, f), ratings(t, resumed, f))
		st.Close()
	}
}

// As of every position of the ledger, the figures of the whole view asked
// with Before are exactly those of a view folded from the ledger up to
// there.
func TestAnalytics_AsOf(t *testing.T) {
	l := newAnalyticsLedger(t)
	whole := mustAnalytics(t, l.recs)
	for k := 1; k <= len(l.recs); k++ {
		then := mustAnalytics(t, l.recs[:k])
		now := projections.AnalyticsFilter{Explain: true}
		past := projections.AnalyticsFilter{Explain: true, Before: uint64(k)}
		for _, groupBy := range [][]string{nil, {"partner", "region", "tier"}} {
			want, err := then.Registrations(now, groupBy)
			require.NoError(t, err)
			got, err := whole.Registrations(past, groupBy)
			require.NoError(t, err)
			require.Equal(t, want, got, "registrations before %d", k)
		}
		require.Equal(t, then.Conflicts(now), whole.Conflicts(past), "conflicts before %d", k)
		require.Equal(t, consistency(t, then, now), consistency(t, whole, past), "consistency before %d", k)
		require.Equal(t, ratings(t, then, now), ratings(t, whole, past), "ratings before %d", k)
		wantTop, err := then.TopPartners(now, 0, "month")
		require.NoError(t, err)
		gotTop, err := whole.TopPartners(past, 0, "month")
		require.NoError(t, err)
		require.Equal(t, wantTop, gotTop, "top partners before %d", k)
	}
}

// The cohorts answer exactly what the facts answer (registration metrics
// and top partners): every period cut at days, month and year starts, every
// grouping and filter, summed from the
// cohorts (without explain and Before) and counted fact by fact (Before
// past the end of the ledger selects the facts, and sees every event).
func TestAnalytics_CohortsAgreeWithFacts(t *testing.T) {
	l := newAnalyticsLedger(t)
	a := mustAnalytics(t, l.recs)
	var bounds []time.Time
	for d := -2; d <= 95; d += 3 {
		bounds = append(bounds, day(d), day(d).Add(7*time.Hour))
	}
	for m := 2; m <= 7; m++ {
		bounds = append(bounds, time.Date(2026, time.Month(m), 1, 0, 0, 0, 0, time.UTC))
	}
	// Years: 2026 holds the whole ledger.
	bounds = append(bounds, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{})
	filters := []projections.AnalyticsFilter{{}, {PartnerID: "acme"}, {Region: "WEST"}, {Tier: "platinum"}}
	groupings := [][]string{nil, {"partner", "region", "tier"}, {"tier"}}
	n := 0
	for _, from := range bounds {
		for _, to := range bounds {
			if !from.IsZero() && !to.IsZero() && !from.Before(to) {
				continue
			}
			for _, f := range filters {
				f.From, f.To = from, to
				for _, g := range groupings {
					summed, err := a.Registrations(f, g)
					require.NoError(t, err)
					byFact := f
					byFact.Before = 1 << 62
					counted, err := a.Registrations(byFact, g)
					require.NoError(t, err)
					require.Equal(t, counted, summed, "%v to %v, %+v by %v", from, to, f, g)
					n++
				}
				for _, bucket := range projections.TrendBuckets {
					for _, limit := range []int{0, 1, 5} {
						summed, err := a.TopPartners(f, limit, bucket)
						require.NoError(t, err)
						byFact := f
						byFact.Before = 1 << 62
						counted, err := a.TopPartners(byFact, limit, bucket)
						require.NoError(t, err)
						require.Equal(t, counted, summed, "top %d partners by %s, %v to %v, %+v", limit, bucket, from, to, f)
					}
				}
			}
		}
	}
	require.Greater(t, n, 10000)
}

// With a cache of one fact, every event of another registration reads its
// fact back from the state database: committed batch by batch, the view
// answers what one fold of the ledger answers.
func TestAnalytics_EvictedFactsReadBack(t *testing.T) {
	l := newAnalyticsLedger(t)
	whole := mustAnalytics(t, l.recs)
	for _, per := range []int{1, 2, 5} {
		st, err := projections.OpenState(context.Background(), "", nil)
		require.NoError(t, err)
		a := projections.NewAnalytics()
		a.MaxCached = 1
		require.NoError(t, a.Load(context.Background(), st.DB()))
		for i, r := range l.recs {
			require.NoError(t, a.Apply(r))
			if (i+1)%per == 0 || i == len(l.recs)-1 {
				commitAnalytics(t, st, a, r.Position+1)
			}
		}
		for _, f := range []projections.AnalyticsFilter{{}, {Explain: true}, {From: day(1), To: day(60)}} {
			for _, g := range [][]string{nil, {"partner", "region", "tier"}} {
				want, err := whole.Registrations(f, g)
				require.NoError(t, err)
				got, err := a.Registrations(f, g)
				require.NoError(t, err)
				require.Equal(t, want, got, "%d a batch, %+v by %v", per, f, g)
			}
			require.Equal(t, consistency(t, whole, f), consistency(t, a, f))
			require.Equal(t, ratings(t, whole, f), ratings(t, a, f))
		}
		st.Close()
	}
}
