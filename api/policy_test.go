package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
)

// policyDoc is a policy document as a JSON tree, to edit.
type policyDoc = map[string]any

// policyDocument reads version v's document as who.
func (h *harness) policyDocument(t *testing.T, who string, v int) policyDoc {
	t.Helper()
	var got struct {
		Document policyDoc `json:"document"`
	}
	h.mustDo(t, who, http.MethodGet, "/v1/policies/"+strconv.Itoa(v), nil, http.StatusOK, &got)
	return got.Document
}

func section(doc policyDoc, path ...string) policyDoc {
	for _, k := range path {
		doc = doc[k].(map[string]any)
	}
	return doc
}

func (h *harness) addLeader(t *testing.T) {
	t.Helper()
	var tok struct {
		Token string `json:"token"`
	}
	h.mustDo(t, "admin", http.MethodPost, "/v1/tokens", map[string]string{"name": "leader", "role": "channel_leader"}, http.StatusCreated, &tok)
	h.tokens["leader"] = tok.Token
}

func (h *harness) approve(t *testing.T, company, domainName string) api.Registration {
	t.Helper()
	r := h.register(t, "acme", company, domainName, http.StatusCreated)
	require.Equal(t, domain.StatusCleared, r.Status)
	var got api.Registration
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+r.ID.String()+"/approve", nil, http.StatusOK, &got)
	return got
}

