// Package smtpsink is a real SMTP server on loopback for tests
// (github.com/emersion/go-smtp) that keeps every message it accepted,
// decoded: recipient, subject, body, Message-ID and language. Tests of the
// e-mail notifications (api) and of the portal's sign-in links (web) read
// what was actually sent through it; only tests import it.
package smtpsink

import (
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
)

// Message is one accepted message, once per recipient.
type Message struct {
	To, Subject, Body, MessageID, Language string
}

// Sink is the server. While a hold is set (Hold), the next message's DATA
// waits until released and is then refused, as a server whose client went
// away before the answer.
type Sink struct {
	addr    string
	mu      sync.Mutex
	got     []Message
	hold    chan struct{} // closed to release a held message
	holding chan struct{} // closed when a message is being held
}

// New starts a sink on a loopback port, closed when tb ends.
func New(tb testing.TB) *Sink {
	tb.Helper()
	s := &Sink{}
	srv := smtp.NewServer(s)
	srv.Domain = "sink.test"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("smtpsink: %v", err)
	}
	s.addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { srv.Close() })
	return s
}

// Addr is the host:port the sink listens on.
func (s *Sink) Addr() string { return s.addr }

// Messages returns every message accepted so far.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.got...)
}

// To returns the messages to addr (with or without angle brackets).
func (s *Sink) To(addr string) []Message {
	var out []Message
	for _, m := range s.Messages() {
		if m.To == addr || m.To == "<"+addr+">" {
			out = append(out, m)
		}
	}
	return out
}

// Hold makes the next message wait in DATA: holding is closed once it
// waits; release lets it go, refused.
func (s *Sink) Hold() (holding <-chan struct{}, release func()) {
	hold, h := make(chan struct{}), make(chan struct{})
	s.mu.Lock()
	s.hold, s.holding = hold, h
	s.mu.Unlock()
	return h, func() { close(hold) }
}

// NewSession implements smtp.Backend.
func (s *Sink) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{sink: s}, nil }

type session struct {
	sink *Sink
	to   []string
}

func (x *session) Reset()                                    { x.to = nil }
func (x *session) Logout() error                             { return nil }
func (x *session) Mail(string, *smtp.MailOptions) error      { return nil }
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error { x.to = append(x.to, to); return nil }

func (x *session) Data(r io.Reader) error {
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
		if raw, err = io.ReadAll(quotedprintable.NewReader(strings.NewReader(string(raw)))); err != nil {
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
		s.got = append(s.got, Message{To: to, Subject: subject, Body: string(raw),
			MessageID: msg.Header.Get("Message-Id"), Language: msg.Header.Get("Content-Language")})
	}
	return nil
}
