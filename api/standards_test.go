package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// The registration standards of the policy in force apply on submit: a
// field it adds, a proof kind it does not accept, too few proof items;
// every gap named at once, nothing appended, and a draft still saved.
func TestScenario_RegistrationStandards(t *testing.T) {
	h := newHarness(t)
	h.publishNow(t, func(doc policyDoc) {
		reg := section(doc, "registration")
		req := section(reg, "required_fields")
		req["opportunity"] = append(req["opportunity"].([]any), "personal.decision_makers")
		reg["proof_kinds"] = []string{"bant", "meddic"}
		reg["min_proof_items"] = 1
	})
	details := h.details("Alfa SA", "alfa.example")
	delete(details, "personal")
	details["proof"] = []map[string]any{{"kind": "email_intro", "answers": []map[string]string{{"question": "Who?", "answer": "The CIO"}}}}
	head := h.eventCount()
	p := h.problem(t, "acme", http.MethodPost, "/v1/registrations", map[string]any{"type": "opportunity", "details": details, "submit": true},
		http.StatusBadRequest, domain.EINVALID)
	got := map[string]string{}
	for _, e := range p.Errors {
		got[e.Field] = e.Code
	}
	require.Equal(t, map[string]string{"personal.decision_makers": domain.FieldRequired, "proof[0].kind": domain.FieldInvalid}, got)
	require.Equal(t, head, h.eventCount(), "a refused submission appends nothing")

	details["proof"] = []map[string]any{}
	p = h.problem(t, "acme", http.MethodPost, "/v1/registrations", map[string]any{"type": "opportunity", "details": details, "submit": true},
		http.StatusBadRequest, domain.EINVALID)
	fields := map[string]bool{}
	for _, e := range p.Errors {
		fields[e.Field] = true
	}
	require.True(t, fields["proof"], "too few proof items: %+v", p.Errors)

	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations", map[string]any{"type": "opportunity", "details": details, "submit": false}, http.StatusCreated, nil)
	details["personal"] = map[string]any{"decision_makers": []map[string]string{{"name": "Ana Pérez", "title": "CFO"}}}
	details["proof"] = []map[string]any{{"kind": "bant", "answers": []map[string]string{{"question": "Budget?", "answer": "Approved"}}}}
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations", map[string]any{"type": "opportunity", "details": details, "submit": true}, http.StatusCreated, nil)
}

// A named account's renewal under a version with renewal conditions is
// refused with what the partner won on the account in the term, naming
// each condition not met; nothing is appended.
func TestScenario_RenewalConditions(t *testing.T) {
	h := newHarness(t)
	h.publishNow(t, func(doc policyDoc) {
		named := section(doc, "protection", "named_account")
		named["renewal_min_closed_won"] = 1
		named["renewal_min_won_value"] = map[string]string{"USD": "50000"}
	})
	var r struct {
		ID string `json:"id"`
	}
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations",
		map[string]any{"type": "named_account", "details": h.details("Alfa SA", "alfa.example"), "submit": true}, http.StatusCreated, &r)
	h.mustDo(t, "director", http.MethodPost, "/v1/registrations/"+r.ID+"/approve", nil, http.StatusOK, nil)
	h.clock.Advance(320 * domain.Day) // within the renewal window
	head := h.eventCount()
	p := h.problem(t, "director", http.MethodPost, "/v1/registrations/"+r.ID+"/renew", nil, http.StatusConflict, domain.ECONFLICT)
	fields := map[string]string{}
	for _, e := range p.Errors {
		fields[e.Field] = e.Code
	}
	require.Equal(t, map[string]string{"renewal.min_closed_won": domain.FieldOutOfRange, "renewal.min_won_value": domain.FieldOutOfRange}, fields)
	require.Contains(t, p.Detail, "renewal conditions of policy version 2")
	require.Equal(t, head, h.eventCount(), "a refused renewal appends nothing")
}
