package api_test

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// mailSink is a real SMTP server on loopback (github.com/emersion/go-smtp)
// that keeps every message it accepted. While hold is set, the next
// message's DATA waits until released; a message whose connection was
// closed meanwhile is refused, as a server that never answered would.
type mailSink struct {
	addr    string
	mu      sync.Mutex
	got     []sinkMessage
	hold    chan struct{} // closed to release a held message
	holding chan struct{} // closed when a message is being held
}

type sinkMessage struct {
	To, Subject, Body, MessageID, Language string
}

func newMailSink(tb testing.TB) *mailSink {
	tb.Helper()
	s := &mailSink{}
	srv := smtp.NewServer(s)
	srv.Domain = "sink.test"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	s.addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { srv.Close() })
	return s
}

// NewSession implements smtp.Backend.
func (s *mailSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{sink: s}, nil }

type sinkSession struct {
	sink *mailSink
	to   []string
}

func (x *sinkSession) Reset()                                    { x.to = nil }
func (x *sinkSession) Logout() error                             { return nil }
func (x *sinkSession) Mail(string, *smtp.MailOptions) error      { return nil }
func (x *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error { x.to = append(x.to, to); return nil }

func (x *sinkSession) Data(r io.Reader) error {
	s := x.sink
	s.mu.Lock()
	hold, holding := s.hold, s.holding
	s.hold, s.holding = nil, nil
	s.mu.Unlock()
	if hold != nil {
		close(holding)
		<-hold
		_, _ = io.Copy(io.Discard, r)
		return errors.New("421 the client went away before the answer")
	}
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(msg.Body)
	if err != nil {
		return err
	}
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		raw, err = io.ReadAll(quotedprintable.NewReader(strings.NewReader(string(raw))))
		if err != nil {
			return err
		}
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, to := range x.to {
		s.got = append(s.got, sinkMessage{To: to, Subject: subject, Body: string(raw), MessageID: msg.Header.Get("Message-Id"),
			Language: msg.Header.Get("Content-Language")})
	}
	return nil
}

func (s *mailSink) messages() []sinkMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sinkMessage(nil), s.got...)
}

// to returns the messages to addr.
func (s *mailSink) to(addr string) []sinkMessage {
	var out []sinkMessage
	for _, m := range s.messages() {
		if m.To == addr {
			out = append(out, m)
		}
	}
	return out
}

// subjects returns the subjects of the messages to addr.
func (s *mailSink) subjects(addr string) []string {
	var out []string
	for _, m := range s.to(addr) {
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
	h := newOutboxHarness(t, sink.addr)
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
	for _, m := range sink.to(anaMail) {
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
	n := len(sink.messages())
	ids := map[string]bool{}
	for _, m := range sink.messages() {
		require.False(t, ids[m.MessageID+m.To], "sent twice: %s to %s", m.Subject, m.To)
		ids[m.MessageID+m.To] = true
	}
	h.clock.Advance(domain.Day)
	require.Equal(t, 0, h.deliver(t))
	require.Len(t, sink.messages(), n)
}

// A server stopped while a message is in the middle of its DATA exchange
// records nothing for it; after the restart it goes out once, and what
// was sent before the stop is not sent again.
func TestNotifications_RestartMidSend(t *testing.T) {
	sink := newMailSink(t)
	h := newOutboxHarness(t, sink.addr)
	h.people(t)
	h.submit(t, "acme", h.details("Hospital Ángeles", "angeles.example"))
	require.Positive(t, h.deliver(t))
	before := len(sink.messages())

	h.submit(t, "globex", h.details("Farmacias Unidas", "unidas.example"))
	hold, holding := make(chan struct{}), make(chan struct{})
	sink.mu.Lock()
	sink.hold, sink.holding = hold, holding
	sink.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := h.app.DeliverDue(ctx)
		done <- err
	}()
	<-holding
	cancel() // the server stops mid-send
	require.ErrorIs(t, <-done, context.Canceled)
	close(hold)
	require.Len(t, sink.messages(), before, "the interrupted message was not accepted")

	h.restartOutbox(t, h.statePath(t))
	require.Positive(t, h.deliver(t))
	gil := sink.to(gilMail)
	require.Len(t, gil, 2, "the submission and its verdict, once each")
	require.Equal(t, "Registration received: Farmacias Unidas", gil[0].Subject)
	require.Len(t, sink.to(anaMail), 2, "ana's messages from before the stop are not sent again")
	h.restartOutbox(t, h.statePath(t))
	require.Equal(t, 0, h.deliver(t))
}

// A kind taken as a digest waits for the day's digest hour and arrives as
// one message; immediate kinds do not wait behind it.
func TestNotifications_Digest(t *testing.T) {
	sink := newMailSink(t)
	h := newOutboxHarness(t, sink.addr)
	h.person(t, map[string]any{"id": "ana", "name": "Ana", "email": anaMail, "role": "partner", "partner_id": "acme", "language": "es",
		"preferences": map[string]string{"submission_received": "digest", "verdict": "digest"}})
	h.submit(t, "acme", h.details("Hospital Ángeles", "angeles.example"))
	h.submit(t, "acme", h.details("Farmacias Unidas", "unidas.example"))
	h.deliver(t)
	require.Empty(t, sink.to(anaMail), "before the digest hour")
	h.clock.Set(time.Date(2026, 3, 3, 7, 0, 0, 0, time.UTC))
	require.Equal(t, 4, h.deliver(t))
	got := sink.to(anaMail)
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
