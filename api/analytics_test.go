package api_test

import (
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

func (h *harness) analytics(tb testing.TB, who, query string) api.RegistrationAnalytics {
	tb.Helper()
	var out api.RegistrationAnalytics
	h.mustDo(tb, who, http.MethodGet, "/v1/analytics/registrations"+query, nil, http.StatusOK, &out)
	return out
}

func requireRatio(tb testing.TB, num, den int, value string, r projections.Ratio, what string) {
	tb.Helper()
	require.Equal(tb, []int{num, den}, []int{r.Numerator, r.Denominator}, what)
	if value == "" {
		require.Nil(tb, r.Value, what)
		return
	}
	require.NotNil(tb, r.Value, what)
	require.True(tb, decimal.RequireFromString(value).Equal(*r.Value), "%s: %s, want %s", what, r.Value, value)
}

func durationOf(tb testing.TB, d *api.Duration) time.Duration {
	tb.Helper()
	require.NotNil(tb, d)
	return time.Duration(*d)
}

// A small program over real HTTP: acme's deal approved in 2 hours and won
// in dollars, its second approved in a day and won in euros, globex's
// rejected; both partners rate the process. Every figure is exact, the
// explained positions are the events in the registrations' histories, and
// a partner sees only its own.
func TestAnalytics_Scenario(t *testing.T) {
	h := newHarness(t)
	a1 := h.register(t, "acme", "Stark Industries", "stark.example", http.StatusCreated)
	h.clock.Advance(2 * time.Hour)
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+a1.ID.String()+"/approve", nil, http.StatusOK, nil)

	h.clock.Advance(domain.Day)
	g1 := h.register(t, "globex", "Wayne Enterprises", "wayne.example", http.StatusCreated)
	// Not decided yet: nothing to rate; refused, it appends nothing.
	head := h.eventCount()
	h.problem(t, "globex", http.MethodPost, "/v1/registrations/"+g1.ID.String()+"/rating", map[string]any{"score": 3}, http.StatusConflict, "conflict")
	require.Equal(t, head, h.eventCount())
	h.clock.Advance(2 * domain.Day)
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+g1.ID.String()+"/reject",
		map[string]string{"reason": "other", "explanation": "not a fit", "guidance": "try again"}, http.StatusOK, nil)

	d := h.details("Umbrella Corp", "umbrella.example")
	d["opportunity"].(map[string]any)["estimated_value"] = map[string]any{"amount": "80000", "currency": "EUR"}
	var a2 api.Registration
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations", map[string]any{"type": "opportunity", "details": d, "submit": true}, http.StatusCreated, &a2)
	h.clock.Advance(domain.Day)
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+a2.ID.String()+"/approve", nil, http.StatusOK, nil)

	h.clock.Advance(5 * domain.Day)
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations/"+a1.ID.String()+"/close", map[string]any{"outcome": "won", "final_value": map[string]string{"amount": "1000.10", "currency": "USD"}}, http.StatusOK, nil)
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations/"+a2.ID.String()+"/close", map[string]any{"outcome": "won", "final_value": map[string]string{"amount": "700.45", "currency": "EUR"}}, http.StatusOK, nil)

	// Ratings: the bad ones are refused and append nothing.
	head = h.eventCount()
	p := h.problem(t, "acme", http.MethodPost, "/v1/registrations/"+a1.ID.String()+"/rating", map[string]any{"score": 7}, http.StatusBadRequest, "invalid")
	require.Equal(t, "score", p.Errors[0].Field)
	h.problem(t, "manager", http.MethodPost, "/v1/registrations/"+a1.ID.String()+"/rating", map[string]any{"score": 4}, http.StatusForbidden, "forbidden")
	require.Equal(t, head, h.eventCount())
	var rating projections.Rating
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations/"+a1.ID.String()+"/rating", map[string]any{"score": 5, "comment": "fast and fair"}, http.StatusCreated, &rating)
	require.Equal(t, projections.Rating{RegistrationID: a1.ID, PartnerID: "acme", Score: 5, Comment: "fast and fair", RatedAt: h.clock.Now(), Position: head}, rating)
	h.problem(t, "acme", http.MethodPost, "/v1/registrations/"+a1.ID.String()+"/rating", map[string]any{"score": 1}, http.StatusConflict, "conflict")
	h.mustDo(t, "globex", http.MethodPost, "/v1/registrations/"+g1.ID.String()+"/rating", map[string]any{"score": 2, "comment": "no reason given"}, http.StatusCreated, nil)

	t.Run("Program", func(t *testing.T) {
		for _, who := range []string{"manager", "auditor", "executive"} {
			m := h.analytics(t, who, "").Total
			require.Equal(t, []int{3, 3, 2, 0, 1}, []int{m.Submitted, m.Decided, m.Approved, m.AutoApproved, m.Rejected}, who)
			requireRatio(t, 2, 3, "0.6667", m.ApprovalRate, "approval rate")
			requireRatio(t, 2, 2, "1", m.Utilisation, "protection utilisation")
			requireRatio(t, 2, 3, "0.6667", m.Conversion, "conversion")
			requireRatio(t, 0, 2, "0", m.ExpiryRate, "expiry rate")
			require.Equal(t, 2, m.TimeToApproval.Count)
			require.Equal(t, 2*time.Hour, durationOf(t, m.TimeToApproval.Median))
			require.Equal(t, domain.Day, durationOf(t, m.TimeToApproval.P90))
			require.Equal(t, int64(7200), *m.TimeToApproval.MedianSeconds)
			require.Zero(t, m.TimeToAutoApproval.Count)
			require.Nil(t, m.TimeToAutoApproval.Median)
			require.Equal(t, []int{2, 7}, []int{m.Satisfaction.Count, m.Satisfaction.Sum})
			require.True(t, decimal.RequireFromString("3.5").Equal(*m.Satisfaction.Value))
			require.Len(t, m.WonValue, 2)
			requireAmount(t, "700.45", "EUR", m.WonValue[0], "euros won")
			requireAmount(t, "1000.10", "USD", m.WonValue[1], "dollars won")
		}
		h.problem(t, "sales", http.MethodGet, "/v1/analytics/registrations", nil, http.StatusForbidden, "forbidden")
	})

	t.Run("Periods", func(t *testing.T) {
		// From the day after a1: globex's and a2.
		m := h.analytics(t, "manager", "?from="+t0.Add(domain.Day).Format(time.RFC3339)).Total
		require.Equal(t, []int{2, 1, 1}, []int{m.Submitted, m.Approved, m.Rejected})
		// To excluded: a1's submission at t0 exactly is out of [.., t0).
		empty := h.analytics(t, "manager", "?to="+t0.Format(time.RFC3339)).Total
		require.Zero(t, empty.Submitted)
		requireRatio(t, 0, 0, "", empty.ApprovalRate, "nothing decided")
		require.Nil(t, empty.Satisfaction.Value)
		require.Empty(t, empty.WonValue)
		p := h.problem(t, "manager", http.MethodGet, "/v1/analytics/registrations?from=yesterday&to=2026-01-01T00:00:00Z&group_by=colour&explain=maybe", nil, http.StatusBadRequest, "invalid")
		var fields []string
		for _, e := range p.Errors {
			fields = append(fields, e.Field)
		}
		require.ElementsMatch(t, []string{"from", "group_by", "explain"}, fields)
	})

	t.Run("Grouped", func(t *testing.T) {
		got := h.analytics(t, "manager", "?group_by=partner,tier")
		require.Equal(t, []string{"partner", "tier"}, got.GroupBy)
		require.Len(t, got.Groups, 2)
		require.Equal(t, map[string]string{"partner": "acme", "tier": "gold"}, got.Groups[0].Key)
		require.Equal(t, 2, got.Groups[0].Submitted)
		require.Equal(t, map[string]string{"partner": "globex", "tier": "silver"}, got.Groups[1].Key)
		requireRatio(t, 0, 1, "0", got.Groups[1].ApprovalRate, "globex")
		require.Equal(t, 1, h.analytics(t, "manager", "?tier=silver").Total.Submitted)
		require.Equal(t, 3, h.analytics(t, "manager", "?region=NORTHEAST").Total.Submitted)
	})

	t.Run("Explain", func(t *testing.T) {
		m := h.analytics(t, "auditor", "?explain=true").Total
		// Each position is the event in the registration's own history.
		approvals := []uint64{historyEntry(t, h.get(t, "auditor", a1.ID), "RegistrationApproved").Position,
			historyEntry(t, h.get(t, "auditor", a2.ID), "RegistrationApproved").Position}
		rejection := historyEntry(t, h.get(t, "auditor", g1.ID), "RegistrationRejected").Position
		require.Equal(t, approvals, m.ApprovalRate.Explain.Numerator)
		want := append(slices.Clone(approvals), rejection)
		slices.Sort(want)
		require.Equal(t, want, m.ApprovalRate.Explain.Denominator)
		require.Equal(t, []uint64{historyEntry(t, h.get(t, "auditor", a1.ID), "RegistrationSubmitted").Position,
			historyEntry(t, h.get(t, "auditor", g1.ID), "RegistrationSubmitted").Position,
			historyEntry(t, h.get(t, "auditor", a2.ID), "RegistrationSubmitted").Position}, m.Positions)
		require.Len(t, m.TimeToApproval.Explain, 2)
		require.Equal(t, a1.ID, m.TimeToApproval.Explain[0].ID)
		require.Equal(t, approvals[0], m.TimeToApproval.Explain[0].To)
		require.Equal(t, int64(7200), m.TimeToApproval.Explain[0].Seconds)
		require.Contains(t, m.Satisfaction.Explain, rating.Position)
		require.Nil(t, h.analytics(t, "auditor", "").Total.ApprovalRate.Explain, "no explanation unless asked")
	})

	t.Run("PartnerSeesOnlyItsOwn", func(t *testing.T) {
		m := h.analytics(t, "acme", "").Total
		require.Equal(t, []int{2, 2}, []int{m.Submitted, m.Approved})
		_, theirs, _ := h.do(t, "acme", http.MethodGet, "/v1/analytics/registrations?partner=globex&explain=true", nil)
		_, nobody, _ := h.do(t, "acme", http.MethodGet, "/v1/analytics/registrations?partner=initech&explain=true", nil)
		require.Equal(t, string(nobody), string(theirs), "another partner's figures answer as a partner with none")
		require.Zero(t, h.analytics(t, "acme", "?partner=globex").Total.Submitted)
		for _, path := range []string{"/v1/analytics/conflicts", "/v1/analytics/consistency", "/v1/analytics/top-partners", "/v1/analytics/ratings"} {
			_, theirs, _ := h.do(t, "acme", http.MethodGet, path+"?partner=globex", nil)
			_, nobody, _ := h.do(t, "acme", http.MethodGet, path+"?partner=initech", nil)
			require.Equal(t, string(nobody), string(theirs), path)
		}
		var ratings api.Ratings
		h.mustDo(t, "globex", http.MethodGet, "/v1/analytics/ratings", nil, http.StatusOK, &ratings)
		require.Len(t, ratings.Ratings, 1)
		require.Equal(t, "no reason given", ratings.Ratings[0].Comment)
		var top api.TopPartners
		h.mustDo(t, "globex", http.MethodGet, "/v1/analytics/top-partners", nil, http.StatusOK, &top)
		require.Len(t, top.Partners, 1)
		require.Equal(t, "globex", top.Partners[0].PartnerID)
	})

	t.Run("Consistency", func(t *testing.T) {
		var report api.ConsistencyReport
		h.mustDo(t, "auditor", http.MethodGet, "/v1/analytics/consistency", nil, http.StatusOK, &report)
		rc := report.Registrations
		require.Equal(t, 3, rc.Decided)
		// acme's two gold USD and EUR deals are not alike (value bands);
		// each group holds one decision.
		require.Len(t, rc.Groups, 3)
		require.Zero(t, rc.Inconsistent)
		require.Equal(t, []projections.RuleUse{{Rule: "reviewer", Cases: 3, Results: map[string]int{"approved": 2, "rejected": 1}}}, rc.Rules)
		var mine api.ConsistencyReport
		h.mustDo(t, "globex", http.MethodGet, "/v1/analytics/consistency", nil, http.StatusOK, &mine)
		require.Equal(t, 1, mine.Registrations.Decided)
		require.Equal(t, "globex", mine.Registrations.Groups[0].Decisions[0].PartnerID)
	})

	t.Run("TopPartners", func(t *testing.T) {
		var top api.TopPartners
		h.mustDo(t, "manager", http.MethodGet, "/v1/analytics/top-partners?bucket=week&limit=1", nil, http.StatusOK, &top)
		require.Equal(t, "week", top.Bucket)
		require.Len(t, top.Partners, 1)
		require.Equal(t, "acme", top.Partners[0].PartnerID)
		require.Equal(t, 2, top.Partners[0].Submitted)
		require.Equal(t, []projections.TrendPoint{{Start: t0.Truncate(domain.Day), Submitted: 2}}, top.Partners[0].Buckets)
		h.problem(t, "manager", http.MethodGet, "/v1/analytics/top-partners?bucket=fortnight&limit=0", nil, http.StatusBadRequest, "invalid")
	})
}