// Version 2 is proposed as a draft, published with the 30 days' notice of
// version 1, and applies only to decisions recorded from its effective date:
// an approval the day before it is a version-1 approval and keeps its 90
// days after version 2 takes effect; an approval from then on gets its 120
// days. Partners never see the draft; they see the published version, its
// diff with version 1, and acknowledge it. Then an executive's emergency
// version 3 takes effect at once, recorded as such.
func TestScenario_PolicyVersions(t *testing.T) {
	h := newHarness(t)
	h.addLeader(t)

	var current api.PolicyVersion
	h.mustDo(t, "acme", http.MethodGet, "/v1/policies/current", nil, http.StatusOK, &current)
	require.Equal(t, 1, current.Version)
	require.Equal(t, domain.StateInForce, current.State)
	require.Nil(t, current.EffectiveFrom, "version 1 applies since the beginning")

	early := h.approve(t, "Empresa XYZ", "xyz.example")
	require.Equal(t, 1, early.Terms.PolicyVersion)
	require.Equal(t, early.Terms.ProtectionStart.Add(90*domain.Day), early.Terms.ProtectionEnd)

	// A channel leader proposes version 2 from version 1's document.
	doc := h.policyDocument(t, "leader", 1)
	delete(doc, "version")
	doc["summary"] = "120 days of protection, a 24-hour review"
	section(doc, "protection", "opportunity")["term"] = "120d"
	section(doc, "review")["sla"] = "24h"
	section(doc, "review")["reminder_before_due"] = "PT6H"
	h.problem(t, "manager", http.MethodPost, "/v1/policies", doc, http.StatusForbidden, domain.EFORBIDDEN)
	var v2 api.PolicyVersion
	raw := h.mustDo(t, "leader", http.MethodPost, "/v1/policies", doc, http.StatusCreated, &v2)
	require.Equal(t, 2, v2.Version)
	require.Equal(t, domain.StateDraft, v2.State)
	require.Equal(t, 120*domain.Day, v2.Document.OpportunityProtection)
	require.Contains(t, string(raw), `"reminder_before_due":"6h"`, "periods are written back in human units")

	// A draft answers a partner exactly as a version that does not exist.
	missing := h.problem(t, "acme", http.MethodGet, "/v1/policies/9", nil, http.StatusNotFound, domain.ENOTFOUND)
	draft := h.problem(t, "acme", http.MethodGet, "/v1/policies/2", nil, http.StatusNotFound, domain.ENOTFOUND)
	require.Equal(t, missing.Title, draft.Title)
	require.Equal(t, missing.Detail, draft.Detail)
	h.problem(t, "acme", http.MethodGet, "/v1/policies/1/diff/2", nil, http.StatusNotFound, domain.ENOTFOUND)
	h.problem(t, "acme", http.MethodPost, "/v1/policies/2/acknowledge", nil, http.StatusNotFound, domain.ENOTFOUND)
	var list struct {
		Items []api.PolicySummary `json:"items"`
	}
	h.mustDo(t, "acme", http.MethodGet, "/v1/policies", nil, http.StatusOK, &list)
	require.Len(t, list.Items, 1)
	h.mustDo(t, "manager", http.MethodGet, "/v1/policies", nil, http.StatusOK, &list)
	require.Len(t, list.Items, 2)
	require.Equal(t, domain.StateDraft, list.Items[1].State)

	// Publishing needs the notice period of version 1 (30 days).
	now := h.clock.Now()
	p := h.problem(t, "leader", http.MethodPost, "/v1/policies/2/publish", map[string]any{"effective_from": now.Add(29 * domain.Day)}, http.StatusBadRequest, domain.EINVALID)
	require.Equal(t, "effective_from", p.Errors[0].Field)
	require.Contains(t, p.Errors[0].Message, "30d")
	h.problem(t, "manager", http.MethodPost, "/v1/policies/2/publish", map[string]any{"effective_from": now.Add(30 * domain.Day)}, http.StatusForbidden, domain.EFORBIDDEN)
	effective := now.Add(30 * domain.Day)
	h.mustDo(t, "leader", http.MethodPost, "/v1/policies/2/publish", map[string]any{"effective_from": effective}, http.StatusOK, &v2)
	require.Equal(t, domain.StateScheduled, v2.State)
	require.Equal(t, effective, *v2.EffectiveFrom)
	require.Equal(t, "30d", v2.Publication.RequiredNotice)
	require.Equal(t, domain.PartnerNotice{Audience: domain.AudienceAllPartners, From: now, AcknowledgeBy: effective}, v2.Publication.PartnerNotice)
	h.problem(t, "leader", http.MethodPost, "/v1/policies/2/publish", map[string]any{"effective_from": effective.Add(domain.Day)}, http.StatusConflict, domain.ECONFLICT)

	// Now partners see it, and what changes.
	h.mustDo(t, "acme", http.MethodGet, "/v1/policies/2", nil, http.StatusOK, &v2)
	var diff struct {
		From    int                   `json:"from"`
		To      int                   `json:"to"`
		Changes []domain.PolicyChange `json:"changes"`
	}
	h.mustDo(t, "acme", http.MethodGet, "/v1/policies/1/diff/2", nil, http.StatusOK, &diff)
	require.Equal(t, []domain.PolicyChange{
		{Field: "version", From: "1", To: "2"},
		{Field: "summary", From: domain.DefaultPolicy().Summary, To: "120 days of protection, a 24-hour review"},
		{Field: "protection.opportunity.term", From: "90d", To: "120d"},
		{Field: "review.sla", From: "48h", To: "24h"},
		{Field: "review.reminder_before_due", From: "12h", To: "6h"},
	}, diff.Changes)

	// Acknowledgements: who must be told and who did.
	var ack map[string]any
	h.mustDo(t, "acme", http.MethodPost, "/v1/policies/2/acknowledge", nil, http.StatusOK, &ack)
	require.Equal(t, "acme", ack["partner_id"])
	before := h.eventCount()
	h.mustDo(t, "acme", http.MethodPost, "/v1/policies/2/acknowledge", nil, http.StatusOK, nil)
	require.Equal(t, before, h.eventCount(), "acknowledging again records nothing")
	h.problem(t, "manager", http.MethodPost, "/v1/policies/2/acknowledge", nil, http.StatusForbidden, domain.EFORBIDDEN)
	h.problem(t, "acme", http.MethodGet, "/v1/policies/2/acknowledgements", nil, http.StatusForbidden, domain.EFORBIDDEN)
	var acks api.PolicyAcknowledgements
	h.mustDo(t, "admin", http.MethodGet, "/v1/policies/2/acknowledgements", nil, http.StatusOK, &acks)
	require.Equal(t, 1, acks.Acknowledged)
	require.Equal(t, 1, acks.Pending)
	require.Len(t, acks.Items, 2)
	for _, it := range acks.Items {
		require.Equal(t, it.PartnerID == "acme", it.Acknowledged != nil, it.PartnerID)
		require.Equal(t, now, it.NotifiedFrom)
	}

	// The day before the effective date: still version 1.
	h.clock.Set(effective.Add(-domain.Day))
	late := h.approve(t, "Industrias Norte", "norte.example")
	require.Equal(t, 1, late.Terms.PolicyVersion)
	require.Equal(t, late.Terms.ProtectionStart.Add(90*domain.Day), late.Terms.ProtectionEnd)

	// From the effective date: version 2, 120 days.
	h.clock.Set(effective)
	h.mustDo(t, "acme", http.MethodGet, "/v1/policies/current", nil, http.StatusOK, &current)
	require.Equal(t, 2, current.Version)
	after := h.approve(t, "Grupo Sur", "sur.example")
	require.Equal(t, 2, after.PolicyVersion, "submitted under version 2")
	require.Equal(t, 2, after.Terms.PolicyVersion)
	require.Equal(t, after.Terms.ProtectionStart.Add(120*domain.Day), after.Terms.ProtectionEnd)
	var queue struct {
		Items []struct {
			ID    string    `json:"id"`
			DueAt time.Time `json:"due_at"`
		} `json:"items"`
	}
	pending := h.register(t, "acme", "Pendiente SA", "pendiente.example", http.StatusCreated)
	h.mustDo(t, "manager", http.MethodGet, "/v1/review-queue", nil, http.StatusOK, &queue)
	require.Len(t, queue.Items, 1)
	require.Equal(t, pending.ID.String(), queue.Items[0].ID)
	require.Equal(t, effective.Add(24*time.Hour), queue.Items[0].DueAt, "the review SLA of the version submitted under")

	// The version-1 approvals keep their terms.
	for _, r := range []api.Registration{early, late} {
		got := h.get(t, "acme", r.ID)
		require.Equal(t, 1, got.Terms.PolicyVersion)
		require.Equal(t, r.Terms.ProtectionEnd, got.Terms.ProtectionEnd)
	}

	// An emergency change: version 3 at once, by an executive, with a
	// rationale.
	doc3 := h.policyDocument(t, "leader", 2)
	delete(doc3, "version")
	section(doc3, "protection", "opportunity")["term"] = "150d"
	var v3 api.PolicyVersion
	h.mustDo(t, "leader", http.MethodPost, "/v1/policies", doc3, http.StatusCreated, &v3)
	require.Equal(t, 3, v3.Version)
	h.clock.Advance(time.Hour)
	now = h.clock.Now()
	h.problem(t, "leader", http.MethodPost, "/v1/policies/3/publish", map[string]any{"effective_from": now, "emergency": true, "rationale": "regulator"}, http.StatusForbidden, domain.EFORBIDDEN)
	p = h.problem(t, "executive", http.MethodPost, "/v1/policies/3/publish", map[string]any{"effective_from": now, "emergency": true}, http.StatusBadRequest, domain.EINVALID)
	require.Equal(t, "rationale", p.Errors[0].Field)
	h.mustDo(t, "executive", http.MethodPost, "/v1/policies/3/publish", map[string]any{"effective_from": now, "emergency": true, "rationale": "A regulator's order takes effect today."}, http.StatusOK, &v3)
	require.Equal(t, domain.StateInForce, v3.State)
	require.True(t, v3.Publication.Emergency)
	require.Equal(t, "0s", v3.Publication.NoticeGiven)
	require.Equal(t, domain.RoleExecutive, v3.Publication.PublisherRole)
	h.mustDo(t, "acme", http.MethodGet, "/v1/policies", nil, http.StatusOK, &list)
	states := []string{}
	for _, it := range list.Items {
		states = append(states, it.State)
	}
	require.Equal(t, []string{domain.StateSuperseded, domain.StateSuperseded, domain.StateInForce}, states)
	emergency := h.approve(t, "Urgente SA", "urgente.example")
	require.Equal(t, 3, emergency.Terms.PolicyVersion)
	require.Equal(t, emergency.Terms.ProtectionStart.Add(150*domain.Day), emergency.Terms.ProtectionEnd)

	// Rebuilding the views from the ledger yields the same policy state.
	rebuilt := app.New(app.Config{Store: h.store, Clock: h.clock})
	require.NoError(t, rebuilt.Start(context.Background(), false))
	defer rebuilt.Stop()
	require.NoError(t, rebuilt.WaitFor(context.Background(), h.eventCount()-1))
	require.Equal(t, h.app.Policies.Versions(h.clock.Now()), rebuilt.Policies.Versions(h.clock.Now()))
	require.Equal(t, h.app.Policies.Acknowledgements(2), rebuilt.Policies.Acknowledgements(2))
	for _, r := range []api.Registration{early, late, after, emergency} {
		a, _ := h.app.Registrations.Detail(r.ID)
		b, _ := rebuilt.Registrations.Detail(r.ID)
		require.Equal(t, a.Terms, b.Terms)
	}
}

