package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
)

var cmCall = app.Call{Caller: app.Caller{Actor: domain.Actor{ID: "token:cm", Role: domain.RoleChannelManager}, Name: "cm"}}

// conflictCase opens a partner-vs-partner case by hand between Globex's
// registration (first) and Acme's.
func (s *site) conflictCase(tb testing.TB) (cid, globexReg, acmeReg uuid.UUID) {
	tb.Helper()
	globexReg = s.registration(tb, "globex", "Empresa XYZ", "xyz.example", false)
	acmeReg = s.registration(tb, "acme", "Cadena Norte", "norte.example", false)
	cid, err := s.app.OpenConflict(context.Background(), cmCall, []uuid.UUID{globexReg, acmeReg}, nil, "same customer, two partners")
	require.NoError(tb, err)
	return cid, globexReg, acmeReg
}

// mainOf is a page's main content: what it says, without the header's
// forms (whose return path differs by URL).
func mainOf(body string) string {
	_, after, _ := strings.Cut(body, `<main id="main">`)
	main, _, _ := strings.Cut(after, "</main>")
	return main
}

var attestLinkRE = regexp.MustCompile(`value="(http://[^"]+/attest/(dat_[^"]+))"`)

// requestAttestation asks for an attestation link from the case page and
// returns the link's path.
func requestAttestation(t *testing.T, c *client, cid uuid.UUID) string {
	t.Helper()
	path := "/console/conflicts/" + cid.String()
	pg := c.post(path, path, url.Values{"action": {"attest"}, "contact_name": {"Ana"}, "contact_email": {"ana@xyz.example"}})
	require.Equal(t, http.StatusOK, pg.Status, pg.Body)
	m := attestLinkRE.FindStringSubmatch(pg.Body)
	require.NotNil(t, m, "no link on the page")
	u, err := url.Parse(m[1])
	require.NoError(t, err)
	return u.Path
}

// Console pages answer a partner user exactly like a page that does not
// exist; the desk lists the case with its SLA and shows both claims and
// the recommendation to a channel manager.
func TestConflictDesk_RolesAndCase(t *testing.T) {
	s := newTestSite(t)
	cid, _, _ := s.conflictCase(t)
	partner := s.client(t)
	partner.signIn(s.user(t, domain.RolePartner, "acme", "en"))
	missing := partner.get("/portal/registrations/00000000-0000-4000-8000-000000000000")
	for _, p := range []string{"/console/conflicts", "/console/conflicts/" + cid.String(), "/console/analytics"} {
		pg := partner.get(p)
		require.Equal(t, http.StatusNotFound, pg.Status, p)
		require.Equal(t, mainOf(missing.Body), mainOf(pg.Body), p)
	}
	head := s.head()
	pg := partner.post("/portal", "/console/conflicts/"+cid.String(), url.Values{"action": {"escalate"}, "reason": {"x"}})
	require.Equal(t, http.StatusNotFound, pg.Status)
	require.Equal(t, head, s.head(), "a refused command appends nothing")

	cm := s.client(t)
	cm.signIn(s.user(t, domain.RoleChannelManager, "", "en"))
	q := cm.get("/console/conflicts")
	require.Equal(t, http.StatusOK, q.Status)
	require.Contains(t, q.Body, `href="/console/conflicts/`+cid.String()+`"`)
	require.Contains(t, q.Body, "Globex Partners, Acme Integradores")
	require.Contains(t, q.Body, "2026-03-04 09:00 UTC") // level 1: 48 h
	require.NotContains(t, q.Body, "Due within 24 h")
	c := cm.get("/console/conflicts/" + cid.String())
	require.Equal(t, http.StatusOK, c.Status)
	require.Contains(t, c.Body, "Empresa XYZ")
	require.Contains(t, c.Body, "Cadena Norte")
	require.Regexp(t, `(?s)id="recommendation".*Globex Partners.*first-to-register`, c.Body)

	// Due soon a day later, overdue after the SLA.
	s.clock.Advance(25 * time.Hour)
	cmEmail := s.user(t, domain.RoleChannelManager, "", "en")
	cm.signIn(cmEmail) // sessions last 12 hours
	require.Contains(t, cm.get("/console/conflicts").Body, "Due within 24 h")
	s.clock.Advance(24 * time.Hour)
	cm.signIn(cmEmail)
	require.Contains(t, cm.get("/console/conflicts").Body, "Overdue")

	// The auditor reads, and may not decide.
	au := s.client(t)
	au.signIn(s.user(t, domain.RoleAuditor, "", "en"))
	ac := au.get("/console/conflicts/" + cid.String())
	require.Equal(t, http.StatusOK, ac.Status)
	require.NotContains(t, ac.Body, `id="decide-form"`)
}

