package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/domain"
)

// servedRoutes lists every route the server registers as "METHOD /path"
// with echo's :param segments, the way e.Routes() names them.
func servedRoutes(tb testing.TB) []string {
	tb.Helper()
	e, ok := api.NewServer(api.Config{}).Handler().(*echo.Echo)
	require.True(tb, ok, "the server's handler is an *echo.Echo")
	var out []string
	for _, r := range e.Routes() {
		if r.Method == echo.RouteNotFound || strings.HasSuffix(r.Path, "*") {
			continue
		}
		out = append(out, r.Method+" "+r.Path)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// probe is how one route is asked about a resource that exists but
// belongs to another partner, and about one that does not exist.
type probe struct {
	existing, missing string // request paths
	body              any    // sent to both; nil for none
	header            []string
}

// A partner must not learn whether an ID exists: asking about another
// partner's registration, conflict, partner record, direct deal or token
// answers byte for byte what asking about an ID that names nothing does,
// on every route that takes one, whatever the body. A route added without
// a row here fails the test.
func TestNotYours_AnswersLikeNotFound(t *testing.T) {
	h := newHarness(t)

	// acme's world, which globex probes: a direct deal that one of acme's
	// registrations conflicts with, another registration approved, with a
	// pending extension request and a document, another in a conflict;
	// acme's own token.
	d := h.recordDirect(t, "Empresa XYZ", "xyz.example", t0.Add(-30*domain.Day))
	h.clock.Advance(time.Hour)
	contested := h.register(t, "acme", "Empresa XYZ S.A.", "xyz.example", http.StatusCreated)
	c := h.onlyConflict(t)
	r := h.register(t, "acme", "Stark Industries", "stark.example", http.StatusCreated)
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+r.ID.String()+"/approve", nil, http.StatusOK, nil)
	h.clock.Advance(80 * domain.Day)
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations/"+r.ID.String()+"/extensions", map[string]string{"reason": "budget moved"}, http.StatusOK, nil)
	pdf := []byte("%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
	sum := sha256.Sum256(pdf)
	sha := hex.EncodeToString(sum[:])
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations/"+r.ID.String()+"/attachments?filename=proof.pdf", pdf, http.StatusCreated, nil, "Content-Type", "application/pdf")
	var tok struct {
		ID uuid.UUID `json:"id"`
	}
	h.mustDo(t, "admin", http.MethodPost, "/v1/tokens", map[string]string{"name": "acme-2", "role": "partner", "partner_id": "acme"}, http.StatusCreated, &tok)
	require.NotEqual(t, uuid.Nil, tok.ID)

	// MDF on acme's approved registration: a request, approved, with a
	// receipt; and a presales person assigned to it.
	h.addToken(t, "marketing", domain.RoleChannelMarketing)
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations/"+r.ID.String()+"/mdf-requests", h.mdfRequest("100"), http.StatusCreated, nil)
	h.mustDo(t, "marketing", http.MethodPost, "/v1/registrations/"+r.ID.String()+"/mdf-requests/1/approve", nil, http.StatusOK, nil)
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations/"+r.ID.String()+"/mdf-requests/1/receipts?filename=receipt.pdf", pdf, http.StatusCreated, nil, "Content-Type", "application/pdf")
	h.mustDo(t, "manager", http.MethodPost, "/v1/presales/resources", map[string]any{"id": "ana", "name": "Ana Ruiz", "kind": "solutions_architect", "capacity_hours": 100}, http.StatusCreated, nil)
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+r.ID.String()+"/presales", map[string]any{"resource_id": "ana", "hours": 4}, http.StatusOK, nil)

	// A policy draft, which partners must not learn exists.
	draftDoc := h.policyDocument(t, "admin", 1)
	delete(draftDoc, "version")
	h.mustDo(t, "admin", http.MethodPost, "/v1/policies", draftDoc, http.StatusCreated, nil)

	// A territory grant of acme's, which a partner must not learn exists.
	var grant struct{ ID string }
	h.mustDo(t, "director", http.MethodPost, "/v1/partners/acme/grants", map[string]string{"country": "MX",
		"valid_from": t0.Format(time.RFC3339), "valid_to": t0.Add(365 * domain.Day).Format(time.RFC3339)}, http.StatusCreated, &grant)

	ghost := uuid.NewString()
	reg, noReg := "/v1/registrations/"+r.ID.String(), "/v1/registrations/"+ghost
	con, noCon := "/v1/conflicts/"+c.ID.String(), "/v1/conflicts/"+ghost
	dir, noDir := "/v1/direct-opportunities/"+d.ID.String(), "/v1/direct-opportunities/"+ghost
	partyKey := domain.PartyKeyRegistration(contested.ID)
	both := func(existing, missing, suffix string, body any, header ...string) probe {
		return probe{existing: existing + suffix, missing: missing + suffix, body: body, header: header}
	}
	reason := map[string]string{"reason": "a reason long enough"}
	var wh struct{ ID string }
	h.mustDo(t, "admin", http.MethodPost, "/v1/webhooks", map[string]any{"url": "https://crm.example/hooks", "event_types": []string{"*"}}, http.StatusCreated, &wh)
	h.mustDo(t, "admin", http.MethodPost, "/v1/people", map[string]any{"id": "ana", "name": "Ana", "email": "ana@acme.example", "role": "partner", "partner_id": "acme"}, http.StatusCreated, nil)
	rows := map[string]probe{
		"GET /v1/registrations/:id":                                  both(reg, noReg, "", nil),
		"PATCH /v1/registrations/:id":                                both(reg, noReg, "", map[string]any{"details": map[string]any{"account": map[string]any{"industry": "Retail"}}}, "Content-Type", "application/merge-patch+json"),
		"POST /v1/registrations/:id/submit":                          both(reg, noReg, "/submit", nil),
		"POST /v1/registrations/:id/review":                          both(reg, noReg, "/review", nil),
		"POST /v1/registrations/:id/approve":                         both(reg, noReg, "/approve", nil),
		"POST /v1/registrations/:id/reject":                          both(reg, noReg, "/reject", map[string]string{"reason": "other", "explanation": "not a fit", "guidance": "try again"}),
		"POST /v1/registrations/:id/return":                          both(reg, noReg, "/return", map[string]any{"message": "more please", "requested_fields": []string{"details.account.domain"}}),
		"POST /v1/registrations/:id/progress":                        both(reg, noReg, "/progress", map[string]string{"buying_stage": "proposal", "note": "demo done"}),
		"POST /v1/registrations/:id/extensions":                      both(reg, noReg, "/extensions", reason),
		"POST /v1/registrations/:id/extensions/:n/grant":             both(reg, noReg, "/extensions/1/grant", nil),
		"POST /v1/registrations/:id/extensions/:n/deny":              both(reg, noReg, "/extensions/1/deny", reason),
		"POST /v1/registrations/:id/renew":                           both(reg, noReg, "/renew", nil),
		"POST /v1/registrations/:id/close":                           both(reg, noReg, "/close", map[string]any{"outcome": "won", "final_value": map[string]string{"amount": "1000", "currency": "USD"}}),
		"POST /v1/registrations/:id/withdraw":                        both(reg, noReg, "/withdraw", reason),
		"POST /v1/registrations/:id/attachments":                     both(reg, noReg, "/attachments?filename=mine.pdf", pdf, "Content-Type", "application/pdf"),
		"GET /v1/registrations/:id/attachments/:sha256":              both(reg, noReg, "/attachments/"+sha, nil),
		"GET /v1/conflicts/:id":                                      both(con, noCon, "", nil),
		"POST /v1/conflicts/:id/evidence-requests":                   both(con, noCon, "/evidence-requests", map[string]string{"party_key": partyKey, "request": "the first e-mail"}),
		"POST /v1/conflicts/:id/evidence":                            both(con, noCon, "/evidence", map[string]any{"party_key": partyKey, "statement": "we met them first"}),
		"POST /v1/conflicts/:id/escalate":                            both(con, noCon, "/escalate", reason),
		"POST /v1/conflicts/:id/decide":                              both(con, noCon, "/decide", map[string]any{"outcome": "award", "winner": partyKey, "rationale": "first", "policy_clause": "first-to-register"}),
		"POST /v1/conflicts/:id/attestations":                        both(con, noCon, "/attestations", map[string]string{"email": "ana@xyz.example"}),
		"GET /v1/partners/:id":                                       {existing: "/v1/partners/acme", missing: "/v1/partners/initech"},
		"POST /v1/partners/:id/grants/:grant/revoke":                 {existing: "/v1/partners/acme/grants/" + grant.ID + "/revoke", missing: "/v1/partners/initech/grants/" + ghost + "/revoke", body: reason},
		"POST /v1/partners/:id/grants":                               {existing: "/v1/partners/acme/grants", missing: "/v1/partners/initech/grants", body: map[string]string{"country": "MX", "valid_from": t0.Format(time.RFC3339), "valid_to": t0.Add(365 * domain.Day).Format(time.RFC3339)}},
		"DELETE /v1/tokens/:id":                                      {existing: "/v1/tokens/" + tok.ID.String(), missing: "/v1/tokens/" + ghost},
		"GET /v1/direct-opportunities/:id":                           both(dir, noDir, "", nil),
		"PUT /v1/direct-opportunities/:id":                           both(dir, noDir, "", map[string]any{"account": map[string]string{"company_name": "Empresa XYZ", "country": "MX"}, "owner": "me@vendor.example"}),
		"POST /v1/direct-opportunities/:id/close":                    both(dir, noDir, "/close", map[string]string{"outcome": "lost", "reason": "gone"}),
		"GET /v1/policies/:v":                                        {existing: "/v1/policies/2", missing: "/v1/policies/9"},
		"POST /v1/policies/:v/publish":                               {existing: "/v1/policies/2/publish", missing: "/v1/policies/9/publish", body: map[string]any{"effective_from": t0.Add(90 * domain.Day)}},
		"POST /v1/policies/:v/withdraw":                              {existing: "/v1/policies/2/withdraw", missing: "/v1/policies/9/withdraw", body: reason},
		"GET /v1/policies/:v/diff/:w":                                {existing: "/v1/policies/1/diff/2", missing: "/v1/policies/1/diff/9"},
		"POST /v1/policies/:v/acknowledge":                           {existing: "/v1/policies/2/acknowledge", missing: "/v1/policies/9/acknowledge"},
		"GET /v1/policies/:v/acknowledgements":                       {existing: "/v1/policies/2/acknowledgements", missing: "/v1/policies/9/acknowledgements"},
		"GET /v1/registrations/:id/mdf":                              both(reg, noReg, "/mdf", nil),
		"POST /v1/registrations/:id/mdf-requests":                    both(reg, noReg, "/mdf-requests", h.mdfRequest("10")),
		"GET /v1/registrations/:id/mdf-requests/:n":                  both(reg, noReg, "/mdf-requests/1", nil),
		"POST /v1/registrations/:id/mdf-requests/:n/approve":         both(reg, noReg, "/mdf-requests/1/approve", nil),
		"POST /v1/registrations/:id/mdf-requests/:n/reject":          both(reg, noReg, "/mdf-requests/1/reject", reason),
		"POST /v1/registrations/:id/mdf-requests/:n/withdraw":        both(reg, noReg, "/mdf-requests/1/withdraw", reason),
		"POST /v1/registrations/:id/mdf-requests/:n/receipts":        both(reg, noReg, "/mdf-requests/1/receipts?filename=mine.pdf", pdf, "Content-Type", "application/pdf"),
		"GET /v1/registrations/:id/mdf-requests/:n/receipts/:sha256": both(reg, noReg, "/mdf-requests/1/receipts/"+sha, nil),
		"POST /v1/registrations/:id/mdf-requests/:n/claim":           both(reg, noReg, "/mdf-requests/1/claim", map[string]any{"amount": map[string]string{"amount": "10", "currency": "USD"}, "receipts": []string{sha}}),
		"POST /v1/registrations/:id/mdf-requests/:n/reimburse":       both(reg, noReg, "/mdf-requests/1/reimburse", nil),
		"POST /v1/registrations/:id/mdf-requests/:n/reject-claim":    both(reg, noReg, "/mdf-requests/1/reject-claim", reason),
		"GET /v1/registrations/:id/presales":                         both(reg, noReg, "/presales", nil),
		"POST /v1/registrations/:id/presales":                        both(reg, noReg, "/presales", map[string]any{"resource_id": "ana", "hours": 1}),
		"POST /v1/registrations/:id/presales/:rid/unassign":          both(reg, noReg, "/presales/ana/unassign", reason),
		// The partner program (partner_program_test.go).
		"PATCH /v1/partners/:id":                {existing: "/v1/partners/acme", missing: "/v1/partners/initech", body: map[string]string{"tier": "platinum"}},
		"POST /v1/partners/:id/credentials":     {existing: "/v1/partners/acme/credentials", missing: "/v1/partners/initech/credentials", body: map[string]string{"kind": "certification", "name": "hr-suite", "issued": t0.Format(time.RFC3339)}},
		"POST /v1/partners/:id/suspension":      {existing: "/v1/partners/acme/suspension", missing: "/v1/partners/initech/suspension", body: map[string]string{"until": t0.Add(365 * domain.Day).Format(time.RFC3339), "reason": "r"}},
		"POST /v1/partners/:id/reinstatement":   {existing: "/v1/partners/acme/reinstatement", missing: "/v1/partners/initech/reinstatement", body: reason},
		"POST /v1/partners/:id/termination":     {existing: "/v1/partners/acme/termination", missing: "/v1/partners/initech/termination", body: reason},
		"POST /v1/registrations/:id/violations": both(reg, noReg, "/violations", map[string]string{"kind": "false_information", "statement": "made up"}),
		"POST /v1/review-groups/:group/members": {existing: "/v1/review-groups/channel-operations/members", missing: "/v1/review-groups/nope/members", body: map[string]any{"token_id": tok.ID, "max_value": map[string]string{"USD": "1000"}}},
		"GET /v1/presales/resources/:rid":       {existing: "/v1/presales/resources/ana", missing: "/v1/presales/resources/ghost"},
		// Webhook subscriptions: admins only (webhooks_test.go).
		"GET /v1/webhooks/:wid":                            {existing: "/v1/webhooks/" + wh.ID, missing: "/v1/webhooks/wh_ghost"},
		"PATCH /v1/webhooks/:wid":                          {existing: "/v1/webhooks/" + wh.ID, missing: "/v1/webhooks/wh_ghost", body: map[string]any{"enabled": false}},
		"GET /v1/webhooks/:wid/deliveries":                 {existing: "/v1/webhooks/" + wh.ID + "/deliveries", missing: "/v1/webhooks/wh_ghost/deliveries"},
		"POST /v1/webhooks/:wid/replay":                    {existing: "/v1/webhooks/" + wh.ID + "/replay", missing: "/v1/webhooks/wh_ghost/replay", body: map[string]any{"from_position": 0}},
		"POST /v1/webhooks/:wid/deliveries/:did/redeliver": {existing: "/v1/webhooks/" + wh.ID + "/deliveries/msg_x/redeliver", missing: "/v1/webhooks/wh_ghost/deliveries/msg_x/redeliver"},
		"GET /v1/people/:pid":                              {existing: "/v1/people/ana", missing: "/v1/people/ghost"},
		"POST /v1/registrations/:id/handoff":               both(reg, noReg, "/handoff", map[string]any{"scope": "joint call", "until": t0.Add(30 * domain.Day).Format(time.RFC3339)}),
		// Receipts and dispute bundles (proofs_test.go).
		"GET /v1/registrations/:id/receipt":  both(reg, noReg, "/receipt", nil),
		"GET /v1/registrations/:id/receipts": both(reg, noReg, "/receipts", nil),
		"GET /v1/conflicts/:id/proof":        both(con, noCon, "/proof", nil),
		// Program analytics (analytics_test.go).
		"POST /v1/registrations/:id/rating": both(reg, noReg, "/rating", map[string]any{"score": 4, "comment": "quick"}),
	}
	// Routes that name no resource by ID: nothing to probe.
	noID := []string{
		"GET /healthz", "GET /readyz", "GET /v1/openapi.json", "GET /v1/ledger/events",
		"POST /v1/registrations", "GET /v1/registrations", "GET /v1/review-queue",
		"GET /v1/partners", "POST /v1/partners", "POST /v1/tokens",
		"GET /v1/direct-opportunities", "POST /v1/direct-opportunities",
		"POST /v1/accounts/decisions", "POST /v1/accounts/subsidiaries",
		"GET /v1/conflicts", "POST /v1/conflicts",
		"GET /v1/policies", "POST /v1/policies", "GET /v1/policies/current",
		"GET /metrics", "GET /v1/pipeline/summary", // the summary: see TestPipelineSummary
		"GET /v1/accounts/ownership", // staff only: see TestAccountOwnership_OverTime
		"GET /v1/review-groups",
		"GET /v1/mdf-requests", "GET /v1/mdf-budgets", "GET /v1/presales/resources", "POST /v1/presales/resources",
		"GET /metrics",
		"GET /v1/webhooks", "POST /v1/webhooks", // admins only: see TestWebhooks_Rules
		"GET /v1/people", "POST /v1/people", // admins only: see TestNotifications_Rules
		// The ledger's key and checkpoints belong to no partner: a size
		// names a tree, which every caller may ask for.
		"GET /v1/ledger/key", "GET /v1/ledger/checkpoint", "GET /v1/ledger/checkpoints/:size", "GET /v1/ledger/consistency",
		// Analytics take a partner filter, not an ID: see TestAnalytics_PartnerSeesOnlyItsOwn.
		"GET /v1/analytics/registrations", "GET /v1/analytics/conflicts", "GET /v1/analytics/consistency",
		"GET /v1/analytics/top-partners", "GET /v1/analytics/ratings",
		"POST /v1/policies/simulate",            // partners may not simulate: see TestPolicySimulation
		"POST /v1/crm/events",                   // signed by the CRM, no caller: see TestCRMInbound_RefusedAppendsNothing
		"POST /v1/direct-opportunities\\:batch", // direct sales only: see TestCRMImport_Batch
	}
	served := servedRoutes(t)
	for _, route := range served {
		_, probed := rows[route]
		require.True(t, probed || slices.Contains(noID, route), "route %s has no row in this test: say how a partner probes it", route)
	}
	for route := range rows {
		require.Contains(t, served, route, "row for a route that is not served")
	}

	// Each route is asked with its proper body, with a body of the wrong
	// shape and with none, so the order of checks cannot tell either.
	ignored := []string{"Date"}
	for route, p := range rows {
		for _, variant := range []struct {
			name string
			body any
		}{{"proper body", p.body}, {"wrong body", []byte(`{"zzz":[1,`)}, {"no body", nil}} {
			t.Run(route+"/"+variant.name, func(t *testing.T) {
				head := h.eventCount()
				method := strings.Fields(route)[0]
				header := append([]string{"X-Request-Id", "probe"}, p.header...)
				s1, b1, h1 := h.do(t, "globex", method, p.existing, variant.body, header...)
				s2, b2, h2 := h.do(t, "globex", method, p.missing, variant.body, header...)
				require.GreaterOrEqual(t, s1, 400, "another partner's resource answered %d: %s", s1, b1)
				require.Equal(t, s2, s1, "status: theirs %s / missing %s", b1, b2)
				require.Equal(t, string(b2), string(b1), "body")
				for _, k := range ignored {
					h1.Del(k)
					h2.Del(k)
				}
				require.Equal(t, h2, h1, "headers")
				require.True(t, bytes.HasPrefix(b1, []byte("{")), "a problem body: %s", b1)
				require.Equal(t, head, h.eventCount(), "nothing appended")
			})
		}
	}
}