// A policy document with several mistakes is refused with every failing
// field named, as problem+json.
func TestPolicies_InvalidDocument(t *testing.T) {
	h := newHarness(t)
	h.addLeader(t)
	doc := h.policyDocument(t, "leader", 1)
	section(doc, "protection", "opportunity")["term"] = "10d"
	section(doc, "review")["sla"] = "two days"
	section(doc, "benefits", "mdf")["percent"] = "8"
	section(doc, "changes")["notice_period"] = "90d"
	doc["colour"] = "blue"
	p := h.problem(t, "leader", http.MethodPost, "/v1/policies", doc, http.StatusBadRequest, domain.EINVALID)
	var fields []string
	for _, f := range p.Errors {
		fields = append(fields, f.Field+":"+f.Code)
	}
	require.Subset(t, fields, []string{"colour:invalid", "review.sla:invalid", "protection.opportunity.term:out_of_range",
		"benefits.mdf.percent:out_of_range", "changes.notice_period:out_of_range"})
	raw, err := json.Marshal(doc)
	require.NoError(t, err)
	h.problem(t, "leader", http.MethodPost, "/v1/policies", raw[:len(raw)/2], http.StatusBadRequest, domain.EINVALID)
	h.problem(t, "leader", http.MethodGet, "/v1/policies/x", nil, http.StatusNotFound, domain.ENOTFOUND)
}
