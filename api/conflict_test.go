package api_test

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// recordDirect records a direct-sales opportunity as the CRM integration.
func (h *harness) recordDirect(tb testing.TB, company, site string, firstContact time.Time) projections.DirectView {
	tb.Helper()
	var v projections.DirectView
	h.mustDo(tb, "sales", http.MethodPost, "/v1/direct-opportunities", map[string]any{
		"account":            map[string]any{"company_name": company, "domain": site, "country": "MX"},
		"product_lines":      []string{"HR Management"},
		"estimated_value":    map[string]any{"amount": "90000", "currency": "USD"},
		"buying_stage":       "discovery",
		"first_contact_date": firstContact.Format(time.RFC3339),
		"owner":              "carlos@vendor.example",
	}, http.StatusCreated, &v)
	return v
}

func (h *harness) conflict(tb testing.TB, who string, id uuid.UUID) projections.ConflictView {
	tb.Helper()
	var v projections.ConflictView
	h.mustDo(tb, who, http.MethodGet, "/v1/conflicts/"+id.String(), nil, http.StatusOK, &v)
	return v
}

// onlyConflict returns the one conflict in the queue.
func (h *harness) onlyConflict(tb testing.TB) projections.ConflictView {
	tb.Helper()
	var q struct{ Items []projections.ConflictView }
	h.mustDo(tb, "manager", http.MethodGet, "/v1/conflicts", nil, http.StatusOK, &q)
	require.Len(tb, q.Items, 1)
	return h.conflict(tb, "manager", q.Items[0].ID)
}

// The seed's third story: the opportunity is already in the direct-sales
// pipeline. The partner's submission becomes a possible duplicate and a
// partner-vs-direct case opens by itself; the direct deal was first, so the
// policy recommends it, and awarding it rejects the partner's registration.
func TestConflict_PartnerVsDirectPipeline(t *testing.T) {
	h := newHarness(t)
	h.problem(t, "acme", http.MethodGet, "/v1/direct-opportunities", nil, http.StatusForbidden, domain.EFORBIDDEN)
	d := h.recordDirect(t, "Empresa XYZ", "xyz.example", t0.Add(-30*domain.Day))

	h.clock.Advance(time.Hour)
	r := h.register(t, "acme", "Empresa XYZ S.A.", "xyz.example", http.StatusCreated)
	require.Equal(t, domain.StatusPossibleDuplicate, r.Status)
	require.NotContains(t, r.Notice, "direct")
	staff := h.get(t, "manager", r.ID)
	require.Equal(t, []uuid.UUID{d.ID}, staff.Finding.DirectMatches)
	require.NotEmpty(t, staff.Finding.Explanations, "reviewers see why it matched")

	c := h.onlyConflict(t)
	require.Equal(t, domain.ConflictPartnerVsDirect, c.Kind)
	require.Equal(t, 1, c.Level)
	require.Len(t, c.Parties, 2)
	require.NotNil(t, c.Recommendation)
	require.Equal(t, domain.PartyKeyDirect(d.ID), c.Recommendation.Winner)

	// The partner sees its own side only.
	own := h.conflict(t, "acme", c.ID)
	require.Len(t, own.Parties, 1)
	require.Equal(t, "acme", own.Parties[0].PartnerID)
	require.Nil(t, own.Recommendation)
	h.problem(t, "globex", http.MethodGet, "/v1/conflicts/"+c.ID.String(), nil, http.StatusNotFound, domain.ENOTFOUND)

	h.mustDo(t, "manager", http.MethodPost, "/v1/conflicts/"+c.ID.String()+"/decide", map[string]any{
		"outcome": "award", "winner": domain.PartyKeyDirect(d.ID),
		"rationale": "The vendor's account team met the CFO a month before the partner's first contact.", "policy_clause": "first-to-register",
	}, http.StatusOK, nil)
	got := h.get(t, "acme", r.ID)
	require.Equal(t, domain.StatusRejected, got.Status)
	require.Equal(t, domain.RejectDuplicateRegistration, got.RejectReason)
	var dv projections.DirectView
	h.mustDo(t, "sales", http.MethodGet, "/v1/direct-opportunities/"+d.ID.String(), nil, http.StatusOK, &dv)
	require.Equal(t, domain.DirectOpen, dv.Status)
}

