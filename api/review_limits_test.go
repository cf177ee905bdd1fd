package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// A policy may cap what a channel manager in no review group approves
// (routing.unassigned_manager_max_value); a director is not capped, and
// the refusal appends nothing.
func TestScenario_UnassignedManagerCap(t *testing.T) {
	h := newHarness(t)
	h.publishNow(t, func(doc policyDoc) {
		section(doc, "routing")["unassigned_manager_max_value"] = map[string]string{"USD": "100000"}
	})
	var current struct {
		Document struct {
			Routing struct {
				UnassignedManagerMaxValue map[string]string `json:"unassigned_manager_max_value"`
			} `json:"routing"`
		} `json:"document"`
	}
	h.mustDo(t, "acme", http.MethodGet, "/v1/policies/current", nil, http.StatusOK, &current)
	require.Equal(t, map[string]string{"USD": "100000"}, current.Document.Routing.UnassignedManagerMaxValue)

	small := h.details("Alfa SA", "alfa.example")
	small["opportunity"].(map[string]any)["estimated_value"] = map[string]string{"amount": "90000", "currency": "USD"}
	within := h.submit(t, "acme", small)
	over := h.submit(t, "acme", h.details("Beta SA", "beta.example")) // 150,000 USD
	euros := h.details("Gamma SA", "gamma.example")
	euros["opportunity"].(map[string]any)["estimated_value"] = map[string]string{"amount": "5000", "currency": "EUR"}
	noCap := h.submit(t, "acme", euros)

	head := h.eventCount()
	p := h.problem(t, "manager", http.MethodPost, "/v1/registrations/"+over.ID.String()+"/approve", nil, http.StatusForbidden, domain.EFORBIDDEN)
	require.Equal(t, "opportunity.estimated_value", p.Errors[0].Field)
	require.Contains(t, p.Detail, "approval limit of 100000 USD for a channel manager in no review group")
	p = h.problem(t, "manager", http.MethodPost, "/v1/registrations/"+noCap.ID.String()+"/approve", nil, http.StatusForbidden, domain.EFORBIDDEN)
	require.Equal(t, "opportunity.estimated_value", p.Errors[0].Field)
	require.Equal(t, head, h.eventCount(), "refusals append nothing")
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+within.ID.String()+"/approve", nil, http.StatusOK, nil)
	h.mustDo(t, "director", http.MethodPost, "/v1/registrations/"+over.ID.String()+"/approve", nil, http.StatusOK, nil)
	h.mustDo(t, "director", http.MethodPost, "/v1/registrations/"+noCap.ID.String()+"/approve", nil, http.StatusOK, nil)
}