// A decision from the desk: field errors beside their fields with the
// input kept, a decision against the recommendation at level 1 refused
// with the domain's reason, then an award recorded in the ledger.
func TestConflictDesk_Decide(t *testing.T) {
	s := newTestSite(t)
	cid, globexReg, acmeReg := s.conflictCase(t)
	cm := s.client(t)
	cm.signIn(s.user(t, domain.RoleChannelManager, "", "es"))
	path := "/console/conflicts/" + cid.String()
	head := s.head()
	pg := cm.post(path, path, url.Values{"action": {"decide"}, "outcome": {"award"}, "winner": {domain.PartyKeyRegistration(globexReg)}, "rationale": {""}, "policy_clause": {"first-to-register 3.1"}})
	require.Equal(t, http.StatusUnprocessableEntity, pg.Status)
	require.Regexp(t, `(?s)id="rationale".*class="field-error"`, pg.Body)
	require.Contains(t, pg.Body, `value="first-to-register 3.1"`)
	require.Equal(t, head, s.head())

	pg = cm.post(path, path, url.Values{"action": {"decide"}, "outcome": {"award"}, "winner": {domain.PartyKeyRegistration(acmeReg)}, "rationale": {"later but better"}, "policy_clause": {"x"}})
	require.Equal(t, http.StatusUnprocessableEntity, pg.Status)
	require.Contains(t, pg.Body, `id="case-error"`)
	require.Contains(t, pg.Body, "escalate")
	require.Equal(t, head, s.head())

	pg = cm.post(path, path, url.Values{"action": {"decide"}, "outcome": {"award"}, "winner": {domain.PartyKeyRegistration(globexReg)}, "rationale": {"registered first"}, "policy_clause": {"first-to-register 3.1"}})
	require.Equal(t, http.StatusOK, pg.Status)
	require.Contains(t, pg.Body, "Conflicto decidido.")
	require.Contains(t, pg.Body, `id="decision"`)
	v, ok := s.app.Conflicts.Get(cid)
	require.True(t, ok)
	require.NotNil(t, v.Decision)
	require.Equal(t, domain.PartyKeyRegistration(globexReg), v.Decision.Winner)
	require.Equal(t, "user:", v.Decision.DecidedBy[:5])
}

// Customer attestation: a link made on the case, answered once on the
// public page (which names only the partners), recorded as evidence the
// recommendation follows; used, expired and forged links answer the same.
func TestAttestation(t *testing.T) {
	s := newTestSite(t)
	cid, _, acmeReg := s.conflictCase(t)
	cm := s.client(t)
	cm.signIn(s.user(t, domain.RoleChannelManager, "", "en"))
	link := requestAttestation(t, cm, cid)

	anon := s.client(t)
	spent := anon.get("/attest/dat_forged.token")
	require.Equal(t, http.StatusNotFound, spent.Status)
	q := anon.get(link)
	require.Equal(t, http.StatusOK, q.Status)
	require.Contains(t, q.Body, "Acme Integradores")
	require.Contains(t, q.Body, "Globex Partners")
	for _, secret := range []string{"Empresa XYZ", "Cadena Norte", "ana@xyz.example", cid.String(), "first-to-register"} {
		require.NotContains(t, q.Body, secret)
	}
	require.Equal(t, "no-referrer", q.Header.Get("Referrer-Policy"))

	// Naming a partner needs the solution; nothing is kept from the refusal.
	head := s.head()
	pg := anon.post(link, link, url.Values{"party": {domain.PartyKeyRegistration(acmeReg)}, "solution": {""}})
	require.Equal(t, http.StatusUnprocessableEntity, pg.Status)
	require.Regexp(t, `(?s)id="solution".*class="field-error"`, pg.Body)
	require.Equal(t, head, s.head())
	// A party key not on the case is refused too.
	pg = anon.post(link, link, url.Values{"party": {"registration:" + uuid.NewString()}, "solution": {"x"}})
	require.Equal(t, http.StatusUnprocessableEntity, pg.Status)

	pg = anon.post(link, link, url.Values{"party": {domain.PartyKeyRegistration(acmeReg)}, "solution": {"cloud migration"}})
	require.Equal(t, http.StatusOK, pg.Status, pg.Body)
	require.Contains(t, pg.Body, "your answer was recorded")

	// Used: the same generic page as a forged link.
	used := anon.get(link)
	require.Equal(t, http.StatusNotFound, used.Status)
	require.Equal(t, mainOf(spent.Body), mainOf(used.Body))
	require.Equal(t, http.StatusNotFound, anon.post(link, link, url.Values{"party": {"none"}}).Status)
	// Altered: one character of the signature changed.
	alt := []byte(link)
	if alt[len(alt)-1] == 'A' {
		alt[len(alt)-1] = 'B'
	} else {
		alt[len(alt)-1] = 'A'
	}
	require.Equal(t, mainOf(spent.Body), mainOf(anon.get(string(alt)).Body))

	// Evidence on the case, and the recommendation follows it.
	c := cm.get("/console/conflicts/" + cid.String())
	require.Contains(t, c.Body, "Works with Acme Integradores for: cloud migration")
	require.Regexp(t, `(?s)id="recommendation".*Acme Integradores.*customer-attestation`, c.Body)
	v, _ := s.app.Conflicts.Get(cid)
	require.Equal(t, domain.PartyKeyRegistration(acmeReg), v.Recommendation.Winner)
	require.Equal(t, domain.ClauseCustomerAttestation, v.Recommendation.Clause)
	recs, err := s.store.ReadStream(t.Context(), domain.ConflictStream(cid), domain.ReadStreamOptions{})
	require.NoError(t, err)
	var types []string
	for _, r := range recs {
		types = append(types, r.Type)
		require.NotContains(t, string(r.Data), strings.TrimPrefix(link, "/attest/"), "the token itself is never stored")
	}
	require.Contains(t, types, "ConflictAttestationRequested")
	require.Contains(t, types, "ConflictAttested")

	// Expired: a second link, a week and a second later.
	link2 := requestAttestation(t, cm, cid)
	require.Equal(t, http.StatusOK, anon.get(link2).Status)
	s.clock.Advance(domain.AttestationLifetime + time.Second)
	exp := anon.get(link2)
	require.Equal(t, http.StatusNotFound, exp.Status)
	require.Equal(t, mainOf(spent.Body), mainOf(exp.Body))
}

