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
	"github.com/dealreg/dealreg/projections"
)

var mailedAttestRE = regexp.MustCompile(`https://portal\.test(/attest/(dat_\S+))`)

// The customer attestation link is e-mailed by the outbox, not shown to
// the reviewer: it arrives at the contact, in the contact's language,
// with a link that works and nothing else of the case; the outbox keeps
// the link's parts, never its token.
func TestAttestationMailed(t *testing.T) {
	s, box := newMailSite(t)
	cid, globexReg, acmeReg := s.conflictCase(t)
	c := s.client(t)
	require.Equal(t, "/console", c.signIn(s.user(t, domain.RoleChannelManager, "", "en")).URL)
	path := "/console/conflicts/" + cid.String()
	require.Contains(t, c.get(path).Body, `id="contact-language"`)

	t.Run("FieldErrors", func(t *testing.T) {
		before := s.head()
		p := c.post(path, path, url.Values{"action": {"attest"}, "contact_name": {"Ana Pérez"}, "contact_email": {"not an address"}, "contact_language": {"fr"}})
		require.Equal(t, http.StatusUnprocessableEntity, p.Status)
		main := mainOf(p.Body)
		require.Regexp(t, `id="contact-email"[^>]*value="not an address"`, main)
		require.Regexp(t, `(?s)id="contact-language".*?</select><p class="field-error">`, main)
		require.Contains(t, main, `value="Ana Pérez"`)
		require.Equal(t, before, s.head())
	})

	p := c.post(path, path, url.Values{"action": {"attest"}, "contact_name": {"Ana Pérez"}, "contact_email": {"Ana@XYZ.example"}, "contact_language": {"es"}})
	require.Equal(t, http.StatusOK, p.Status)
	require.Contains(t, p.Body, "The link is being e-mailed to ana@xyz.example")
	require.NotContains(t, p.Body, "/attest/", "the reviewer is not shown the link")

	msg := box.wait(t, "ana@xyz.example", 1)[0]
	require.Equal(t, "es", msg.Language)
	require.Contains(t, msg.Body, "Hola Ana Pérez")
	m := mailedAttestRE.FindStringSubmatch(msg.Body)
	require.NotNil(t, m, msg.Body)
	link, token := m[1], m[2]
	for _, secret := range []string{cid.String(), globexReg.String(), acmeReg.String(), "Empresa XYZ", "Cadena Norte", "xyz.example/",
		"Globex", "Acme", "same customer", "Test channel_manager", "recommend"} {
		require.NotContains(t, msg.Subject+msg.Body, secret, "the mail tells nothing else of the case")
	}

	// The outbox stored the link's parts, not the token.
	var aid string
	v, ok := s.app.Conflicts.Get(cid)
	require.True(t, ok)
	require.Len(t, v.Attestations, 1)
	aid = v.Attestations[0].ID.String()
	dels, err := s.app.Outbox.Deliveries(t.Context(), projections.ContactPrefix+aid, "", 0, 10)
	require.NoError(t, err)
	require.Len(t, dels, 1)
	require.Equal(t, projections.DeliveryDelivered, dels[0].Status)
	require.NotContains(t, string(dels[0].Payload), strings.TrimPrefix(token, "dat_"))
	require.Contains(t, mainOf(c.get(path).Body), `class="mail-delivered"`)

	// The link works, once, for the customer.
	anon := s.client(t)
	q := anon.get(link)
	require.Equal(t, http.StatusOK, q.Status)
	require.Contains(t, q.Body, "Globex Partners")
	require.Equal(t, http.StatusOK, anon.post(link, link, url.Values{"party": {v.Parties[0].Key}, "solution": {"cloud migration"}}).Status)
	require.Equal(t, http.StatusNotFound, s.client(t).get(link).Status)
	v, _ = s.app.Conflicts.Get(cid)
	require.True(t, v.Attestations[0].Answered)
}

// A contact whose language nobody knows gets the mail in Spanish and in
// English; a link that can no longer be answered when the outbox gets to
// it (it expired meanwhile) is not sent at all.
func TestAttestationMail_LanguageUnknownAndExpired(t *testing.T) {
	box := newMailbox(t)
	s, stop := newSiteWith(t, t.TempDir(), func(c *app.Config) {
		c.Outbox.SMTP = app.SMTPConfig{Addr: box.Addr(), From: "dealreg@portal.test"}
		c.Outbox.Manual = true
	})
	t.Cleanup(stop)
	cid, _, _ := s.conflictCase(t)
	c := s.client(t)
	c.signIn(s.user(t, domain.RoleChannelManager, "", "en"))
	path := "/console/conflicts/" + cid.String()
	for _, who := range []string{"ana@xyz.example", "luis@xyz.example"} {
		p := c.post(path, path, url.Values{"action": {"attest"}, "contact_email": {who}})
		require.Equal(t, http.StatusOK, p.Status)
	}
	require.Zero(t, box.count(), "nothing is sent before the dispatcher runs")
	require.Contains(t, mainOf(c.get(path).Body), `class="mail-pending"`)

	// Both go out now, each in both languages.
	n, err := s.app.DeliverDue(t.Context())
	require.NoError(t, err)
	require.Equal(t, 2, n)
	for _, who := range []string{"ana@xyz.example", "luis@xyz.example"} {
		msg := box.wait(t, who, 1)[0]
		require.Equal(t, "es, en", msg.Language)
		require.Contains(t, msg.Body, "¿con cuál de nuestros partners trabaja")
		require.Contains(t, msg.Body, "which of our partners do you work with")
		require.Regexp(t, `Hola:`, msg.Body, "no name, no empty greeting")
	}

	// A third request, left until its link has expired, is never sent.
	p := c.post(path, path, url.Values{"action": {"attest"}, "contact_email": {"eva@xyz.example"}, "contact_language": {"en"}})
	require.Equal(t, http.StatusOK, p.Status)
	s.clock.Advance(domain.AttestationLifetime + time.Minute)
	n, err = s.app.DeliverDue(t.Context())
	require.NoError(t, err)
	require.Zero(t, n)
	time.Sleep(50 * time.Millisecond)
	require.Empty(t, box.To("eva@xyz.example"))
	v, _ := s.app.Conflicts.Get(cid)
	dels, err := s.app.Outbox.Deliveries(t.Context(), projections.ContactPrefix+v.Attestations[2].ID.String(), "", 0, 10)
	require.NoError(t, err)
	require.Len(t, dels, 1)
	require.Equal(t, projections.DeliveryDead, dels[0].Status)
	require.Contains(t, dels[0].LastError, "can no longer be answered")
}
