package web_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
)

// local turns a link mailed for the public address (https://portal.test)
// into one on the test server.
func (b *tab) local(link string) string {
	return b.base + strings.TrimPrefix(link, "https://portal.test")
}

var mailedLinkRE = regexp.MustCompile(`https://portal\.test/login/link\?t=\S+`)

// mailedLink returns the n-th (from 1) sign-in link mailed to email.
func (m mailbox) mailedLink(t *testing.T, email string, n int) string {
	t.Helper()
	body := m.wait(t, email, n)[n-1].Body
	link := mailedLinkRE.FindString(body)
	require.NotEmpty(t, link, body)
	return link
}

// The e-mailed sign-in link in the browser: asked for on the sign-in
// page, read from the mail server, opened, signed in; the same link
// opened again, and a link opened after its lifetime, are refused.
func TestBrowser_SignInLink(t *testing.T) {
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			s, box := newMailSite(t)
			email := s.user(t, domain.RolePartner, "acme", "en")
			b := s.tab(t, vp, "partner")
			b.do(chromedp.Navigate(b.base+"/login"), chromedp.Click(chromedp.CSS("#link-instead")),
				chromedp.WaitVisible(chromedp.CSS("#link-email")), chromedp.SendKeys(chromedp.CSS("#link-email"), email))
			b.screenshot("link-ask")
			b.do(chromedp.Click(chromedp.CSS(`form[action="/login/link/send"] button`)), chromedp.WaitVisible(chromedp.CSS("#link-sent")))
			require.Contains(t, b.text("#link-sent"), email)
			b.screenshot("link-sent")

			link := box.mailedLink(t, email, 1)
			b.do(chromedp.Navigate(b.local(link)), chromedp.WaitVisible(chromedp.CSS("#link-sign-in")))
			b.screenshot("link-open")
			b.do(chromedp.Click(chromedp.CSS("#link-sign-in")), chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"]`)))
			require.Equal(t, "/portal", b.location())
			require.Contains(t, b.text("footer"), "Test partner")
			b.screenshot("signed-in")

			// The same link, opened again in another browser, is spent.
			other := s.tab(t, vp, "again")
			before := s.head()
			other.do(chromedp.Navigate(other.local(link)), chromedp.Click(chromedp.CSS("#link-sign-in")),
				chromedp.WaitNotPresent(chromedp.CSS("#link-sign-in")), chromedp.WaitVisible(chromedp.CSS("main h1")))
			require.Contains(t, other.text("main"), "Ask for a new one.")
			require.NotContains(t, other.location(), "/portal")
			require.Equal(t, before, s.head(), "a refused link records nothing")
			other.screenshot("link-used")

			// A fresh link, opened once its lifetime has passed.
			late := s.tab(t, vp, "late")
			late.do(chromedp.Navigate(late.base+"/login/link"), chromedp.SendKeys(chromedp.CSS("#link-email"), email),
				chromedp.Click(chromedp.CSS(`form[action="/login/link/send"] button`)), chromedp.WaitVisible(chromedp.CSS("#link-sent")))
			expired := box.mailedLink(t, email, 2)
			require.NotEqual(t, link, expired)
			s.clock.Advance(app.SignInLinkLifetime)
			late.do(chromedp.Navigate(late.local(expired)), chromedp.Click(chromedp.CSS("#link-sign-in")),
				chromedp.WaitNotPresent(chromedp.CSS("#link-sign-in")), chromedp.WaitVisible(chromedp.CSS("main h1")))
			require.Contains(t, late.text("main"), "Ask for a new one.")
			late.do(chromedp.Navigate(late.base+"/portal"), chromedp.WaitVisible(chromedp.CSS("#email")))
			require.Equal(t, "/login", strings.SplitN(late.location(), "?", 2)[0], "still signed out")
			late.screenshot("link-expired")
		})
	}
}

var inviteLinkRE = regexp.MustCompile(`https://portal\.test/invite/\S+`)

