package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
)

// automationPolicy turns auto-approval on in a version published at once:
// gold and platinum opportunities under 200,000 USD with proof, from a
// partner with 3 decisions in a year, 90% approved and 30% won; large
// deals go to the enterprise desk, the Northeast to its regional desk,
// the rest to channel operations; a review is due in 48 hours, reminded
// 12 hours before and escalated 6 hours after.
func (h *harness) automationPolicy(t *testing.T) {
	t.Helper()
	h.publishNow(t, func(doc policyDoc) {
		a := section(doc, "auto_approval")
		a["enabled"] = true
		a["tiers"] = []string{"gold", "platinum"}
		a["max_value"] = map[string]string{"USD": "200000"}
		a["min_decided"] = 3
		doc["routing"] = map[string]any{"groups": []map[string]any{
			{"name": "enterprise", "min_value": map[string]string{"USD": "500000"}},
			{"name": "northeast", "regions": []string{"Northeast"}},
			{"name": "channel-operations"},
		}}
		section(doc, "review")["escalate_after_due"] = "6h"
	})
}

// withProof is the harness details with one BANT proof item.
func withProof(d map[string]any) map[string]any {
	d["proof"] = []map[string]any{{"kind": "bant", "answers": []map[string]string{{"question": "Budget?", "answer": "Approved for Q3"}}}}
	return d
}

func (h *harness) submit(t *testing.T, who string, details map[string]any) api.Registration {
	t.Helper()
	var r api.Registration
	h.mustDo(t, who, http.MethodPost, "/v1/registrations", map[string]any{"type": "opportunity", "details": details, "submit": true}, http.StatusCreated, &r)
	return r
}

type queueItem struct {
	ID          uuid.UUID   `json:"id"`
	Group       string      `json:"group"`
	DueAt       time.Time   `json:"due_at"`
	Reminded    bool        `json:"reminded"`
	Escalated   bool        `json:"escalated"`
	EscalatedTo domain.Role `json:"escalated_to"`
	Overdue     bool        `json:"overdue"`
}

func (h *harness) queue(t *testing.T, query string) []queueItem {
	t.Helper()
	var q struct {
		Items []queueItem `json:"items"`
	}
	h.mustDo(t, "manager", http.MethodGet, "/v1/review-queue"+query, nil, http.StatusOK, &q)
	return q.Items
}