// A conflict between a direct deal and acme's registration, decided by the
// manager: counted by level with its time to resolution, and listed in
// the consistency report with its clause.
func TestAnalytics_Conflicts(t *testing.T) {
	h := newHarness(t)
	h.recordDirect(t, "Empresa XYZ", "xyz.example", t0.Add(-30*domain.Day))
	h.clock.Advance(time.Hour)
	h.register(t, "acme", "Empresa XYZ S.A.", "xyz.example", http.StatusCreated)
	c := h.onlyConflict(t)
	h.clock.Advance(36 * time.Hour)
	require.NotNil(t, c.Recommendation)
	h.mustDo(t, "manager", http.MethodPost, "/v1/conflicts/"+c.ID.String()+"/decide", map[string]any{"outcome": "award",
		"winner": c.Recommendation.Winner, "rationale": "the direct deal came first", "policy_clause": c.Recommendation.Clause}, http.StatusOK, nil)

	var got api.ConflictAnalytics
	h.mustDo(t, "manager", http.MethodGet, "/v1/analytics/conflicts?explain=true", nil, http.StatusOK, &got)
	require.Equal(t, []int{1, 1, 0}, []int{got.Opened, got.Decided, got.Escalated})
	require.Equal(t, map[string]int{"award": 1}, got.Outcomes)
	require.Equal(t, 36*time.Hour, durationOf(t, got.TimeToResolution.Median))
	require.Equal(t, int64(36*3600), *got.TimeToResolution.P90Seconds)
	require.Equal(t, []uint64{c.Position}, got.Positions)
	require.Len(t, got.Levels, domain.ConflictLevels)
	require.Equal(t, []int{1, 1, 1}, []int{got.Levels[0].Level, got.Levels[0].Opened, got.Levels[0].Decided})
	require.Zero(t, got.Levels[1].Opened)
	require.Nil(t, got.Levels[1].TimeToResolution.Median)

	// The registration was party to a conflict, and lost it: the conflict
	// rate counts it, and the loss is its decision.
	m := h.analytics(t, "manager", "").Total
	requireRatio(t, 1, 1, "1", m.ConflictRate, "conflict rate")
	require.Equal(t, []int{1, 1}, []int{m.Decided, m.Rejected})

	var report api.ConsistencyReport
	h.mustDo(t, "auditor", http.MethodGet, "/v1/analytics/consistency", nil, http.StatusOK, &report)
	require.Equal(t, 1, report.Decided)
	require.Equal(t, 0, report.Inconsistent)
	require.Len(t, report.Groups, 1)
	require.True(t, report.Groups[0].Consistent)
	require.Equal(t, "partner_vs_direct", report.Groups[0].Features.Kind)
	require.Equal(t, c.Recommendation.Clause, report.Groups[0].Cases[0].Clause)
	require.Equal(t, map[string]int{projections.ResultFirstClaimant: 1}, report.Groups[0].Results, "the direct deal claimed first and won")
	require.Equal(t, []projections.ClauseUse{{Clause: c.Recommendation.Clause, Cases: 1, Results: report.Groups[0].Results}}, report.Clauses)

	// globex is no party: it sees no conflict.
	var theirs api.ConflictAnalytics
	h.mustDo(t, "globex", http.MethodGet, "/v1/analytics/conflicts", nil, http.StatusOK, &theirs)
	require.Zero(t, theirs.Opened)
	var mine api.ConflictAnalytics
	h.mustDo(t, "acme", http.MethodGet, "/v1/analytics/conflicts", nil, http.StatusOK, &mine)
	require.Equal(t, 1, mine.Opened)
}

