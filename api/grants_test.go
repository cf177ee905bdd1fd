package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// Territory grants as contracts: an opportunity in acme's granted territory
// and vertical is acme's by default and names the grant; at the end of the
// annual term the scheduler renews acme's grant, whose requirements the
// ledger's figures meet, and lets globex's lapse, naming what was unmet.
func TestScenario_GrantContracts(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	end := t0.Add(365 * domain.Day)
	var acmeGrant, globexGrant projections.GrantView
	h.mustDo(t, "director", http.MethodPost, "/v1/partners/acme/grants", map[string]any{
		"country": "MX", "region": "Northeast", "vertical": "Healthcare", "valid_from": t0, "valid_to": end,
		"contract": map[string]any{"renew": true, "min_approved": 1, "min_closed_won": 1, "min_approved_value": map[string]string{"USD": "100000"}},
	}, http.StatusCreated, &acmeGrant)
	require.NotNil(t, acmeGrant.Contract)
	h.mustDo(t, "director", http.MethodPost, "/v1/partners/globex/grants", map[string]any{
		"country": "CO", "valid_from": t0, "valid_to": end, "contract": map[string]any{"renew": true, "min_approved": 1},
	}, http.StatusCreated, &globexGrant)
	p := h.problem(t, "director", http.MethodPost, "/v1/partners/globex/grants", map[string]any{
		"country": "CO", "valid_from": t0, "valid_to": t0.Add(400 * domain.Day), "contract": map[string]any{"renew": true},
	}, http.StatusBadRequest, domain.EINVALID)
	require.Equal(t, "valid_to", p.Errors[0].Field, "a contract's term is at most a year")

	// Covered by default, and the partner sees which grant covers it.
	r := h.register(t, "acme", "Hospital del Norte", "hnorte.example", http.StatusCreated)
	require.Equal(t, acmeGrant.ID, h.get(t, "acme", r.ID).CoveredByGrant)
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+r.ID.String()+"/approve", nil, http.StatusOK, nil)
	h.clock.Advance(30 * domain.Day)
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations/"+r.ID.String()+"/close", map[string]any{"outcome": "won", "final_value": map[string]string{"amount": "150000", "currency": "USD"}}, http.StatusOK, nil)

	// Before the term ends nothing is decided.
	h.clock.Set(end.Add(-time.Second))
	_, err := h.app.RunDue(ctx, h.clock.Now())
	require.NoError(t, err)
	var acme, globex projections.PartnerView
	h.mustDo(t, "admin", http.MethodGet, "/v1/partners/acme", nil, http.StatusOK, &acme)
	require.Nil(t, acme.Grants[0].TermDecision)

	h.clock.Set(end)
	n, err := h.app.RunDue(ctx, h.clock.Now())
	require.NoError(t, err)
	require.Equal(t, 2, n)
	h.mustDo(t, "admin", http.MethodGet, "/v1/partners/acme", nil, http.StatusOK, &acme)
	require.Len(t, acme.Grants, 2)
	d := acme.Grants[0].TermDecision
	require.NotNil(t, d)
	require.Equal(t, domain.GrantRenewed, d.Outcome)
	require.Equal(t, 1, d.Figures.Approved)
	require.Equal(t, 1, d.Figures.ClosedWon)
	require.Equal(t, "150000", d.Figures.ApprovedValue["USD"].String())
	require.Equal(t, []uuid.UUID{r.ID}, d.Figures.Registrations)
	renewed := acme.Grants[1]
	require.Equal(t, d.RenewedAs, renewed.ID)
	require.Equal(t, end, renewed.ValidFrom)
	require.Equal(t, end.Add(365*domain.Day), renewed.ValidTo)
	require.Equal(t, acmeGrant.Contract, renewed.Contract)

	h.mustDo(t, "admin", http.MethodGet, "/v1/partners/globex", nil, http.StatusOK, &globex)
	require.Len(t, globex.Grants, 1)
	require.Equal(t, domain.GrantLapsed, globex.Grants[0].TermDecision.Outcome)
	require.Equal(t, []string{"0 registrations approved, 1 required"}, globex.Grants[0].TermDecision.Unmet)

	// Deciding again appends nothing; the next term's opportunities are
	// covered by the renewed grant.
	head := h.eventCount()
	n, err = h.app.RunDue(ctx, h.clock.Now())
	require.NoError(t, err)
	require.Zero(t, n)
	require.Equal(t, head, h.eventCount())
	next := h.register(t, "acme", "Clínica Sur", "csur.example", http.StatusCreated)
	require.Equal(t, renewed.ID, h.get(t, "acme", next.ID).CoveredByGrant)
}
