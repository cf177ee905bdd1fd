package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// count returns how many messages to addr have a subject starting with
// prefix, and checks they are in language lang.
func (s mailSink) count(tb testing.TB, addr, prefix, lang string) int {
	tb.Helper()
	n := 0
	for _, m := range s.To(addr) {
		if strings.HasPrefix(m.Subject, prefix) {
			require.Equal(tb, lang, m.Language, "%s to %s", m.Subject, addr)
			n++
		}
	}
	return n
}

// The four kinds the first SMTP test does not reach, over real SMTP:
// extension granted and denied, evidence requested on a conflict, and the
// conflict decided; each to the right partner's users, in their
// language, once.
func TestNotifications_ExtensionsAndConflictsOverSMTP(t *testing.T) {
	sink := newMailSink(t)
	h := newOutboxHarness(t, sink.Addr())
	h.people(t)

	// Extensions: one granted, one denied.
	granted := h.approve(t, "Hospital Ángeles", "angeles.example")
	denied := h.approve(t, "Farmacias Unidas", "unidas.example")
	for _, id := range []string{granted.ID.String(), denied.ID.String()} {
		h.mustDo(t, "acme", http.MethodPost, "/v1/registrations/"+id+"/extensions", map[string]string{"reason": "budget moved to Q3"}, http.StatusOK, nil)
	}
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+granted.ID.String()+"/extensions/1/grant", nil, http.StatusOK, nil)
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+denied.ID.String()+"/extensions/1/deny",
		map[string]string{"reason": "no activity recorded in 60 days"}, http.StatusOK, nil)

	// A partner-vs-partner conflict: evidence asked of globex's side,
	// then decided for acme, as the policy recommends.
	h.clock.Advance(time.Hour)
	first := h.register(t, "acme", "Adventure Works Cycles", "", http.StatusCreated)
	h.clock.Advance(time.Hour)
	second := h.register(t, "globex", "Adventure Works", "", http.StatusCreated)
	require.Equal(t, domain.StatusPossibleDuplicate, second.Status)
	c := h.onlyConflict(t)
	path := "/v1/conflicts/" + c.ID.String()
	h.mustDo(t, "manager", http.MethodPost, path+"/evidence-requests",
		map[string]any{"party_key": domain.PartyKeyRegistration(second.ID), "request": "Send the meeting confirmation."}, http.StatusOK, nil)
	h.mustDo(t, "manager", http.MethodPost, path+"/decide", map[string]any{"outcome": "award", "winner": domain.PartyKeyRegistration(first.ID),
		"rationale": "Acme registered first.", "policy_clause": "first-to-register"}, http.StatusOK, nil)

	h.deliver(t)
	// Extensions reach acme's users only, each once, in their language.
	require.Equal(t, 1, sink.count(t, anaMail, "Extensión concedida", "es"))
	require.Equal(t, 1, sink.count(t, bobMail, "Extension granted", "en"))
	require.Equal(t, 1, sink.count(t, anaMail, "Extensión denegada", "es"))
	require.Equal(t, 1, sink.count(t, bobMail, "Extension denied", "en"))
	for _, m := range sink.To(anaMail) {
		if strings.HasPrefix(m.Subject, "Extensión denegada") {
			require.Contains(t, m.Body, "no activity recorded in 60 days")
			require.Contains(t, m.Body, denied.ID.String())
		}
		if strings.HasPrefix(m.Subject, "Extensión concedida") {
			require.Contains(t, m.Body, granted.ID.String())
		}
	}
	require.Zero(t, sink.count(t, gilMail, "Extension", "en"), "globex hears nothing of acme's extensions")

	// Evidence: asked of globex's registration, so globex's user only.
	require.Equal(t, 1, sink.count(t, gilMail, "Evidence requested on a conflict", "en"))
	require.Zero(t, sink.count(t, anaMail, "Se solicita evidencia", "es"))
	require.Zero(t, sink.count(t, bobMail, "Evidence requested", "en"))
	for _, m := range sink.To(gilMail) {
		if strings.HasPrefix(m.Subject, "Evidence requested") {
			require.Contains(t, m.Body, "Send the meeting confirmation.")
			require.Contains(t, m.Body, second.ID.String())
		}
	}

	// The decision: each party's users hear of their own registration's
	// result, once.
	require.Equal(t, 1, sink.count(t, anaMail, "Conflicto resuelto", "es"))
	require.Equal(t, 1, sink.count(t, bobMail, "Conflict decided", "en"))
	require.Equal(t, 1, sink.count(t, gilMail, "Conflict decided", "en"))
	for _, m := range sink.To(gilMail) {
		if strings.HasPrefix(m.Subject, "Conflict decided") {
			require.Contains(t, m.Body, second.ID.String())
			require.NotContains(t, m.Body, first.ID.String(), "globex is told of its own registration only")
		}
	}
	for _, m := range sink.To(anaMail) {
		if strings.HasPrefix(m.Subject, "Conflicto resuelto") {
			require.Contains(t, m.Body, first.ID.String())
		}
	}
	// Nothing more on another round.
	n := len(sink.Messages())
	h.clock.Advance(domain.Day)
	require.Equal(t, 0, h.deliver(t))
	require.Len(t, sink.Messages(), n)
}