// The partner admin's team page in the browser: the admin invites a
// colleague, the colleague accepts the mailed invitation and signs in,
// sees the team but no invitation form and is refused an invitation
// forged with its own session; another partner's admin sees none of them.
func TestBrowser_Team(t *testing.T) {
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			s, box := newMailSite(t)
			ctx := t.Context()
			for _, a := range []struct{ name, email, partner string }{
				{"Ana Admin", "ana@acme.example", "acme"}, {"Gil Admin", "gil@globex.example", "globex"},
			} {
				inv, err := s.app.InvitePartnerAdmin(ctx, adminCall, domain.UserPersonal{Name: a.name, Email: a.email}, a.partner, "en")
				require.NoError(t, err)
				_, err = s.app.AcceptInvitation(ctx, inv.Secret, testPassword, fastArgon2)
				require.NoError(t, err)
			}
			admin := s.tab(t, vp, "admin")
			admin.signIn("ana@acme.example")
			admin.do(chromedp.Click(chromedp.CSS(`nav a[href="/portal/team"]`)), chromedp.WaitVisible(chromedp.CSS("form.team-invite")))
			admin.do(chromedp.SendKeys(chromedp.CSS("#team-name"), "Beto Colega"),
				chromedp.SendKeys(chromedp.CSS("#team-email"), "beto@acme.example"),
				chromedp.SetValue(chromedp.CSS("#team-language"), "es"))
			admin.screenshot("team-invite")
			admin.do(chromedp.Click(chromedp.CSS("form.team-invite button")), chromedp.WaitVisible(chromedp.CSS("#invited")))
			require.Contains(t, admin.text("#invited"), "e-mailed")
			require.Contains(t, admin.text("table.table"), "beto@acme.example")
			admin.screenshot("team-invited")

			// The colleague accepts the mailed invitation, in Spanish.
			msg := box.wait(t, "beto@acme.example", 1)[0]
			require.Equal(t, "es", msg.Language)
			invite := inviteLinkRE.FindString(msg.Body)
			require.NotEmpty(t, invite, msg.Body)
			beto := s.tab(t, vp, "colleague")
			beto.do(chromedp.Navigate(beto.local(invite)), chromedp.WaitVisible(chromedp.CSS("#password")),
				chromedp.SendKeys(chromedp.CSS("#password"), testPassword), chromedp.SendKeys(chromedp.CSS("#password2"), testPassword))
			beto.screenshot("invite-accept")
			beto.do(chromedp.Click(chromedp.CSS("form.card button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#email")))
			beto.signIn("beto@acme.example")
			require.Equal(t, "/portal", beto.location())

			// Not an admin: the team without the form, and a forged
			// invitation with the colleague's own session is refused.
			beto.do(chromedp.Navigate(beto.base+"/portal/team"), chromedp.WaitVisible(chromedp.CSS("table.table")))
			require.Contains(t, beto.text("main"), "ana@acme.example")
			n := must(chromedp.Run(beto.ctx, chromedp.Evaluate[int](`document.querySelectorAll("form.team-invite").length`)))
			require.Zero(t, n)
			beto.screenshot("team-not-admin")
			before := s.head()
			must(chromedp.Run(beto.ctx, chromedp.Evaluate[bool](`(() => {
				const f = document.createElement("form");
				f.method = "post"; f.action = "/portal/team";
				for (const [k, v] of [["csrf", document.querySelector("input[name=csrf]").value], ["name", "Carla"], ["email", "carla@acme.example"], ["language", "es"]]) {
					const i = document.createElement("input"); i.type = "hidden"; i.name = k; i.value = v; f.append(i);
				}
				document.body.append(f); f.submit(); return true;
			})()`)))
			beto.do(chromedp.WaitNotPresent(chromedp.CSS("table.table")), chromedp.WaitVisible(chromedp.CSS("main h1")))
			require.Contains(t, beto.text("main"), "No puede abrir esta página.")
			require.Equal(t, before, s.head(), "a refused invitation records nothing")
			_, invited := s.app.Users.UserByEmail("carla@acme.example")
			require.False(t, invited)
			beto.screenshot("invite-refused")

			// Another partner's admin sees its own people only.
			gil := s.tab(t, vp, "other-admin")
			gil.signIn("gil@globex.example")
			gil.do(chromedp.Navigate(gil.base+"/portal/team"), chromedp.WaitVisible(chromedp.CSS("form.team-invite")))
			team := gil.text("main")
			require.Contains(t, team, "gil@globex.example")
			for _, theirs := range []string{"ana@acme.example", "beto@acme.example", "Beto Colega"} {
				require.NotContains(t, team, theirs)
			}
			gil.screenshot("other-team")
		})
	}
}

// The unread count in the portal's header, in the browser: shown until
// the inbox is seen, then gone in this browser and in another one.
func TestBrowser_InboxUnread(t *testing.T) {
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			s := newTestSite(t)
			s.registration(t, "acme", "Empresa Uno", "uno.example", true)
			email := s.user(t, domain.RolePartner, "acme", "en")
			b := s.tab(t, vp, "partner")
			b.signIn(email)
			require.Regexp(t, `^\d+ new$`, b.text("#unread-badge"))
			b.screenshot("unread-badge")
			b.do(chromedp.Click(chromedp.CSS("#nav-inbox")), chromedp.WaitVisible(chromedp.CSS("ol.inbox li.unread")),
				chromedp.WaitNotPresent(chromedp.CSS("#unread-badge")))
			b.screenshot("inbox-read")
			other := s.tab(t, vp, "other-browser")
			other.signIn(email)
			other.do(chromedp.WaitNotPresent(chromedp.CSS("#unread-badge")))
			require.Contains(t, other.text("#nav-inbox"), "Notifications")
		})
	}
}
