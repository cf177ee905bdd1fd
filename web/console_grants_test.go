package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

var grantIDRE = regexp.MustCompile(`name="grant" value="([0-9a-f-]{36})"`)

// Certifications and territory grants from the console's partner page:
// listed, added and revoked; field errors beside their own form's fields
// with the input kept and nothing appended; a role the domain refuses
// told in its words; CSRF checked.
func TestPartnerProgramForms(t *testing.T) {
	s := newTestSite(t)
	page := "/console/partners/acme"
	dir := s.client(t)
	dir.signIn(s.user(t, domain.RoleChannelDirector, "", "en"))
	pg := dir.get(page)
	require.Equal(t, http.StatusOK, pg.Status)
	require.Contains(t, pg.Body, `id="cred-form"`)
	require.Contains(t, pg.Body, `id="grant-form"`)
	today := s.clock.Now().Format(time.DateOnly)

	t.Run("CredentialFieldErrors", func(t *testing.T) {
		head := s.head()
		pg := dir.post(page, page, url.Values{"action": {"credential-add"}, "kind": {"training"}, "name": {"Ventas consultivas"}, "issued": {"soon"}})
		require.Equal(t, http.StatusUnprocessableEntity, pg.Status)
		m := mainOf(pg.Body)
		require.Regexp(t, `id="cred-issued"[^>]*value="soon"`, m)
		require.Contains(t, m, `id="cred-issued-error"`)
		require.Contains(t, m, `value="Ventas consultivas"`)
		require.Contains(t, m, `<option value="training" selected>`)
		require.NotContains(t, m, `id="grant-country-error"`, "errors stay with their form")
		pg = dir.post(page, page, url.Values{"action": {"credential-add"}, "kind": {"certification"}, "name": {" "}, "issued": {today}, "expires": {"2020-01-01"}})
		require.Equal(t, http.StatusUnprocessableEntity, pg.Status)
		require.Contains(t, pg.Body, `id="cred-name-error"`)
		require.Contains(t, pg.Body, `id="cred-expires-error"`)
		require.Equal(t, head, s.head())
	})

	pg = dir.post(page, page, url.Values{"action": {"credential-add"}, "kind": {"certification"}, "name": {"Cloud Architect"}, "issued": {"2026-01-15"}})
	require.Equal(t, http.StatusOK, pg.Status)
	require.Equal(t, page, pg.URL)
	require.Contains(t, pg.Body, "Certification recorded.")
	require.Regexp(t, `(?s)id="credentials".*Cloud Architect.*in force`, pg.Body)
	require.Contains(t, pg.Body, `value="credential-revoke"`)

	pg = dir.post(page, page, url.Values{"action": {"credential-revoke"}, "kind": {"certification"}, "name": {"Cloud Architect"}})
	require.Equal(t, http.StatusOK, pg.Status)
	require.Contains(t, pg.Body, "Certification revoked")
	require.Regexp(t, `(?s)id="credentials".*Cloud Architect.*not in force`, pg.Body)
	require.NotContains(t, pg.Body, `value="credential-revoke"`)
	p, _ := s.app.Directory.Partner("acme")
	c, ok := p.Standing.Credential(domain.CredentialCertification, "Cloud Architect")
	require.True(t, ok)
	require.Equal(t, s.clock.Now(), c.Expires)
	require.False(t, c.ValidAt(s.clock.Now()))

	t.Run("GrantFieldErrors", func(t *testing.T) {
		head := s.head()
		pg := dir.post(page, page, url.Values{"action": {"grant-add"}, "country": {"Mexico"}, "region": {"Noreste"}, "valid_from": {"2026-04-01"}, "valid_to": {"2026-03-01"}})
		require.Equal(t, http.StatusUnprocessableEntity, pg.Status)
		m := mainOf(pg.Body)
		require.Contains(t, m, `id="grant-country-error"`)
		require.Contains(t, m, `id="grant-to-error"`)
		require.Regexp(t, `id="grant-country"[^>]*value="Mexico"`, m)
		require.Regexp(t, `id="grant-region"[^>]*value="Noreste"`, m)
		require.Regexp(t, `id="grant-from"[^>]*value="2026-04-01"`, m)
		require.NotContains(t, m, `id="cred-name-error"`)
		require.Equal(t, head, s.head())
	})

	pg = dir.post(page, page, url.Values{"action": {"grant-add"}, "country": {"mx"}, "region": {"Noreste"}, "vertical": {"Salud"}, "valid_from": {"2026-03-01"}, "valid_to": {"2027-03-01"}})
	require.Equal(t, http.StatusOK, pg.Status)
	require.Contains(t, pg.Body, "Territory granted.")
	require.Regexp(t, `(?s)id="grants".*MX · Noreste · Salud.*in force`, pg.Body)
	gid := grantIDRE.FindStringSubmatch(pg.Body)
	require.NotNil(t, gid)

	t.Run("RevokeNeedsAReason", func(t *testing.T) {
		head := s.head()
		pg := dir.post(page, page, url.Values{"action": {"grant-revoke"}, "grant": {gid[1]}, "reason": {"  "}})
		require.Equal(t, http.StatusUnprocessableEntity, pg.Status)
		require.Contains(t, pg.Body, `id="revoke-`+gid[1]+`-error"`)
		require.Equal(t, head, s.head())
	})
	t.Run("ManagerRefused", func(t *testing.T) {
		cm := s.client(t)
		cm.signIn(s.user(t, domain.RoleChannelManager, "", "en"))
		head := s.head()
		pg := cm.post(page, page, url.Values{"action": {"grant-add"}, "country": {"MX"}, "valid_from": {"2026-03-01"}, "valid_to": {"2027-03-01"}})
		require.Equal(t, http.StatusUnprocessableEntity, pg.Status)
		require.Regexp(t, `id="partner-error">[^<]*may not grant territories`, pg.Body)
		require.Regexp(t, `id="grant-country"[^>]*value="MX"`, pg.Body)
		require.Equal(t, head, s.head())
	})
	t.Run("CSRF", func(t *testing.T) {
		head := s.head()
		pg := dir.post(page, page, url.Values{"csrf": {"forged"}, "action": {"grant-revoke"}, "grant": {gid[1]}, "reason": {"x"}})
		require.Equal(t, http.StatusForbidden, pg.Status)
		require.Equal(t, head, s.head())
	})

	pg = dir.post(page, page, url.Values{"action": {"grant-revoke"}, "grant": {gid[1]}, "reason": {"contract ended early"}})
	require.Equal(t, http.StatusOK, pg.Status)
	require.Contains(t, pg.Body, "Grant revoked")
	require.Regexp(t, `(?s)id="grants".*revoked on \d{4}-\d\d-\d\d: contract ended early`, pg.Body)
	require.NotContains(t, pg.Body, `value="grant-revoke"`)
	require.Equal(t, []string{"PartnerAdded", "PartnerCredentialRecorded", "PartnerCredentialRecorded", "TerritoryGranted", "TerritoryGrantRevoked"},
		s.streamTypes(t, domain.PartnerStream("acme")))

	// In Spanish, the same page's forms.
	es := s.client(t)
	es.signIn(s.user(t, domain.RoleChannelDirector, "", "es"))
	body := es.get(page).Body
	require.Contains(t, body, "Registrar una certificación")
	require.Contains(t, body, "Conceder un territorio")
	require.Contains(t, body, "revocado el")
}
