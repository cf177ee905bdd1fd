package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/notify/smtpsink"
)

// mailbox is the tests' SMTP server (notify/smtpsink).
type mailbox struct{ *smtpsink.Sink }

func newMailbox(tb testing.TB) mailbox { return mailbox{smtpsink.New(tb)} }

// wait returns the messages to address to once there are n of them.
func (m mailbox) wait(tb testing.TB, to string, n int) []smtpsink.Message {
	tb.Helper()
	var out []smtpsink.Message
	require.Eventually(tb, func() bool {
		out = m.To(to)
		return len(out) >= n
	}, 10*time.Second, 10*time.Millisecond)
	return out
}

func (m mailbox) count() int { return len(m.Messages()) }

func newMailSite(t *testing.T) (*site, mailbox) {
	box := newMailbox(t)
	s, stop := newSiteWith(t, t.TempDir(), func(c *app.Config) {
		c.Outbox.SMTP = app.SMTPConfig{Addr: box.Addr(), From: "dealreg@portal.test"}
	})
	t.Cleanup(stop)
	return s, box
}

var linkRE = regexp.MustCompile(`https://portal\.test(/login/link\?t=[^\s]+)`)

func TestSignInLink(t *testing.T) {
	s, box := newMailSite(t)
	email := s.user(t, domain.RolePartner, "acme", "es")
	c := s.client(t)
	require.Contains(t, c.get("/login").Body, `href="/login/link"`)

	before := s.head()
	p := c.post("/login/link", "/login/link/send", url.Values{"email": {email}})
	require.Equal(t, http.StatusOK, p.Status)
	require.Contains(t, p.Body, `id="link-sent"`)
	require.Equal(t, before+1, s.head(), "the link's issue is one event")
	msg := box.wait(t, email, 1)[0]
	require.Equal(t, "es", msg.Language)
	require.Contains(t, msg.Body, "Funciona una sola vez")
	m := linkRE.FindStringSubmatch(msg.Body)
	require.NotNil(t, m, msg.Body)
	link := m[1]
	token, err := url.QueryUnescape(strings.TrimPrefix(link, "/login/link?t="))
	require.NoError(t, err)

	// The ledger keeps the token's SHA-256, never the token.
	recs, err := s.store.ReadAll(t.Context(), domain.ReadAllOptions{FromEnd: true, Direction: domain.Backwards, Count: 1})
	require.NoError(t, err)
	require.Equal(t, "SignInLinkIssued", recs[0].Type)
	require.NotContains(t, string(recs[0].Data), token)
	require.Contains(t, string(recs[0].Data), app.HashSecret(token))

	// Opening the link signs no one in: it shows a button.
	opened := c.get(link)
	require.Equal(t, http.StatusOK, opened.Status)
	require.Contains(t, opened.Body, `id="link-sign-in"`)
	require.Equal(t, "/login", c.get("/portal").URL)
	signed := c.post(link, "/login/link", url.Values{"t": {token}})
	require.Equal(t, http.StatusOK, signed.Status)
	require.Equal(t, "/portal", signed.URL)

	t.Run("SingleUse", func(t *testing.T) {
		other := s.client(t)
		before := s.head()
		p := other.post("/login", "/login/link", url.Values{"t": {token}})
		require.Equal(t, http.StatusUnauthorized, p.Status)
		require.Contains(t, p.Body, "Ask for a new one.")
		require.Equal(t, before, s.head())
	})
	t.Run("Altered", func(t *testing.T) {
		other := s.client(t)
		before := s.head()
		fresh := other.post("/login/link", "/login/link/send", url.Values{"email": {email}})
		require.Equal(t, http.StatusOK, fresh.Status)
		tok := mustToken(t, box.wait(t, email, 2)[1].Body)
		p := other.post("/login", "/login/link", url.Values{"t": {tok[:len(tok)-2] + "xx"}})
		require.Equal(t, http.StatusUnauthorized, p.Status)
		require.Equal(t, before+1, s.head(), "only the issue is recorded")
	})
	t.Run("Expires", func(t *testing.T) {
		other := s.client(t)
		other.post("/login/link", "/login/link/send", url.Values{"email": {email}})
		tok := mustToken(t, box.wait(t, email, 3)[2].Body)
		s.clock.Advance(app.SignInLinkLifetime)
		before := s.head()
		require.Equal(t, http.StatusUnauthorized, other.post("/login", "/login/link", url.Values{"t": {tok}}).Status)
		require.Equal(t, before, s.head())
	})
	t.Run("UnknownAddressAnswersAlike", func(t *testing.T) {
		other := s.client(t)
		before, sent := s.head(), box.count()
		p := other.post("/login/link", "/login/link/send", url.Values{"email": {"nobody@acme.example"}})
		require.Equal(t, http.StatusOK, p.Status)
		require.Contains(t, p.Body, `id="link-sent"`)
		require.Equal(t, before, s.head())
		time.Sleep(100 * time.Millisecond)
		require.Equal(t, sent, box.count())
	})
	t.Run("RateLimited", func(t *testing.T) {
		victim := s.user(t, domain.RolePartner, "acme", "en")
		other := s.client(t)
		for range 3 {
			require.Equal(t, http.StatusOK, other.post("/login/link", "/login/link/send", url.Values{"email": {victim}}).Status)
		}
		before := s.head()
		require.Equal(t, http.StatusTooManyRequests, other.post("/login/link", "/login/link/send", url.Values{"email": {victim}}).Status)
		require.Equal(t, before, s.head())
	})
	t.Run("CSRF", func(t *testing.T) {
		other := s.client(t)
		before := s.head()
		require.Equal(t, http.StatusForbidden, other.post("/login/link", "/login/link/send", url.Values{"csrf": {"forged"}, "email": {email}}).Status)
		require.Equal(t, before, s.head())
	})
}