// A clean registration from a proven partner is approved at once by
// "system", with the rule and the figures named; others are routed to the
// right reviewer group with the SLA's due time; a routed review is
// reminded before it is due and escalated to the channel director once
// overdue; the queue shows it all; a rebuilt service shows the same and
// decides nothing again.
func TestScenario_ApprovalAutomation(t *testing.T) {
	h := newHarness(t)
	h.automationPolicy(t)

	// acme builds a track record: three approvals (routed at first: no
	// record yet), one deal won and one lost.
	var track []api.Registration
	for _, c := range []string{"Alfa", "Beta", "Gamma"} {
		r := h.submit(t, "acme", withProof(h.details(c+" SA", c+".example")))
		require.Equal(t, domain.StatusCleared, r.Status)
		require.NotNil(t, r.Review)
		require.Equal(t, "northeast", r.Review.Group)
		h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+r.ID.String()+"/approve", nil, http.StatusOK, nil)
		track = append(track, r)
	}
	h.clock.Advance(domain.Day)
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations/"+track[0].ID.String()+"/close",
		map[string]any{"outcome": "won", "final_value": map[string]string{"amount": "140000", "currency": "USD"}}, http.StatusOK, nil)
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations/"+track[1].ID.String()+"/close",
		map[string]any{"outcome": "lost", "reason": "Budget cut"}, http.StatusOK, nil)
	h.clock.Advance(time.Hour)

	// The clean one: approved at once, as system, rule and figures named.
	auto := h.submit(t, "acme", withProof(h.details("Empresa XYZ", "xyz.example")))
	require.Equal(t, domain.StatusActive, auto.Status)
	require.Equal(t, 2, auto.Terms.PolicyVersion)
	require.True(t, auto.Review.AutoApproved)
	got := h.get(t, "manager", auto.ID)
	// The automatic approval grants what a reviewer's would: the benefits
	// of the partner's tier under the policy in force, embedded.
	require.NotNil(t, got.Benefits, "an automatic approval grants the benefits too")
	require.Equal(t, 2, got.Benefits.PolicyVersion)
	require.Equal(t, domain.TierGold, got.Benefits.Tier)
	require.True(t, got.Benefits.Discount.Percent.IsPositive())
	require.Equal(t, "USD", got.Benefits.Discount.Amount.Currency)
	require.True(t, got.Benefits.Discount.Amount.Amount.Equal(got.EstimatedValue.Mul(got.Benefits.Discount.Percent).Div(decimal.NewFromInt(100)).Round(2)),
		"discount %s of %s", got.Benefits.Discount.Percent, got.EstimatedValue)
	approved := historyEntry(t, got, "RegistrationApproved")
	require.Equal(t, domain.SystemActorID, approved.ActorID)
	rule := historyEntry(t, got, "RegistrationAutoApproved")
	require.Equal(t, domain.SystemActorID, rule.ActorID)
	require.Equal(t, "Approved automatically under policy v2 (auto_approval): 3 decided, 100% approved, 50% won", rule.Summary)
	var data struct {
		Rule       string             `json:"rule"`
		Conditions []domain.Condition `json:"conditions"`
		Figures    domain.TrackRecord `json:"figures"`
	}
	require.NoError(t, jsonUnmarshal(rule.Data, &data))
	require.Equal(t, domain.AutoApprovalRule, data.Rule)
	require.Equal(t, 3, data.Figures.Decided)
	require.Equal(t, 2, data.Figures.Ended)
	require.Equal(t, 1, data.Figures.Won)
	require.Len(t, data.Conditions, 10)
	for _, c := range data.Conditions {
		require.True(t, c.Met, c.Name)
	}

	// Without proof: routed to the regional desk, the failing condition
	// named; a silver partner's deal in the West goes to channel
	// operations; a large one to the enterprise desk.
	noProof := h.submit(t, "acme", h.details("Industrias Norte", "norte.example"))
	require.Equal(t, domain.StatusCleared, noProof.Status)
	routed := historyEntry(t, h.get(t, "manager", noProof.ID), "RegistrationRouted")
	require.Contains(t, string(routed.Data), `"name":"proof"`)
	require.Equal(t, domain.SystemActorID, routed.ActorID)
	west := h.details("Grupo Sur", "sur.example")
	west["account"].(map[string]any)["region"] = "West"
	other := h.submit(t, "globex", withProof(west))
	big := h.details("Mega Corp", "mega.example")
	big["opportunity"].(map[string]any)["estimated_value"] = map[string]string{"amount": "750000", "currency": "USD"}
	large := h.submit(t, "acme", withProof(big))
	now := h.clock.Now()
	groups := map[uuid.UUID]string{}
	for _, it := range h.queue(t, "") {
		groups[it.ID] = it.Group
		require.Equal(t, now.Add(48*time.Hour), it.DueAt, "the review SLA of version 2")
		require.False(t, it.Overdue || it.Reminded || it.Escalated)
	}
	require.Equal(t, map[uuid.UUID]string{noProof.ID: "northeast", other.ID: "channel-operations", large.ID: "enterprise"}, groups)
	require.Len(t, h.queue(t, "?group=northeast"), 1)

	// The SLA: a reminder 12 hours before the due time, an escalation to
	// the channel director 6 hours after it; each once.
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+large.ID.String()+"/approve", nil, http.StatusOK, nil)
	h.clock.Set(now.Add(36 * time.Hour))
	n, err := h.app.RunDue(context.Background(), h.clock.Now())
	require.NoError(t, err)
	require.Equal(t, 2, n, "the two reviews still open are reminded")
	for _, it := range h.queue(t, "") {
		require.True(t, it.Reminded)
		require.False(t, it.Overdue)
	}
	reminder := historyEntry(t, h.get(t, "manager", noProof.ID), "RegistrationReviewReminderSent")
	require.Equal(t, "system:scheduler", reminder.ActorID)
	require.Equal(t, "Reminded northeast: review due "+now.Add(48*time.Hour).Format("2006-01-02 15:04 MST"), reminder.Summary)
	n, err = h.app.RunDue(context.Background(), h.clock.Now())
	require.NoError(t, err)
	require.Zero(t, n)

	h.clock.Set(now.Add(50 * time.Hour))
	for _, it := range h.queue(t, "") {
		require.True(t, it.Overdue, "past due")
		require.False(t, it.Escalated, "not yet escalated")
	}
	h.clock.Set(now.Add(54*time.Hour + time.Minute))
	n, err = h.app.RunDue(context.Background(), h.clock.Now())
	require.NoError(t, err)
	require.Equal(t, 2, n)
	for _, it := range h.queue(t, "") {
		require.True(t, it.Overdue)
		require.True(t, it.Escalated)
		require.Equal(t, domain.RoleChannelDirector, it.EscalatedTo)
	}
	esc := historyEntry(t, h.get(t, "manager", other.ID), "RegistrationReviewEscalated")
	require.Contains(t, esc.Summary, "escalated from channel-operations to channel_director")
	n, err = h.app.RunDue(context.Background(), h.clock.Now())
	require.NoError(t, err)
	require.Zero(t, n, "escalated once")

	// Replay: the same views, nothing decided again.
	head := h.eventCount()
	rebuilt := app.New(app.Config{Store: h.store, Clock: h.clock})
	require.NoError(t, rebuilt.Start(context.Background(), false))
	defer rebuilt.Stop()
	require.NoError(t, rebuilt.WaitFor(context.Background(), head-1))
	for _, r := range append(track, auto, noProof, other, large) {
		a, _ := h.app.Registrations.Detail(r.ID)
		b, _ := rebuilt.Registrations.Detail(r.ID)
		require.Equal(t, a, b)
	}
	q1, err := h.app.Registrations.ReviewQueue(0)
	require.NoError(t, err)
	q2, err := rebuilt.Registrations.ReviewQueue(0)
	require.NoError(t, err)
	require.Equal(t, q1, q2)
	n, err = rebuilt.RunDue(context.Background(), h.clock.Now())
	require.NoError(t, err)
	require.Zero(t, n)
	require.Equal(t, head, h.eventCount())
}

