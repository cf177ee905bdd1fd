package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/domain"
)

// A draft with longer protection and a richer MDF share, simulated over
// the period of acme's two approvals (worth 150,000 USD each) before it is
// published: both protection ends move by 30 days, the MDF by 1% of
// 300,000 USD capped at 25,000 each; the policy in force finds nothing;
// nothing is appended.
func TestPolicySimulation(t *testing.T) {
	h := newHarness(t)
	a := h.approve(t, "Stark Industries", "stark.example")
	h.clock.Advance(time.Hour)
	b := h.approve(t, "Wayne Enterprises", "wayne.example")
	h.clock.Advance(domain.Day)
	head := h.eventCount()
	from := t0.Format(time.RFC3339)

	run := func(who string, doc policyDoc) api.Simulation {
		t.Helper()
		var sim api.Simulation
		h.mustDo(t, who, http.MethodPost, "/v1/policies/simulate", map[string]any{"draft": doc, "from": from}, http.StatusOK, &sim)
		return sim
	}
	unchanged := run("auditor", h.policyDocument(t, "auditor", 1))
	require.Equal(t, 2, unchanged.Summary.Registrations)
	require.Equal(t, 2, unchanged.Summary.Approvals)
	require.Zero(t, unchanged.Summary.Changed)
	require.Empty(t, unchanged.Changes)
	require.Equal(t, api.Duration(0), unchanged.Summary.ProtectionDelta)

	doc := h.policyDocument(t, "admin", 1)
	section(doc, "protection", "opportunity")["term"] = "120d"
	section(doc, "benefits", "mdf")["percent"] = "3"
	sim := run("director", doc)
	require.Equal(t, 2, sim.Summary.Changed)
	require.Equal(t, 2, sim.Summary.ProtectionLonger)
	require.Equal(t, api.Duration(60*domain.Day), sim.Summary.ProtectionDelta)
	require.Equal(t, 2, sim.Summary.BenefitsChanged)
	// 2% of 150,000 is 3,000; 3% is 4,500: 1,500 more each.
	require.Len(t, sim.Summary.MDFDelta, 1)
	requireAmount(t, "3000", "USD", sim.Summary.MDFDelta[0], "MDF delta")
	require.Empty(t, sim.Summary.DiscountDelta)
	require.Equal(t, a.ID, sim.Changes[0].RegistrationID)
	require.Equal(t, b.ID, sim.Changes[1].RegistrationID)
	require.Equal(t, api.Duration(30*domain.Day), sim.Changes[0].Protection.Delta)
	require.True(t, a.Terms.ProtectionEnd.Equal(sim.Changes[0].Protection.RecordedEnd))

	// A later period holds nothing.
	var later api.Simulation
	h.mustDo(t, "admin", http.MethodPost, "/v1/policies/simulate", map[string]any{"draft": doc, "from": h.clock.Now()}, http.StatusOK, &later)
	require.Zero(t, later.Summary.Registrations)

	// Refusals: partners and direct sales; a missing period or draft; a
	// bad draft, its fields named within the request.
	h.problem(t, "acme", http.MethodPost, "/v1/policies/simulate", map[string]any{"draft": doc, "from": from}, http.StatusForbidden, "forbidden")
	h.problem(t, "sales", http.MethodPost, "/v1/policies/simulate", map[string]any{"draft": doc, "from": from}, http.StatusForbidden, "forbidden")
	p := h.problem(t, "admin", http.MethodPost, "/v1/policies/simulate", map[string]any{}, http.StatusBadRequest, "invalid")
	require.ElementsMatch(t, []string{"draft", "from"}, fieldsOf(p))
	section(doc, "protection", "opportunity")["term"] = "1d"
	p = h.problem(t, "admin", http.MethodPost, "/v1/policies/simulate", map[string]any{"draft": doc, "from": from}, http.StatusBadRequest, "invalid")
	require.Contains(t, fieldsOf(p), "draft.protection.opportunity.term")
	require.Equal(t, head, h.eventCount(), "a simulation appends nothing")
}

func fieldsOf(p api.Problem) []string {
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}