// The analytics page draws its charts as accessible SVG from the
// analytics view.
func TestAnalyticsCharts(t *testing.T) {
	s := newTestSite(t)
	s.registration(t, "globex", "Empresa XYZ", "xyz.example", true)
	s.registration(t, "acme", "Cadena Norte", "norte.example", false)
	cm := s.client(t)
	cm.signIn(s.user(t, domain.RoleChannelManager, "", "en"))
	pg := cm.get("/console/analytics?months=3")
	require.Equal(t, http.StatusOK, pg.Status)
	for _, id := range []string{"chart-approval", "chart-time-to-approve", "chart-utilisation", "chart-conflicts", "chart-resolution", "chart-partners"} {
		require.Contains(t, pg.Body, `<svg class="chart" id="`+id+`"`)
		require.Contains(t, pg.Body, `<title id="`+id+`-t">`)
		require.Contains(t, pg.Body, `<desc id="`+id+`-d">`)
	}
	// March 2026: 2 submitted, 1 approved: 50%.
	require.Contains(t, pg.Body, "2026-03: 100%")
	require.Contains(t, pg.Body, "Globex Partners")
}

// A co-registration from the desk: a split that does not sum to 100 is
// refused beside the split, then 60/40 with responsibilities is recorded.
func TestConflictDesk_CoRegister(t *testing.T) {
	s := newTestSite(t)
	cid, globexReg, acmeReg := s.conflictCase(t)
	cm := s.client(t)
	cm.signIn(s.user(t, domain.RoleChannelManager, "", "en"))
	path := "/console/conflicts/" + cid.String()
	g, a := domain.PartyKeyRegistration(globexReg), domain.PartyKeyRegistration(acmeReg)
	form := func(gs, as string) url.Values {
		return url.Values{"action": {"decide"}, "outcome": {"co_register"}, "rationale": {"both proved work"}, "policy_clause": {"co-registration 5.1"},
			"share." + g: {gs}, "duties." + g: {"implementation"}, "share." + a: {as}, "duties." + a: {"licences"}}
	}
	head := s.head()
	pg := cm.post(path, path, form("60", "30"))
	require.Equal(t, http.StatusUnprocessableEntity, pg.Status)
	require.Regexp(t, `(?s)class="shares has-error".*class="field-error"`, pg.Body)
	require.Contains(t, pg.Body, `value="30"`)
	require.Equal(t, head, s.head())
	pg = cm.post(path, path, form("60", "40"))
	require.Equal(t, http.StatusOK, pg.Status, pg.Body)
	require.Contains(t, pg.Body, "Globex Partners: 60% — implementation")
	require.Contains(t, pg.Body, "Acme Integradores: 40% — licences")
}