// Partner-first: a partner that registered first with documented proof
// wins against a direct deal recorded later, unless the direct relationship
// demonstrably predates the partner's.
func TestConflict_PartnerFirst(t *testing.T) {
	for _, tc := range []struct {
		name        string
		directSince time.Duration // direct first contact relative to t0 (the partner's is t0-10d)
		wantPartner bool
		wantClause  string
	}{
		{"partner registered first with proof", -5 * domain.Day, true, "partner-first"},
		{"direct relationship predates the partner's", -40 * domain.Day, false, "prior-direct-relationship"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			det := h.details("Initrode", "initrode.example")
			det["proof"] = []map[string]any{{"kind": "bant", "answers": []map[string]string{{"question": "Budget", "answer": "Approved"}}}}
			var r api.Registration
			h.mustDo(t, "acme", http.MethodPost, "/v1/registrations", map[string]any{"type": "opportunity", "details": det, "submit": true}, http.StatusCreated, &r)
			require.Equal(t, domain.StatusCleared, r.Status)
			h.clock.Advance(domain.Day)
			d := h.recordDirect(t, "Initrode", "initrode.example", t0.Add(tc.directSince))

			var c projections.ConflictView
			h.problem(t, "acme", http.MethodPost, "/v1/conflicts", map[string]any{"registrations": []uuid.UUID{r.ID}, "direct_opportunities": []uuid.UUID{d.ID}, "reason": "x"}, http.StatusForbidden, domain.EFORBIDDEN)
			h.mustDo(t, "manager", http.MethodPost, "/v1/conflicts", map[string]any{
				"registrations": []uuid.UUID{r.ID}, "direct_opportunities": []uuid.UUID{d.ID}, "reason": "The CRM shows the same deal",
			}, http.StatusCreated, &c)
			require.Equal(t, domain.ConflictPartnerVsDirect, c.Kind)
			require.Equal(t, tc.wantClause, c.Recommendation.Clause)
			partnerKey, directKey := domain.PartyKeyRegistration(r.ID), domain.PartyKeyDirect(d.ID)
			winner := directKey
			if tc.wantPartner {
				winner = partnerKey
			}
			require.Equal(t, winner, c.Recommendation.Winner)

			// Going against the policy default is not a level-1 decision.
			loser := partnerKey
			if winner == partnerKey {
				loser = directKey
			}
			h.problem(t, "manager", http.MethodPost, "/v1/conflicts/"+c.ID.String()+"/decide", map[string]any{
				"outcome": "award", "winner": loser, "rationale": "r", "policy_clause": "override",
			}, http.StatusConflict, domain.ECONFLICT)
			h.mustDo(t, "manager", http.MethodPost, "/v1/conflicts/"+c.ID.String()+"/decide", map[string]any{
				"outcome": "award", "winner": winner, "rationale": "Policy default applies.", "policy_clause": tc.wantClause,
			}, http.StatusOK, nil)
			got := h.get(t, "manager", r.ID)
			var dv projections.DirectView
			h.mustDo(t, "manager", http.MethodGet, "/v1/direct-opportunities/"+d.ID.String(), nil, http.StatusOK, &dv)
			if tc.wantPartner {
				require.Equal(t, domain.StatusActive, got.Status)
				require.Equal(t, domain.DirectCeded, dv.Status)
			} else {
				require.Equal(t, domain.StatusRejected, got.Status)
				require.Equal(t, domain.DirectOpen, dv.Status)
			}
		})
	}
}

