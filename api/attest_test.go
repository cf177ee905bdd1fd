package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// POST /v1/conflicts/{id}/attestations: a decider gets a link once; a
// partner party is refused, another partner answered as for a missing
// case; the answer (through the app, as the public page does) is
// evidence the reviewer sees and partners never do.
func TestConflict_Attestation(t *testing.T) {
	h := newHarness(t)
	a := h.submit(t, "globex", h.details("Empresa XYZ", "xyz.example"))
	b := h.submit(t, "acme", h.details("Cadena Norte", "norte.example"))
	var c projections.ConflictView
	h.mustDo(t, "manager", http.MethodPost, "/v1/conflicts", map[string]any{"registrations": []uuid.UUID{a.ID, b.ID}, "reason": "same customer"}, http.StatusCreated, &c)
	path := "/v1/conflicts/" + c.ID.String() + "/attestations"

	head := h.eventCount()
	p := h.problem(t, "manager", http.MethodPost, path, map[string]any{"email": "not an address"}, http.StatusBadRequest, domain.EINVALID)
	require.Equal(t, "email", p.Errors[0].Field)
	h.problem(t, "acme", http.MethodPost, path, map[string]any{"email": "ana@xyz.example"}, http.StatusForbidden, domain.EFORBIDDEN)
	h.problem(t, "auditor", http.MethodPost, path, map[string]any{"email": "ana@xyz.example"}, http.StatusForbidden, domain.EFORBIDDEN)
	require.Equal(t, head, h.eventCount())

	var link app.AttestationLink
	h.mustDo(t, "manager", http.MethodPost, path, map[string]any{"name": "Ana", "email": "ana@xyz.example"}, http.StatusCreated, &link, "Idempotency-Key", "att-1")
	require.True(t, strings.HasPrefix(link.Path, "/attest/dat_"))
	var again app.AttestationLink
	h.mustDo(t, "manager", http.MethodPost, path, map[string]any{"name": "Ana", "email": "ana@xyz.example"}, http.StatusCreated, &again, "Idempotency-Key", "att-1")
	require.Equal(t, link, again, "a retried request returns the same link")

	require.NoError(t, h.app.Attest(t.Context(), link.Token, domain.PartyKeyRegistration(b.ID), "cloud migration"))
	require.Equal(t, domain.ENOTFOUND, domain.ErrorCode(h.app.Attest(t.Context(), link.Token, "", "")), "single use")

	v := h.conflict(t, "manager", c.ID)
	require.Len(t, v.Attestations, 1)
	require.True(t, v.Attestations[0].Answered)
	require.Equal(t, "cloud migration", v.Attestations[0].Solution)
	require.Equal(t, domain.ClauseCustomerAttestation, v.Recommendation.Clause)
	require.Empty(t, h.conflict(t, "acme", c.ID).Attestations, "a partner never sees attestations")
}