func mustToken(t *testing.T, body string) string {
	t.Helper()
	m := linkRE.FindStringSubmatch(body)
	require.NotNil(t, m, body)
	tok, err := url.QueryUnescape(strings.TrimPrefix(m[1], "/login/link?t="))
	require.NoError(t, err)
	return tok
}

// Without a mail server no link is issued, and the page says to use the
// password.
func TestSignInLink_NoMailServer(t *testing.T) {
	s := newTestSite(t)
	email := s.user(t, domain.RolePartner, "acme", "en")
	c := s.client(t)
	before := s.head()
	p := c.post("/login/link", "/login/link/send", url.Values{"email": {email}})
	require.Equal(t, http.StatusServiceUnavailable, p.Status)
	require.Contains(t, p.Body, "This server sends no e-mail")
	require.Equal(t, before, s.head())
}

// A partner's admin invites colleagues of its own partner only; the
// invitation is e-mailed and works; a partner user who is not an admin
// may not invite.
func TestPartnerAdminInvitesColleague(t *testing.T) {
	s, box := newMailSite(t)
	ctx := t.Context()
	inv, err := s.app.InvitePartnerAdmin(ctx, adminCall, domain.UserPersonal{Name: "Ana Admin", Email: "ana@acme.example"}, "acme", "en")
	require.NoError(t, err)
	_, err = s.app.AcceptInvitation(ctx, inv.Secret, testPassword, fastArgon2)
	require.NoError(t, err)
	c := s.client(t)
	require.Equal(t, "/portal", c.signIn("ana@acme.example").URL)
	p := c.get("/portal/team")
	require.Equal(t, http.StatusOK, p.Status)
	require.Contains(t, p.Body, `class="card narrow team-invite"`)

	t.Run("FieldErrors", func(t *testing.T) {
		before := s.head()
		p := c.post("/portal/team", "/portal/team", url.Values{"name": {""}, "email": {"not an address"}, "language": {"en"}})
		require.Equal(t, http.StatusUnprocessableEntity, p.Status)
		require.Contains(t, p.Body, `id="team-name-error"`)
		require.Contains(t, p.Body, `id="team-email-error"`)
		require.Contains(t, p.Body, `value="not an address"`)
		require.Equal(t, before, s.head())
	})

	// The form names no partner: a partner_id sent anyway is ignored.
	p = c.post("/portal/team", "/portal/team", url.Values{"name": {"Beto Colega"}, "email": {"beto@acme.example"}, "language": {"es"}, "partner_id": {"globex"}})
	require.Equal(t, http.StatusOK, p.Status)
	require.Contains(t, p.Body, `id="invite-link"`)
	u, ok := s.app.Users.UserByEmail("beto@acme.example")
	require.True(t, ok)
	require.Equal(t, "acme", u.PartnerID)
	require.Equal(t, domain.RolePartner, u.Role)
	require.False(t, u.PartnerAdmin)
	msg := box.wait(t, "beto@acme.example", 1)[0]
	require.Equal(t, "es", msg.Language)
	secret := regexp.MustCompile(`https://portal\.test/invite/(\S+)`).FindStringSubmatch(msg.Body)
	require.NotNil(t, secret, msg.Body)
	beto := s.client(t)
	accepted := beto.post("/invite/"+secret[1], "/invite/"+secret[1], url.Values{"password": {testPassword}, "password2": {testPassword}})
	require.Equal(t, "/login", accepted.URL)
	require.Equal(t, "/portal", beto.signIn("beto@acme.example").URL)

	// Beto is not an admin: no form, and a forged post is refused.
	require.NotContains(t, beto.get("/portal/team").Body, "team-invite")
	before := s.head()
	refused := beto.post("/portal/team", "/portal/team", url.Values{"name": {"Carla"}, "email": {"carla@acme.example"}, "language": {"es"}})
	require.Equal(t, http.StatusForbidden, refused.Status)
	require.Equal(t, before, s.head())

	// Another partner's page lists its own people only.
	other := s.partnerClient(t, "globex", "en")
	list := other.get("/portal/team").Body
	require.NotContains(t, list, "ana@acme.example")
	require.NotContains(t, list, "beto@acme.example")
}