// Auto-approvals are timed apart from reviewers' approvals: three approved
// by the manager an hour after submission build acme's track record, the
// fourth is approved at once.
func TestAnalytics_AutoApprovalsApart(t *testing.T) {
	h := newHarness(t)
	h.automationPolicy(t)
	var track []api.Registration
	for _, c := range []string{"Alfa", "Beta", "Gamma"} {
		r := h.submit(t, "acme", withProof(h.details(c+" SA", c+".example")))
		h.clock.Advance(time.Hour)
		h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+r.ID.String()+"/approve", nil, http.StatusOK, nil)
		track = append(track, r)
	}
	h.clock.Advance(domain.Day)
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations/"+track[0].ID.String()+"/close",
		map[string]any{"outcome": "won", "final_value": map[string]string{"amount": "140000", "currency": "USD"}}, http.StatusOK, nil)
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations/"+track[1].ID.String()+"/close",
		map[string]any{"outcome": "lost", "reason": "Budget cut"}, http.StatusOK, nil)
	h.clock.Advance(time.Hour)
	auto := h.submit(t, "acme", withProof(h.details("Empresa XYZ", "xyz.example")))
	require.Equal(t, domain.StatusActive, auto.Status)

	m := h.analytics(t, "manager", "?explain=true").Total
	require.Equal(t, []int{4, 4, 1}, []int{m.Submitted, m.Approved, m.AutoApproved})
	require.Equal(t, 3, m.TimeToApproval.Count)
	require.Equal(t, time.Hour, durationOf(t, m.TimeToApproval.Median))
	require.Equal(t, time.Hour, durationOf(t, m.TimeToApproval.P90))
	require.Equal(t, 1, m.TimeToAutoApproval.Count)
	require.Equal(t, auto.ID, m.TimeToAutoApproval.Explain[0].ID)
	require.Equal(t, historyEntry(t, h.get(t, "manager", auto.ID), "RegistrationApproved").Position, m.TimeToAutoApproval.Explain[0].To)
	requireRatio(t, 1, 4, "0.25", m.Utilisation, "one of four won")
}

