package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/notify/smtpsink"
)

// mailSink is the tests' SMTP server (notify/smtpsink), with the
// helpers these tests read it through.
type mailSink struct{ *smtpsink.Sink }

func newMailSink(tb testing.TB) mailSink { return mailSink{smtpsink.New(tb)} }

// subjects returns the subjects of the messages to addr.
func (s mailSink) subjects(addr string) []string {
	var out []string
	for _, m := range s.To(addr) {
		out = append(out, m.Subject)
	}
	return out
}

func (h *harness) person(tb testing.TB, p map[string]any) {
	tb.Helper()
	h.mustDo(tb, "admin", http.MethodPost, "/v1/people", p, http.StatusCreated, nil)
}

const (
	anaMail   = "ana@acme.example"
	bobMail   = "bob@acme.example"
	gilMail   = "gil@globex.example"
	ritaMail  = "rita@vendor.example"
	diegoMail = "diego@vendor.example"
)

func (h *harness) people(tb testing.TB) {
	h.person(tb, map[string]any{"id": "ana", "name": "Ana", "email": anaMail, "role": "partner", "partner_id": "acme", "language": "es"})
	h.person(tb, map[string]any{"id": "bob", "name": "Bob", "email": bobMail, "role": "partner", "partner_id": "acme", "language": "en",
		"preferences": map[string]string{"verdict": "off"}})
	h.person(tb, map[string]any{"id": "gil", "name": "Gil", "email": gilMail, "role": "partner", "partner_id": "globex", "language": "en"})
	h.person(tb, map[string]any{"id": "rita", "name": "Rita", "email": ritaMail, "role": "channel_manager", "language": "es", "groups": []string{"northeast"}})
	h.person(tb, map[string]any{"id": "diego", "name": "Diego", "email": diegoMail, "role": "channel_director", "language": "en"})
}

// Every kind a scenario over HTTP produces reaches the right people in
// their language, once, over real SMTP: partner users of the
// registration's partner only (and not a kind one turned off), reviewers
// of the routed group, the role a review is escalated to.
func TestNotifications_OverSMTP(t *testing.T) {
	sink := newMailSink(t)
	h := newOutboxHarness(t, sink.Addr())
	h.people(t)
	h.automationPolicy(t) // a policy published: every partner user hears of it

	a := h.submit(t, "acme", h.details("Hospital Ángeles", "angeles.example"))
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+a.ID.String()+"/approve", nil, http.StatusOK, nil)
	b := h.submit(t, "acme", h.details("Farmacias Unidas", "unidas.example"))
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+b.ID.String()+"/reject",
		map[string]string{"reason": "other", "explanation": "not a fit", "guidance": "register the hospital group instead"}, http.StatusOK, nil)
	c := h.submit(t, "acme", h.details("Clínica Norte", "norte.example"))
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+c.ID.String()+"/return",
		map[string]any{"message": "add the CFO's e-mail"}, http.StatusOK, nil)
	// The review of an unanswered one is reminded, then escalated.
	d := h.submit(t, "acme", h.details("Laboratorios Sur", "sur.example"))
	h.clock.Advance(37 * time.Hour)
	_, err := h.app.RunDue(context.Background(), h.clock.Now())
	require.NoError(t, err)
	h.clock.Advance(18 * time.Hour)
	_, err = h.app.RunDue(context.Background(), h.clock.Now())
	require.NoError(t, err)
	// a's protection nears its end, then ends.
	h.clock.Set(t0.Add(83 * domain.Day))
	_, err = h.app.RunDue(context.Background(), h.clock.Now())
	require.NoError(t, err)
	h.clock.Set(t0.Add(91 * domain.Day))
	_, err = h.app.RunDue(context.Background(), h.clock.Now())
	require.NoError(t, err)
	_ = d

	h.deliver(t)
	ana := strings.Join(sink.subjects(anaMail), "\n")
	for _, want := range []string{"Política del programa, versión 2", "Registro recibido: Hospital Ángeles", "Verificación de duplicados",
		"Registro aprobado", "Registro rechazado", "Se necesita más información", "La protección vence en", "Protección vencida"} {
		require.Contains(t, ana, want)
	}
	bob := strings.Join(sink.subjects(bobMail), "\n")
	for _, want := range []string{"Program policy version 2", "Registration received: Hospital Ángeles", "Registration approved",
		"Registration rejected", "More information needed", "Protection ends in", "Protection expired"} {
		require.Contains(t, bob, want)
	}
	require.NotContains(t, bob, "Duplicate check", "bob turned verdicts off")
	for _, m := range sink.To(anaMail) {
		require.Equal(t, "es", m.Language)
		if strings.HasPrefix(m.Subject, "Registro rechazado") {
			require.Contains(t, m.Body, "register the hospital group instead", "the guidance")
		}
		if strings.HasPrefix(m.Subject, "Registro aprobado") {
			require.Contains(t, m.Body, "Está protegido del 2026-03-02")
		}
	}
	require.Equal(t, []string{"Program policy version 2"}, sink.subjects(gilMail), "globex hears nothing of acme's deals")
	rita := strings.Join(sink.subjects(ritaMail), "\n")
	require.Contains(t, rita, "Registro por revisar")
	require.Contains(t, rita, "Recordatorio: revisión vence")
	require.NotContains(t, rita, "Registro aprobado", "reviewers get the reviewer kinds")
	require.Contains(t, strings.Join(sink.subjects(diegoMail), "\n"), "Review escalated to you")

	// Once: every Message-ID once, and nothing more after another run.
	n := len(sink.Messages())
	ids := map[string]bool{}
	for _, m := range sink.Messages() {
		require.False(t, ids[m.MessageID+m.To], "sent twice: %s to %s", m.Subject, m.To)
		ids[m.MessageID+m.To] = true
	}
	h.clock.Advance(domain.Day)
	require.Equal(t, 0, h.deliver(t))
	require.Len(t, sink.Messages(), n)
}

