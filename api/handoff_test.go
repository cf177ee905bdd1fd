package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// While a registration is protected, direct sales may not take its deal
// over: a competing opportunity on the account, an owner change or a
// close are refused with a 409 naming the protection and its end, and
// each attempt is recorded; after the partner's handoff, or once the
// protection ends, they go through.
func TestFieldLocks_TakeoverRefusedThenHandoff(t *testing.T) {
	h := newHarness(t)
	// A direct deal recorded before the partner's: allowed (the conflict
	// desk decides who was first).
	d := h.recordDirect(t, "Empresa XYZ", "xyz.example", t0.Add(-30*domain.Day))
	h.clock.Advance(time.Hour)
	r := h.submit(t, "acme", h.details("Hospital Ángeles", "angeles.example"))
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+r.ID.String()+"/approve", nil, http.StatusOK, &r)
	require.True(t, r.Status.Protected())

	competing := map[string]any{
		"account":       map[string]any{"company_name": "Hospital Angeles", "domain": "angeles.example", "country": "MX"},
		"product_lines": []string{"HR Management"}, "owner": "carlos@vendor.example",
	}
	before := h.eventCount()
	p := h.problem(t, "sales", http.MethodPost, "/v1/direct-opportunities", competing, http.StatusConflict, "conflict")
	require.Contains(t, p.Detail, r.ID.String())
	require.Contains(t, p.Detail, r.ProtectionEnd.UTC().Format(time.RFC3339))
	require.Equal(t, "protection", p.Errors[0].Field)
	require.Equal(t, before+1, h.eventCount(), "the attempt is recorded, nothing else")
	all, err := h.store.ReadStream(t.Context(), domain.HandoffStream(r.ID), domain.ReadStreamOptions{})
	require.NoError(t, err)
	require.Len(t, all, 1)
	require.Equal(t, "RegistrationTakeoverRefused", all[0].Type)
	require.Contains(t, string(all[0].Data), `"action":"record"`)

	// Another product line is another scope: not locked.
	other := map[string]any{
		"account":       map[string]any{"company_name": "Hospital Angeles", "domain": "angeles.example", "country": "MX"},
		"product_lines": []string{"Payroll"}, "owner": "carlos@vendor.example",
	}
	h.mustDo(t, "sales", http.MethodPost, "/v1/direct-opportunities", other, http.StatusCreated, nil)
	_ = d

	// Only the owner hands over; another partner learns nothing.
	until := h.clock.Now().Add(14 * domain.Day)
	h.problem(t, "globex", http.MethodPost, "/v1/registrations/"+r.ID.String()+"/handoff", map[string]any{"scope": "joint call", "until": until}, http.StatusNotFound, "not_found")
	h.problem(t, "acme", http.MethodPost, "/v1/registrations/"+r.ID.String()+"/handoff", map[string]any{"scope": "", "until": h.clock.Now().Add(-time.Hour)}, http.StatusBadRequest, "invalid")
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations/"+r.ID.String()+"/handoff", map[string]any{"scope": "joint call with the CFO", "until": until}, http.StatusOK, nil)
	var v struct {
		ID string `json:"id"`
	}
	h.mustDo(t, "sales", http.MethodPost, "/v1/direct-opportunities", competing, http.StatusCreated, &v)

	// Once the handoff lapses, the lock is back: a close is refused.
	h.clock.Set(until.Add(time.Hour))
	p = h.problem(t, "sales", http.MethodPost, "/v1/direct-opportunities/"+v.ID+"/close", map[string]any{"outcome": "won"}, http.StatusConflict, "conflict")
	require.True(t, strings.Contains(p.Detail, "protected by registration"))
	// After the protection ends, direct sales act freely.
	h.clock.Set(r.ProtectionEnd.Add(time.Hour))
	h.mustDo(t, "sales", http.MethodPost, "/v1/direct-opportunities/"+v.ID+"/close", map[string]any{"outcome": "won"}, http.StatusOK, nil)
}