// Time travel: as of a past time or position the figures are those the
// view answered then.
func TestAnalytics_AsOf(t *testing.T) {
	h := newHarness(t)
	a := h.register(t, "acme", "Stark Industries", "stark.example", http.StatusCreated)
	h.clock.Advance(time.Hour)
	then := h.analytics(t, "manager", "")
	mark := h.clock.Now()
	thenPos := h.eventCount() - 1
	h.clock.Advance(time.Hour)
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+a.ID.String()+"/approve", nil, http.StatusOK, nil)
	h.register(t, "globex", "Wayne Enterprises", "wayne.example", http.StatusCreated)
	now := h.analytics(t, "manager", "")
	require.Equal(t, []int{2, 1}, []int{now.Total.Submitted, now.Total.Approved})

	for _, q := range []string{"?as_of=" + mark.Format(time.RFC3339Nano), "?position=" + strconv.FormatUint(thenPos, 10)} {
		past := h.analytics(t, "manager", q)
		require.Equal(t, then.Total, past.Total, q)
		require.Equal(t, []int{1, 0}, []int{past.Total.Submitted, past.Total.Approved}, q)
	}
	before := h.analytics(t, "manager", "?as_of="+t0.Add(-time.Hour).Format(time.RFC3339))
	require.Zero(t, before.Total.Submitted)
	p := h.problem(t, "manager", http.MethodGet, "/v1/analytics/conflicts?as_of=yesterday&position=x", nil, http.StatusBadRequest, "invalid")
	require.Contains(t, fieldsOf(p), "as_of")
}