// A server stopped while a message is in the middle of its DATA exchange
// records nothing for it; after the restart it goes out once, and what
// was sent before the stop is not sent again.
func TestNotifications_RestartMidSend(t *testing.T) {
	sink := newMailSink(t)
	h := newOutboxHarness(t, sink.Addr())
	h.people(t)
	h.submit(t, "acme", h.details("Hospital Ángeles", "angeles.example"))
	require.Positive(t, h.deliver(t))
	before := len(sink.Messages())

	h.submit(t, "globex", h.details("Farmacias Unidas", "unidas.example"))
	holding, release := sink.Hold()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := h.app.DeliverDue(ctx)
		done <- err
	}()
	<-holding
	cancel() // the server stops mid-send
	require.ErrorIs(t, <-done, context.Canceled)
	release()
	require.Len(t, sink.Messages(), before, "the interrupted message was not accepted")

	h.restartOutbox(t, h.statePath(t))
	require.Positive(t, h.deliver(t))
	gil := sink.To(gilMail)
	require.Len(t, gil, 2, "the submission and its verdict, once each")
	require.Equal(t, "Registration received: Farmacias Unidas", gil[0].Subject)
	require.Len(t, sink.To(anaMail), 2, "ana's messages from before the stop are not sent again")
	h.restartOutbox(t, h.statePath(t))
	require.Equal(t, 0, h.deliver(t))
}

// A kind taken as a digest waits for the day's digest hour and arrives as
// one message; immediate kinds do not wait behind it.
func TestNotifications_Digest(t *testing.T) {
	sink := newMailSink(t)
	h := newOutboxHarness(t, sink.Addr())
	h.person(t, map[string]any{"id": "ana", "name": "Ana", "email": anaMail, "role": "partner", "partner_id": "acme", "language": "es",
		"preferences": map[string]string{"submission_received": "digest", "verdict": "digest"}})
	h.submit(t, "acme", h.details("Hospital Ángeles", "angeles.example"))
	h.submit(t, "acme", h.details("Farmacias Unidas", "unidas.example"))
	h.deliver(t)
	require.Empty(t, sink.To(anaMail), "before the digest hour")
	h.clock.Set(time.Date(2026, 3, 3, 7, 0, 0, 0, time.UTC))
	require.Equal(t, 4, h.deliver(t))
	got := sink.To(anaMail)
	require.Len(t, got, 1)
	require.Equal(t, "Su resumen de dealreg: 4 avisos", got[0].Subject)
	require.Contains(t, got[0].Body, "Hospital Ángeles")
	require.Contains(t, got[0].Body, "Farmacias Unidas")
}

// Only admins record and read people; a person is validated; refusals
// append nothing.
func TestNotifications_Rules(t *testing.T) {
	h := newHarness(t)
	before := h.eventCount()
	h.problem(t, "acme", http.MethodPost, "/v1/people", map[string]any{"id": "x", "name": "X", "email": "x@acme.example", "role": "partner", "partner_id": "acme"}, http.StatusForbidden, "forbidden")
	h.problem(t, "manager", http.MethodGet, "/v1/people", nil, http.StatusForbidden, "forbidden")
	p := h.problem(t, "admin", http.MethodPost, "/v1/people", map[string]any{"id": "x", "name": "X", "email": "not-an-address", "role": "partner", "language": "fr"},
		http.StatusBadRequest, "invalid")
	var fields []string
	for _, e := range p.Errors {
		fields = append(fields, e.Field)
	}
	require.ElementsMatch(t, []string{"email", "partner_id", "language"}, fields)
	h.problem(t, "admin", http.MethodPost, "/v1/people", map[string]any{"id": "x", "name": "X", "email": "x@acme.example", "role": "partner", "partner_id": "acme",
		"preferences": map[string]string{"gossip": "digest"}}, http.StatusBadRequest, "invalid")
	require.Equal(t, before, h.eventCount())
	h.mustDo(t, "admin", http.MethodPost, "/v1/people", map[string]any{"id": "x", "name": "X", "email": "x@acme.example", "role": "partner", "partner_id": "acme"}, http.StatusCreated, nil)
	var got domain.Person
	h.mustDo(t, "admin", http.MethodGet, "/v1/people/x", nil, http.StatusOK, &got)
	require.Equal(t, "es", got.Language, "Spanish unless told otherwise")
	h.problem(t, "acme", http.MethodGet, "/v1/people/x", nil, http.StatusNotFound, "not_found")
}
