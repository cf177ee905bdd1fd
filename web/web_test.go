package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// Every message key exists in every language, so no page shows a key
// instead of a sentence in one of them.
func TestCatalogsAgree(t *testing.T) {
	keys := func(lang string) []string {
		b, err := os.ReadFile("locales/" + lang + ".json")
		require.NoError(t, err)
		var m map[string]string
		require.NoError(t, json.Unmarshal(b, &m))
		var out []string
		for k, v := range m {
			require.NotEmpty(t, v, "%s: %s is empty", lang, k)
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	require.Equal(t, keys("en"), keys("es"))
}

func TestSignIn(t *testing.T) {
	s := newTestSite(t)
	email := s.user(t, domain.RolePartner, "acme", "en")

	t.Run("OK", func(t *testing.T) {
		c := s.client(t)
		p := c.signIn(email)
		require.Equal(t, http.StatusOK, p.Status)
		require.Equal(t, "/portal", p.URL)
		require.Contains(t, p.Body, "Your registrations")
	})
	t.Run("CookieFlags", func(t *testing.T) {
		c := s.client(t)
		tok := c.csrf("/login")
		c.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		p := c.post("/login", "/login", url.Values{"csrf": {tok}, "email": {email}, "password": {testPassword}})
		require.Equal(t, http.StatusSeeOther, p.Status)
		var session string
		for _, v := range p.Header.Values("Set-Cookie") {
			if strings.HasPrefix(v, "dealreg_session=") {
				session = v
			}
		}
		require.Contains(t, session, "HttpOnly")
		require.Contains(t, session, "SameSite=Lax")
	})
	t.Run("WrongPasswordAndUnknownAnswerAlike", func(t *testing.T) {
		c := s.client(t)
		wrong := c.post("/login", "/login", url.Values{"email": {email}, "password": {"not the password at all"}})
		unknown := c.post("/login", "/login", url.Values{"email": {"nobody@acme.example"}, "password": {"not the password at all"}})
		require.Equal(t, http.StatusUnauthorized, wrong.Status)
		require.Equal(t, http.StatusUnauthorized, unknown.Status)
		require.Contains(t, wrong.Body, "The e-mail address or the password is wrong.")
		require.Contains(t, unknown.Body, "The e-mail address or the password is wrong.")
	})
	t.Run("RateLimitedPerAccount", func(t *testing.T) {
		victim := s.user(t, domain.RolePartner, "acme", "en")
		c := s.client(t)
		for range 5 {
			require.Equal(t, http.StatusUnauthorized, c.post("/login", "/login", url.Values{"email": {victim}, "password": {"guess guess guess"}}).Status)
		}
		// Even the right password is refused until the window passes.
		before := s.head()
		require.Equal(t, http.StatusTooManyRequests, c.signIn(victim).Status)
		require.Equal(t, before, s.head(), "a refused sign-in appends nothing")
		s.clock.Advance(16 * time.Minute)
		require.Equal(t, "/portal", c.signIn(victim).URL)
	})
	t.Run("SignOutEndsTheSession", func(t *testing.T) {
		c := s.client(t)
		c.signIn(email)
		cookie := c.http.Jar.Cookies(mustURL(t, s.url))
		p := c.post("/portal", "/logout", url.Values{})
		require.Equal(t, "/login", p.URL)
		// The old cookie, replayed, no longer works: the session ended in
		// the ledger, not only in this browser.
		again := s.client(t)
		again.http.Jar.SetCookies(mustURL(t, s.url), cookie)
		require.Equal(t, "/login", again.get("/portal").URL)
	})
	t.Run("AdminRevokesSessions", func(t *testing.T) {
		c := s.client(t)
		c.signIn(email)
		require.Equal(t, "/portal", c.get("/portal").URL)
		u, ok := s.app.Users.UserByEmail(email)
		require.True(t, ok)
		n, err := s.app.RevokeSessions(t.Context(), adminCall, u.ID)
		require.NoError(t, err)
		require.GreaterOrEqual(t, n, 1)
		require.Equal(t, "/login", c.get("/portal").URL)
	})
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

// Every POST needs the CSRF token of the session: a form posted from
// another site is refused before anything is done, and nothing is
// appended.
func TestCSRF(t *testing.T) {
	s := newTestSite(t)
	email := s.user(t, domain.RolePartner, "acme", "en")
	c := s.client(t)
	c.signIn(email)
	form := url.Values{"account.company_name": {"Forged SA"}, "action": {"draft"}}
	other := s.client(t)
	other.signIn(s.user(t, domain.RolePartner, "acme", "en"))
	for name, tok := range map[string]string{"missing": "", "wrong": "forged-token", "another session's": other.csrf("/portal")} {
		t.Run(name, func(t *testing.T) {
			before := s.head()
			f := url.Values{"csrf": {tok}}
			for k, v := range form {
				f[k] = v
			}
			if tok == "" {
				f.Del("csrf")
				f.Set("csrf", "")
			}
			p := c.post("/portal", "/portal/registrations", f)
			require.Equal(t, http.StatusForbidden, p.Status)
			require.Equal(t, before, s.head())
		})
	}
	t.Run("SignInFormToo", func(t *testing.T) {
		anon := s.client(t)
		p := anon.post("/login", "/login", url.Values{"csrf": {"x"}, "email": {email}, "password": {testPassword}})
		require.Equal(t, http.StatusForbidden, p.Status)
	})
}

// A partner user never sees another partner's registration: its page, its
// edit form, its upload and its save answer exactly what a registration
// that does not exist answers.
func TestNotYours(t *testing.T) {
	s := newTestSite(t)
	theirs := s.registration(t, "globex", "Empresa XYZ", "xyz.example", false)
	c := s.client(t)
	c.signIn(s.user(t, domain.RolePartner, "acme", "en"))
	missing := uuid.New()
	// The pages differ only where they name the requested path (the
	// language switch's way back), which the requester typed.
	same := func(p page, id uuid.UUID) string { return strings.ReplaceAll(p.Body, id.String(), "{id}") }
	for _, suffix := range []string{"", "/edit"} {
		a, b := c.get("/portal/registrations/"+theirs.String()+suffix), c.get("/portal/registrations/"+missing.String()+suffix)
		require.Equal(t, http.StatusNotFound, a.Status)
		require.Equal(t, b.Status, a.Status)
		require.Equal(t, same(b, missing), same(a, theirs))
	}
	before := s.head()
	a := c.post("/portal", "/portal/registrations/"+theirs.String(), url.Values{"account.company_name": {"Mine now"}})
	b := c.post("/portal", "/portal/registrations/"+missing.String(), url.Values{"account.company_name": {"Mine now"}})
	require.Equal(t, http.StatusNotFound, a.Status)
	require.Equal(t, same(b, missing), same(a, theirs))
	require.Equal(t, before, s.head())
	// Nor may a partner open the console.
	require.Equal(t, http.StatusForbidden, c.get("/console").Status)
	require.Equal(t, http.StatusForbidden, c.get("/console/registrations/"+theirs.String()).Status)
}

// A submission that is not ready comes back with every field error beside
// its field, and everything typed kept; saving a draft needs nothing.
func TestRegistrationForm(t *testing.T) {
	s := newTestSite(t)
	c := s.client(t)
	c.signIn(s.user(t, domain.RolePartner, "acme", "en"))
	before := s.head()
	p := c.post("/portal/registrations/new", "/portal/registrations", url.Values{
		"account.company_name": {"Nueva Cadena SA"}, "opportunity.estimated_value": {"lots"}, "opportunity.currency": {"USD"},
		"relationship.next_steps": {"Demo <next> week"}, "action": {"submit"},
	})
	require.Equal(t, http.StatusUnprocessableEntity, p.Status)
	require.Equal(t, before, s.head(), "a refused submission appends nothing")
	require.Contains(t, p.Body, `value="Nueva Cadena SA"`)
	require.Contains(t, p.Body, `value="lots"`)
	require.Contains(t, p.Body, "Demo &lt;next&gt; week")
	for _, id := range []string{"f-opportunity-estimated-value-error", "f-account-country-error", "f-relationship-how-found-error"} {
		require.Contains(t, p.Body, `id="`+id+`"`)
	}
	// With everything readable, every missing field is named at once.
	p = c.post("/portal/registrations/new", "/portal/registrations", url.Values{
		"account.company_name": {"Nueva Cadena SA"}, "action": {"submit"},
	})
	require.Equal(t, http.StatusUnprocessableEntity, p.Status)
	for _, id := range []string{"f-account-country-error", "f-opportunity-product-lines-error", "f-opportunity-estimated-value-error",
		"f-opportunity-expected-close-date-error", "f-relationship-how-found-error", "f-relationship-first-contact-date-error"} {
		require.Contains(t, p.Body, `id="`+id+`"`, "every missing field is named at once")
	}
	// A draft is saved with whatever is there.
	p = c.post("/portal/registrations/new", "/portal/registrations", url.Values{"account.company_name": {"Nueva Cadena SA"}, "action": {"draft"}})
	require.Equal(t, http.StatusOK, p.Status)
	require.Contains(t, p.Body, "Draft saved.")
	require.Contains(t, p.Body, "Looks free")
	require.Greater(t, s.head(), before)
}

// The duplicate hint says whether an account is taken, never by whom, and
// is limited per session.
func TestDuplicateHint(t *testing.T) {
	s := newTestSite(t)
	s.registration(t, "globex", "Empresa XYZ", "xyz.example", true)
	c := s.client(t)
	c.signIn(s.user(t, domain.RolePartner, "acme", "en"))
	hint := func(company, domain string) page {
		return c.get("/portal/duplicate-hint?" + url.Values{"company_name": {company}, "domain": {domain}, "country": {"MX"}}.Encode())
	}
	p := hint("Empresa XYZ", "xyz.example")
	require.Equal(t, http.StatusOK, p.Status)
	require.Equal(t, "registered", p.Header.Get("X-Hint"))
	require.NotContains(t, p.Body, "globex")
	require.NotContains(t, strings.ToLower(p.Body), "globex partners")
	require.Equal(t, "looks_free", hint("Panaderia Las Flores", "").Header.Get("X-Hint"))
	require.Equal(t, "too_little", hint("ab", "").Header.Get("X-Hint"))
	for range 60 {
		hint("Panaderia Las Flores", "")
	}
	require.Equal(t, http.StatusTooManyRequests, hint("Panaderia Las Flores", "").Status)
}

func TestLanguage(t *testing.T) {
	s := newTestSite(t)
	t.Run("AcceptLanguage", func(t *testing.T) {
		c := s.client(t)
		c.lang = "es-MX,es;q=0.9,en;q=0.5"
		p := c.get("/login")
		require.Contains(t, p.Body, `<html lang="es">`)
		require.Contains(t, p.Body, "Iniciar sesión")
		c.lang = "fr-FR, de;q=0.5"
		require.Contains(t, c.get("/login").Body, `<html lang="en">`)
	})
	t.Run("UserSettingWins", func(t *testing.T) {
		c := s.client(t)
		c.lang = "en-US"
		c.signIn(s.user(t, domain.RolePartner, "acme", "es"))
		p := c.get("/portal/registrations/new")
		require.Contains(t, p.Body, "Nombre de la empresa")
		p = c.post("/portal", "/settings/language", url.Values{"language": {"en"}, "back": {"/portal/registrations/new"}})
		require.Contains(t, p.Body, "Company name")
	})
}

// The console's decisions over plain forms: a rejection without its
// reason comes back with the errors beside the fields and nothing
// appended; a return sends the registration back to the partner, who sees
// the reviewer's message, completes it and submits again; the queue marks
// what is overdue.
func TestConsole(t *testing.T) {
	s := newTestSite(t)
	id := s.registration(t, "acme", "Nueva Cadena SA", "nuevacadena.example", false)
	cm := s.client(t)
	cm.signIn(s.user(t, domain.RoleChannelManager, "", "en"))
	queue := cm.get("/console")
	require.Contains(t, queue.Body, "Nueva Cadena SA")
	require.NotContains(t, queue.Body, "overdue-mark")
	review := "/console/registrations/" + id.String()

	before := s.head()
	p := cm.post(review, review+"/decide", url.Values{"action": {"reject"}, "explanation": {"We could not verify the contact."}})
	require.Equal(t, http.StatusUnprocessableEntity, p.Status)
	require.Contains(t, p.Body, "We could not verify the contact.", "what the reviewer typed is kept")
	require.Contains(t, p.Body, `class="field has-error"><label for="reason">`)
	require.Equal(t, before, s.head())

	p = cm.post(review, review+"/decide", url.Values{"action": {"return"}, "message": {"Attach the introduction e-mail, please."}})
	require.Equal(t, http.StatusOK, p.Status)
	require.Contains(t, p.Body, "Returned to the partner for information.")

	partner := s.client(t)
	partner.signIn(s.user(t, domain.RolePartner, "acme", "en"))
	edit := partner.get("/portal/registrations/" + id.String() + "/edit")
	require.Contains(t, edit.Body, "Attach the introduction e-mail, please.")
	require.Contains(t, edit.Body, `value="Nueva Cadena SA"`)
	form := url.Values{"action": {"submit"}}
	for _, k := range []string{"account.company_name", "account.domain", "account.country", "opportunity.product_lines",
		"opportunity.estimated_value", "opportunity.currency", "opportunity.expected_close_date", "relationship.how_found",
		"relationship.first_contact_date"} {
		m := regexp.MustCompile(`name="` + regexp.QuoteMeta(k) + `"[^>]*value="([^"]*)"`).FindStringSubmatch(edit.Body)
		if m != nil {
			form.Set(k, m[1])
		}
	}
	form.Set("relationship.how_found", "referral")
	p = partner.post("/portal/registrations/"+id.String()+"/edit", "/portal/registrations/"+id.String(), form)
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	require.Contains(t, p.Body, "Registration submitted.")

	s.clock.Advance(10 * 24 * time.Hour)
	require.Equal(t, "/login", cm.get("/console").URL, "the session expired meanwhile")
	cm.signIn(s.user(t, domain.RoleChannelManager, "", "en"))
	require.Contains(t, cm.get("/console").Body, "overdue-mark")
	// An auditor sees the queue and the review page, and no decision form.
	auditor := s.client(t)
	auditor.signIn(s.user(t, domain.RoleAuditor, "", "en"))
	require.NotContains(t, auditor.get(review).Body, `action="`+review+`/decide"`)
}

// A page with everything it loads (HTML, the stylesheet and the script)
// stays well under the 150 KB budget.
func TestPageWeight(t *testing.T) {
	s := newTestSite(t)
	c := s.client(t)
	c.signIn(s.user(t, domain.RolePartner, "acme", "en"))
	assets := len(c.get("/static/app.css").Body) + len(c.get("/static/app.js").Body)
	total := len(c.get("/portal/registrations/new").Body) + assets
	require.Less(t, total, 150<<10)
	t.Logf("registration form: %d bytes with the stylesheet and script", total)
	// The console's partner page with its certification and grant forms.
	dir := s.client(t)
	dir.signIn(s.user(t, domain.RoleChannelDirector, "", "en"))
	total = len(dir.get("/console/partners/acme").Body) + assets
	require.Less(t, total, 150<<10)
	t.Logf("partner page: %d bytes with the stylesheet and script", total)
}

// The review page sets a possible duplicate beside the claim it matched:
// its account and its holder, which only vendor staff may see.
func TestReviewShowsMatchesSideBySide(t *testing.T) {
	s := newTestSite(t)
	s.registration(t, "globex", "Cementos del Bajio SA", "", true)
	id := s.registration(t, "acme", "Cementos del Bajío", "", false)
	v, ok := s.app.Registrations.Get(id)
	require.True(t, ok)
	require.NotEqual(t, domain.StatusCleared, v.Status, "the second claim needs a reviewer")
	cm := s.client(t)
	cm.signIn(s.user(t, domain.RoleChannelManager, "", "en"))
	p := cm.get("/console/registrations/" + id.String())
	require.Contains(t, p.Body, "Matched claim")
	require.Contains(t, p.Body, "Cementos del Bajio SA")
	require.Contains(t, p.Body, "globex")
}