// A partner-vs-partner case in the uncertain band: evidence, escalation to
// levels 2 and 3 with role checks at each level, and the three outcomes.
func TestConflict_PartnerVsPartnerOutcomes(t *testing.T) {
	for _, outcome := range []string{"award", "co_register", "reject_all"} {
		t.Run(outcome, func(t *testing.T) {
			h := newHarness(t)
			first := h.register(t, "acme", "Adventure Works Cycles", "", http.StatusCreated)
			h.clock.Advance(time.Hour)
			second := h.register(t, "globex", "Adventure Works", "", http.StatusCreated)
			require.Equal(t, domain.StatusPossibleDuplicate, second.Status, "an uncertain match goes to the desk")
			c := h.onlyConflict(t)
			require.Equal(t, domain.ConflictPartnerVsPartner, c.Kind)
			a, b := domain.PartyKeyRegistration(first.ID), domain.PartyKeyRegistration(second.ID)
			path := "/v1/conflicts/" + c.ID.String()

			h.mustDo(t, "manager", http.MethodPost, path+"/evidence-requests", map[string]any{"party_key": b, "request": "Send the meeting confirmation."}, http.StatusOK, nil)
			h.problem(t, "acme", http.MethodPost, path+"/evidence", map[string]any{"party_key": b, "statement": "not mine"}, http.StatusNotFound, domain.ENOTFOUND)
			h.mustDo(t, "globex", http.MethodPost, path+"/evidence", map[string]any{
				"statement": "We ran the discovery workshop in January.", "first_contact": t0.Add(-60 * domain.Day),
				"timeline": []map[string]any{{"kind": "workshop", "date": t0.Add(-50 * domain.Day)}},
			}, http.StatusOK, nil)
			mine := h.conflict(t, "globex", c.ID)
			require.Len(t, mine.Evidence, 1)
			require.Len(t, mine.Requests, 1)
			require.Empty(t, h.conflict(t, "acme", c.ID).Evidence, "a partner never sees the other side's evidence")

			// Level 1 → 2 → 3; each level decides only with its role.
			h.problem(t, "acme", http.MethodPost, path+"/escalate", map[string]any{"reason": "x"}, http.StatusForbidden, domain.EFORBIDDEN)
			h.mustDo(t, "manager", http.MethodPost, path+"/escalate", map[string]any{"reason": "Both parties show real work; strategic account."}, http.StatusOK, nil)
			require.Equal(t, 2, h.conflict(t, "manager", c.ID).Level)
			h.problem(t, "manager", http.MethodPost, path+"/decide", map[string]any{"outcome": "reject_all", "rationale": "r", "policy_clause": "c"}, http.StatusForbidden, domain.EFORBIDDEN)
			h.mustDo(t, "director", http.MethodPost, path+"/escalate", map[string]any{"reason": "Executive sponsor involved."}, http.StatusOK, nil)
			l3 := h.conflict(t, "manager", c.ID)
			require.Equal(t, 3, l3.Level)
			require.True(t, l3.DueAt.After(h.clock.Now()))
			h.problem(t, "director", http.MethodPost, path+"/decide", map[string]any{"outcome": "reject_all", "rationale": "r", "policy_clause": "c"}, http.StatusForbidden, domain.EFORBIDDEN)
			h.problem(t, "admin", http.MethodPost, path+"/decide", map[string]any{"outcome": "reject_all", "rationale": "r", "policy_clause": "c"}, http.StatusForbidden, domain.EFORBIDDEN)

			decision := map[string]any{"outcome": outcome, "rationale": "Decided on the evidence.", "policy_clause": "conflicts 6.3"}
			switch outcome {
			case "award":
				decision["winner"] = b
			case "co_register":
				decision["shares"] = []map[string]any{
					{"party_key": a, "percent": "60", "responsibilities": "Licences and first-line support"},
					{"party_key": b, "percent": "40", "responsibilities": "Implementation services"},
				}
				bad := map[string]any{"outcome": outcome, "rationale": "r", "policy_clause": "c", "shares": []map[string]any{
					{"party_key": a, "percent": "60", "responsibilities": "x"}, {"party_key": b, "percent": "39.99", "responsibilities": "y"}}}
				h.problem(t, "executive", http.MethodPost, path+"/decide", bad, http.StatusBadRequest, domain.EINVALID)
			}
			h.mustDo(t, "executive", http.MethodPost, path+"/decide", decision, http.StatusOK, nil)
			h.problem(t, "executive", http.MethodPost, path+"/decide", decision, http.StatusConflict, domain.ECONFLICT)

			ra, rb := h.get(t, "manager", first.ID), h.get(t, "manager", second.ID)
			switch outcome {
			case "award":
				require.Equal(t, domain.StatusRejected, ra.Status)
				require.Equal(t, domain.StatusActive, rb.Status)
			case "co_register":
				require.Equal(t, domain.StatusActive, ra.Status)
				require.Equal(t, domain.StatusActive, rb.Status)
				e := historyEntry(t, rb, "RegistrationConflictDecided")
				require.Contains(t, string(e.Data), `"share_percent":"40"`)
			case "reject_all":
				require.Equal(t, domain.StatusRejected, ra.Status)
				require.Equal(t, domain.StatusRejected, rb.Status)
			}
			// Replaying the ledger reproduces every verdict and decision: a
			// restarted service decides the same and appends nothing, and
			// its projections show the same case.
			head := h.eventCount()
			again := app.New(app.Config{Store: h.store, Clock: h.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			require.NoError(t, again.Start(t.Context(), false))
			again.Stop()
			require.Equal(t, head, h.eventCount())
			replayed, ok := again.Conflicts.Get(c.ID)
			require.True(t, ok)
			live := h.conflict(t, "manager", c.ID)
			require.Equal(t, live.Decision, replayed.Decision)
			require.Equal(t, live.Level, replayed.Level)

			// The losing partner learns the outcome, not who won.
			if outcome == "award" {
				lost := h.conflict(t, "acme", c.ID)
				require.Empty(t, lost.Decision.Winner)
				raw := h.mustDo(t, "acme", http.MethodGet, path, nil, http.StatusOK, nil)
				require.NotContains(t, string(raw), "globex")
				require.False(t, strings.Contains(string(raw), second.ID.String()))
			}
		})
	}
}

// Reviewers teach the matcher: an alias makes a later submission under the
// other name a duplicate; a "not the same" decision frees it; a subsidiary
// falls under its headquarters' named account.
func TestAccountsThatLearn(t *testing.T) {
	h := newHarness(t)
	first := h.register(t, "acme", "Industria de Diseño Textil", "", http.StatusCreated)
	h.problem(t, "acme", http.MethodPost, "/v1/accounts/decisions", map[string]any{"a": "x", "b": "y", "same": true}, http.StatusForbidden, domain.EFORBIDDEN)
	h.mustDo(t, "manager", http.MethodPost, "/v1/accounts/decisions", map[string]any{
		"a": "Zeta Moda Global", "b": "Industria de Diseño Textil", "same": true, "note": "Zeta Moda is the group's trading name",
	}, http.StatusCreated, nil)
	later := h.register(t, "globex", "Zeta Moda Global", "", http.StatusCreated)
	require.NotEqual(t, domain.StatusCleared, later.Status)
	require.Equal(t, first.ID, h.get(t, "manager", later.ID).Finding.Matches[0])

	var named api.Registration
	det := h.details("Grupo Bimbo", "grupobimbo.example")
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations", map[string]any{"type": "named_account", "details": det, "submit": true}, http.StatusCreated, &named)
	require.Equal(t, domain.StatusCleared, named.Status)
	h.mustDo(t, "manager", http.MethodPost, "/v1/accounts/subsidiaries", map[string]any{"parent": "Grupo Bimbo", "subsidiary": "Barcel"}, http.StatusCreated, nil)
	sub := h.register(t, "globex", "Barcel", "barcel.example", http.StatusCreated)
	require.Equal(t, domain.StatusDuplicate, sub.Status)
	require.Equal(t, partnerDuplicateNotice, sub.Notice)
}

const partnerDuplicateNotice = "This opportunity is already registered. Your registration cannot proceed."
