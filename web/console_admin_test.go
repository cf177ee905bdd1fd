package web_test

import (
	"encoding/csv"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// Partner administration: enrolment (admins), tier (directors), standing;
// refusals beside their fields or above the form, appending nothing.
func TestPartnerAdmin(t *testing.T) {
	s := newTestSite(t)
	partner := s.client(t)
	partner.signIn(s.user(t, domain.RolePartner, "acme", "en"))
	for _, p := range []string{"/console/partners", "/console/partners/acme", "/console/policies", "/console/audit", "/console/export/registrations.csv"} {
		require.Equal(t, http.StatusNotFound, partner.get(p).Status, p)
	}

	admin := s.client(t)
	admin.signIn(s.user(t, domain.RoleAdmin, "", "en"))
	pg := admin.get("/console/partners")
	require.Equal(t, http.StatusOK, pg.Status)
	require.Contains(t, pg.Body, "Acme Integradores")
	require.Contains(t, pg.Body, `id="enrol-form"`)
	head := s.head()
	pg = admin.post("/console/partners", "/console/partners", url.Values{"id": {"Bad ID!"}, "name": {"Initech"}, "tier": {"gold"}})
	require.Equal(t, http.StatusUnprocessableEntity, pg.Status)
	require.Regexp(t, `(?s)id="p-id".*class="field-error"`, pg.Body)
	require.Contains(t, pg.Body, `value="Initech"`)
	require.Equal(t, head, s.head())
	pg = admin.post("/console/partners", "/console/partners", url.Values{"id": {"initech"}, "name": {"Initech"}, "tier": {"silver"}, "regions": {"EMEA, LATAM"}})
	require.Equal(t, http.StatusOK, pg.Status)
	require.Equal(t, "/console/partners/initech", pg.URL)
	require.Contains(t, pg.Body, "Partner enrolled.")

	// A channel manager may not change a tier: the domain's words, nothing kept.
	cm := s.client(t)
	cm.signIn(s.user(t, domain.RoleChannelManager, "", "en"))
	require.NotContains(t, cm.get("/console/partners").Body, `id="enrol-form"`)
	head = s.head()
	pg = cm.post("/console/partners/initech", "/console/partners/initech", url.Values{"action": {"tier"}, "tier": {"platinum"}})
	require.Equal(t, http.StatusUnprocessableEntity, pg.Status)
	require.Contains(t, pg.Body, `id="partner-error"`)
	require.Equal(t, head, s.head())

	dir := s.client(t)
	dir.signIn(s.user(t, domain.RoleChannelDirector, "", "en"))
	pg = dir.post("/console/partners/initech", "/console/partners/initech", url.Values{"action": {"tier"}, "tier": {"platinum"}})
	require.Equal(t, http.StatusOK, pg.Status)
	require.Regexp(t, `id="partner-tier">platinum<`, pg.Body)
	require.Contains(t, pg.Body, `<option value="platinum" selected>`)
	pg = dir.post("/console/partners/initech", "/console/partners/initech", url.Values{"action": {"suspend"}, "until": {"soon"}, "reason": {"late reports"}})
	require.Equal(t, http.StatusUnprocessableEntity, pg.Status)
	require.Regexp(t, `(?s)id="until".*class="field-error"`, pg.Body)
	require.Contains(t, pg.Body, "late reports")
	until := s.clock.Now().Add(30 * domain.Day).Format(time.DateOnly)
	pg = dir.post("/console/partners/initech", "/console/partners/initech", url.Values{"action": {"suspend"}, "until": {until}, "reason": {"late reports"}})
	require.Equal(t, http.StatusOK, pg.Status, pg.Body)
	require.Contains(t, pg.Body, `id="partner-status">Suspended<`)
	require.Equal(t, http.StatusNotFound, dir.get("/console/partners/nobody").Status)
}

var textareaRE = regexp.MustCompile(`(?s)<textarea id="document"[^>]*>(.*?)</textarea>`)

// The policy editor: a draft typed as YAML with every field error listed
// beside the text (kept), a JSON draft proposed, its diff against the
// version in force, and publication with an effective date.
func TestPolicyEditor(t *testing.T) {
	s := newTestSite(t)
	cm := s.client(t)
	cm.signIn(s.user(t, domain.RoleChannelManager, "", "en"))
	leader := s.client(t)
	leader.signIn(s.user(t, domain.RoleChannelLeader, "", "en"))

	pg := leader.get("/console/policies")
	require.Equal(t, http.StatusOK, pg.Status)
	require.Contains(t, pg.Body, `href="/console/policies/1"`)
	form := leader.get("/console/policies/new")
	m := textareaRE.FindStringSubmatch(form.Body)
	require.NotNil(t, m)
	doc := html.UnescapeString(m[1])
	require.Contains(t, doc, `"protection"`)

	head := s.head()
	bad := "summary: typo\nprotection:\n  opportunity:\n    term: lots\nnonsense: 1\n"
	pg = leader.post("/console/policies/new", "/console/policies", url.Values{"format": {"yaml"}, "document": {bad}})
	require.Equal(t, http.StatusUnprocessableEntity, pg.Status)
	require.Contains(t, pg.Body, `id="doc-errors"`)
	require.Contains(t, pg.Body, "<code>protection.opportunity.term</code>")
	require.Contains(t, pg.Body, "<code>nonsense</code>")
	require.Contains(t, pg.Body, html.EscapeString(bad)[:20])
	require.Equal(t, head, s.head())

	// A channel manager does not own the policy.
	pg = cm.post("/console/policies", "/console/policies", url.Values{"format": {"json"}, "document": {doc}})
	require.Equal(t, http.StatusUnprocessableEntity, pg.Status)
	require.Equal(t, head, s.head())

	changed := strings.Replace(doc, `"max_extensions": 2`, `"max_extensions": 3`, 1)
	require.NotEqual(t, doc, changed, "the document names max_extensions")
	pg = leader.post("/console/policies/new", "/console/policies", url.Values{"format": {"json"}, "document": {changed}})
	require.Equal(t, http.StatusOK, pg.Status, pg.Body)
	require.Equal(t, "/console/policies/2", pg.URL)
	require.Contains(t, pg.Body, "Draft version saved.")
	require.Regexp(t, `(?s)id="policy-diff".*max_extensions.*>2<.*>3<`, pg.Body)

	pg = leader.post("/console/policies/2", "/console/policies/2/publish", url.Values{"effective_from": {"tomorrow"}})
	require.Equal(t, http.StatusUnprocessableEntity, pg.Status)
	require.Regexp(t, `(?s)id="effective_from".*class="field-error"`, pg.Body)
	from := s.clock.Now().Add(90 * domain.Day).Format(time.DateOnly)
	pg = leader.post("/console/policies/2", "/console/policies/2/publish", url.Values{"effective_from": {from}})
	require.Equal(t, http.StatusOK, pg.Status, pg.Body)
	require.Contains(t, pg.Body, "Version published.")
	require.Contains(t, pg.Body, from)
}

// The auditor's view: the pipeline and a registration as of a day, and
// the CSV exports written by the API's code.
func TestAuditTimeTravel(t *testing.T) {
	s := newTestSite(t)
	first := s.registration(t, "globex", "Empresa XYZ", "xyz.example", true)
	day0 := s.clock.Now().Format(time.DateOnly)
	s.clock.Advance(3 * domain.Day)
	later := s.registration(t, "acme", "Cadena Norte", "norte.example", false)
	au := s.client(t)
	au.signIn(s.user(t, domain.RoleAuditor, "", "en"))

	total := regexp.MustCompile(`(?s)Total</th><td>(\d+)</td><td>(\d+)</td>`)
	pg := au.get("/console/audit")
	require.Equal(t, http.StatusOK, pg.Status)
	require.Equal(t, []string{"2", "1"}, total.FindStringSubmatch(pg.Body)[1:])
	pg = au.get("/console/audit?as_of=" + day0 + "&registration=" + first.String())
	require.Equal(t, []string{"1", "1"}, total.FindStringSubmatch(pg.Body)[1:])
	require.Regexp(t, `(?s)id="reg-asof".*Empresa XYZ.*Protected`, pg.Body)
	pg = au.get("/console/audit?as_of=" + day0 + "&registration=" + later.String())
	require.Contains(t, pg.Body, "did not exist yet")
	pg = au.get("/console/audit?as_of=yesterday")
	require.Equal(t, http.StatusUnprocessableEntity, pg.Status)
	require.Regexp(t, `(?s)id="as_of".*class="field-error"`, pg.Body)

	pg = au.get("/console/export/registrations.csv")
	require.Equal(t, http.StatusOK, pg.Status)
	require.True(t, strings.HasPrefix(pg.Header.Get("Content-Type"), "text/csv"))
	rows, err := csv.NewReader(strings.NewReader(pg.Body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 3)
	require.Equal(t, "id", rows[0][0])
	pg = au.get("/console/export/conflicts.csv")
	require.Equal(t, http.StatusOK, pg.Status)
	require.True(t, strings.HasPrefix(pg.Body, "id,kind,status"))
	require.Equal(t, http.StatusNotFound, au.get("/console/export/secrets.csv").Status)
}