// A suspended partner is never approved automatically, however good its
// record.
func TestScenario_AutoApprovalNeedsGoodStanding(t *testing.T) {
	h := newHarness(t)
	h.automationPolicy(t)
	for _, c := range []string{"Alfa", "Beta", "Gamma"} {
		r := h.submit(t, "acme", withProof(h.details(c+" SA", c+".example")))
		h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+r.ID.String()+"/approve", nil, http.StatusOK, nil)
		h.mustDo(t, "acme", http.MethodPost, "/v1/registrations/"+r.ID.String()+"/close",
			map[string]any{"outcome": "won", "final_value": map[string]string{"amount": "1000", "currency": "USD"}}, http.StatusOK, nil)
	}
	d := withProof(h.details("Delta SA", "delta.example"))
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations", map[string]any{"type": "opportunity", "details": d, "submit": false}, http.StatusCreated, nil)
	// A violation on an old (closed) registration suspends acme; once the
	// suspension is over, the violation still weighs within the window.
	var list struct {
		Items []api.RegistrationItem `json:"items"`
	}
	h.mustDo(t, "manager", http.MethodGet, "/v1/registrations?status=closed_won", nil, http.StatusOK, &list)
	require.NotEmpty(t, list.Items)
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+list.Items[0].ID.String()+"/violations",
		map[string]any{"kind": "terms_breach", "statement": "Shared the price list with a competitor."}, http.StatusOK, nil)
	h.clock.Advance(91 * domain.Day)
	r := h.submit(t, "acme", withProof(h.details("Epsilon SA", "epsilon.example")))
	require.Equal(t, domain.StatusCleared, r.Status, "routed, not approved")
	routed := historyEntry(t, h.get(t, "manager", r.ID), "RegistrationRouted")
	require.Contains(t, string(routed.Data), `"name":"good_standing"`)
}

