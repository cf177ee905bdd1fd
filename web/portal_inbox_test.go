package web_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

var unreadBadgeRE = regexp.MustCompile(`id="unread-badge">(\d+\+?) (new|nuevas)<`)

// badge is the header's unread count on page path ("" when none shows).
func (c *client) badge(path string) string {
	c.tb.Helper()
	p := c.get(path)
	require.Equal(c.tb, http.StatusOK, p.Status)
	if m := unreadBadgeRE.FindStringSubmatch(p.Body); m != nil {
		return m[1]
	}
	require.NotContains(c.tb, p.Body, `id="unread-badge"`)
	return ""
}

// The inbox's read mark is the user's, kept on the server: the header
// counts what the user has not seen, in every browser; seeing the inbox
// records one UserNotificationsRead on the user's stream (none when there
// is no news); a colleague's mark is its own; another partner's count is
// of its own notices.
func TestPortalNotifications_ReadPerUser(t *testing.T) {
	s := newTestSite(t)
	s.registration(t, "acme", "Empresa Uno", "uno.example", true)
	s.registration(t, "globex", "Globex Cliente", "gc.example", false)
	s.publishPolicy(t, "new terms")
	email := s.user(t, domain.RolePartner, "acme", "en")
	ana := s.client(t)
	require.Equal(t, "/portal", ana.signIn(email).URL)

	inbox := ana.get("/portal/notifications")
	n := strings.Count(inbox.Body, `class="card unread"`)
	require.GreaterOrEqual(t, n, 4, "submission, verdict, approval, policy")
	require.Contains(t, inbox.Body, "Unread: "+strconv.Itoa(n))

	u, ok := s.app.Users.UserByEmail(email)
	require.True(t, ok)
	require.NotZero(t, u.ReadThrough)
	types := s.streamTypes(t, domain.UserStream(u.ID))
	require.Equal(t, "UserNotificationsRead", types[len(types)-1])

	// Read: no badge, here or in another browser, and nothing recorded
	// again for a visit without news.
	require.Empty(t, ana.badge("/portal"))
	phone := s.client(t)
	phone.signIn(email)
	require.Empty(t, phone.badge("/portal"))
	before := s.head()
	require.Contains(t, phone.get("/portal/notifications").Body, "Unread: 0")
	require.Equal(t, before, s.head())

	// A colleague has a mark of its own: everything is new to it.
	beto := s.partnerClient(t, "acme", "es")
	require.Equal(t, strconv.Itoa(n), beto.badge("/portal"))

	// Something new for acme shows in Ana's header, in both browsers.
	s.registration(t, "acme", "Empresa Dos", "dos.example", false)
	got := ana.badge("/portal")
	require.NotEmpty(t, got)
	require.Equal(t, got, phone.badge("/portal/policies"))
	p := phone.get("/portal/notifications")
	require.Contains(t, p.Body, "Empresa Dos")
	require.Contains(t, p.Body, "Unread: "+got)
	require.Empty(t, ana.badge("/portal"))

	// Globex counts its own notices (its submission's and the policy's),
	// none of acme's.
	gl := s.partnerClient(t, "globex", "en")
	body := gl.get("/portal/notifications").Body
	m := strings.Count(body, `class="card unread"`)
	require.NotContains(t, body, "Empresa")
	gl2 := s.partnerClient(t, "globex", "en")
	require.Equal(t, strconv.Itoa(m), gl2.badge("/portal"))
}

// Before any policy is published the inbox still answers (the policy
// stream does not exist yet).
func TestPortalNotifications_NoPolicyYet(t *testing.T) {
	s := newTestSite(t)
	s.registration(t, "acme", "Empresa Uno", "uno.example", false)
	c := s.partnerClient(t, "acme", "en")
	p := c.get("/portal/notifications")
	require.Equal(t, http.StatusOK, p.Status)
	require.Contains(t, p.Body, "Registration received: Empresa Uno")
}