// tokenID returns the ID of the harness token named who.
func (h *harness) tokenID(t *testing.T, who string) uuid.UUID {
	t.Helper()
	c, err := h.app.Authenticate(context.Background(), h.tokens[who])
	require.NoError(t, err)
	id, err := uuid.Parse(c.Actor.ID[len("token:"):])
	require.NoError(t, err)
	return id
}

// A reviewer assigned to a group with an approval limit approves only
// what was routed to its group, up to its limit; a director is not
// limited. Refusals append nothing.
func TestScenario_ReviewerGroupsAndLimits(t *testing.T) {
	h := newHarness(t)
	h.automationPolicy(t)
	manager := h.tokenID(t, "manager")
	assign := map[string]any{"token_id": manager, "max_value": map[string]string{"USD": "100000"}}
	h.problem(t, "manager", http.MethodPost, "/v1/review-groups/northeast/members", assign, http.StatusForbidden, domain.EFORBIDDEN)
	p := h.problem(t, "director", http.MethodPost, "/v1/review-groups/west/members", assign, http.StatusBadRequest, domain.EINVALID)
	require.Equal(t, "group", p.Errors[0].Field)
	p = h.problem(t, "director", http.MethodPost, "/v1/review-groups/northeast/members",
		map[string]any{"token_id": h.tokenID(t, "auditor")}, http.StatusBadRequest, domain.EINVALID)
	require.Equal(t, "token_id", p.Errors[0].Field)
	h.problem(t, "director", http.MethodPost, "/v1/review-groups/northeast/members",
		map[string]any{"token_id": uuid.New()}, http.StatusNotFound, domain.ENOTFOUND)
	var tok struct {
		Review domain.ReviewerAssignment `json:"review"`
	}
	h.mustDo(t, "director", http.MethodPost, "/v1/review-groups/northeast/members", assign, http.StatusOK, &tok)
	require.Equal(t, "northeast", tok.Review.Group)
	var groups struct {
		Items []struct {
			Name    string `json:"name"`
			Members []struct {
				ID uuid.UUID `json:"id"`
			} `json:"members"`
		} `json:"items"`
	}
	h.problem(t, "acme", http.MethodGet, "/v1/review-groups", nil, http.StatusForbidden, domain.EFORBIDDEN)
	h.mustDo(t, "auditor", http.MethodGet, "/v1/review-groups", nil, http.StatusOK, &groups)
	require.Len(t, groups.Items, 3)
	require.Equal(t, "northeast", groups.Items[1].Name)
	require.Len(t, groups.Items[1].Members, 1)
	require.Equal(t, manager, groups.Items[1].Members[0].ID)

	small := h.details("Alfa SA", "alfa.example")
	small["opportunity"].(map[string]any)["estimated_value"] = map[string]string{"amount": "90000", "currency": "USD"}
	within := h.submit(t, "acme", small)
	over := h.submit(t, "acme", h.details("Beta SA", "beta.example")) // 150,000 USD
	west := h.details("Gamma SA", "gamma.example")
	west["account"].(map[string]any)["region"] = "West"
	elsewhere := h.submit(t, "acme", west)

	head := h.eventCount()
	p = h.problem(t, "manager", http.MethodPost, "/v1/registrations/"+over.ID.String()+"/approve", nil, http.StatusForbidden, domain.EFORBIDDEN)
	require.Equal(t, "opportunity.estimated_value", p.Errors[0].Field)
	require.Contains(t, p.Detail, "approval limit of 100000 USD")
	p = h.problem(t, "manager", http.MethodPost, "/v1/registrations/"+elsewhere.ID.String()+"/approve", nil, http.StatusForbidden, domain.EFORBIDDEN)
	require.Equal(t, "review.group", p.Errors[0].Field)
	require.Equal(t, head, h.eventCount(), "refusals append nothing")
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+within.ID.String()+"/approve", nil, http.StatusOK, nil)
	h.mustDo(t, "director", http.MethodPost, "/v1/registrations/"+over.ID.String()+"/approve", nil, http.StatusOK, nil)
	h.mustDo(t, "director", http.MethodPost, "/v1/registrations/"+elsewhere.ID.String()+"/approve", nil, http.StatusOK, nil)
}
