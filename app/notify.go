package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/notify"
	"github.com/dealreg/dealreg/projections"
)

// SMTPConfig is the mail server the outbox's e-mail channel sends
// through; an empty Addr sends no mail (notifications wait, pending).
type SMTPConfig struct {
	Addr     string // host:port
	From     string // the sender address
	Username string
	Password string
	// TLS requires STARTTLS; off, it is used when the server offers it.
	TLS bool
}

// sendMail sends one notification; the delivery ID is its Message-ID,
// so a message sent again after a crash between the server's acceptance
// and its record is recognisably the same one.
func (d *dispatcher) sendMail(ctx context.Context, del projections.OutboxDelivery, digest []projections.OutboxDelivery) (int, error) {
	c := d.cfg.SMTP
	m, err := notify.Decode(del.Payload)
	if err != nil {
		return 0, err
	}
	if m.Kind == notify.AttestationRequested {
		link, err := d.s.attestationLink(ctx, m.Fields)
		if err != nil {
			return 0, err
		}
		m.Fields["link"] = link
	}
	subject, body, err := notify.Render(m)
	if err != nil {
		return 0, err
	}
	if len(digest) > 1 {
		subject, body, err = renderDigest(m, digest)
		if err != nil {
			return 0, err
		}
	}
	msg := mail.NewMsg()
	if err := msg.From(c.From); err != nil {
		return 0, err
	}
	if err := msg.To(m.To); err != nil {
		return 0, err
	}
	msg.Subject(subject)
	msg.SetMessageIDWithValue(strings.TrimPrefix(del.ID, "msg_") + "@dealreg")
	msg.SetDateWithValue(del.RecordedAt)
	lang := m.Language
	if lang == "" {
		lang = "es, en" // notify.Render wrote both
	}
	msg.SetGenHeader("Content-Language", lang)
	msg.SetBodyString(mail.TypeTextPlain, body)
	if err := sendSMTP(ctx, c, d.cfg.Timeout, msg); err != nil {
		return 0, err
	}
	return 250, nil
}

// sendSMTP sends msg through the mail server c, each step within
// timeout; it is the one sender of e-mail (notifications, sign-in links,
// invitations).
func sendSMTP(ctx context.Context, c SMTPConfig, timeout time.Duration, msg *mail.Msg) error {
	host, portText, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("smtp address %q: %w", c.Addr, err)
	}
	port, _ := strconv.Atoi(portText)
	policy := mail.TLSOpportunistic
	if c.TLS {
		policy = mail.TLSMandatory
	}
	// The connection is closed when ctx ends, even in the middle of the
	// DATA exchange: a stopped server leaves no message half-accepted
	// and unrecorded for long.
	var stop func() bool
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{Timeout: timeout}).DialContext(dctx, network, addr)
		if err == nil {
			stop = context.AfterFunc(ctx, func() { conn.Close() })
		}
		return conn, err
	}
	opts := []mail.Option{mail.WithPort(port), mail.WithTLSPolicy(policy), mail.WithTimeout(timeout), mail.WithHELO("dealreg"),
		mail.WithDialContextFunc(dial)}
	if c.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(c.Username), mail.WithPassword(c.Password))
	}
	client, err := mail.NewClient(host, opts...)
	if err != nil {
		return err
	}
	return client.DialAndSendWithContext(ctx, msg)
}

// renderDigest is the one message of a day's notifications of a person:
// the subject of each, then its body.
func renderDigest(first notify.Message, items []projections.OutboxDelivery) (string, string, error) {
	var b strings.Builder
	for _, it := range items {
		m, err := notify.Decode(it.Payload)
		if err != nil {
			return "", "", err
		}
		subject, body, err := notify.Render(m)
		if err != nil {
			return "", "", err
		}
		fmt.Fprintf(&b, "* %s\n\n%s\n", subject, body)
	}
	subject := fmt.Sprintf("Your dealreg digest: %d notifications", len(items))
	if first.Language == "es" {
		subject = fmt.Sprintf("Su resumen de dealreg: %d avisos", len(items))
	}
	return subject, b.String(), nil
}

// deliverMail sends the due e-mails of channel sub, oldest first: those
// of person p each alone, or, for the kinds p takes as a digest, every one
// due at the same digest time in one message; a contact's (p nil) each
// alone. A mail that can no longer be of use (an attestation link that
// expired or was answered meanwhile) is not sent: it is dead at once. It
// returns how many deliveries went out.
func (s *Service) deliverMail(ctx context.Context, sub string, p *domain.Person) (int, error) {
	d := s.dispatch
	n := 0
	for ctx.Err() == nil {
		now := s.clock.Now()
		// The oldest due: a digest waiting for its hour holds up no
		// immediate message.
		del, ok, err := s.Outbox.NextDue(ctx, sub, now)
		if err != nil || !ok {
			return n, err
		}
		batch := []projections.OutboxDelivery{del}
		if m, err := notify.Decode(del.Payload); err == nil && p != nil && p.Preference(m.Kind) == domain.NotifyDigest && del.Attempts == 0 {
			due, err := s.Outbox.Deliveries(ctx, sub, projections.DeliveryPending, del.Position, 500)
			if err != nil {
				return n, err
			}
			batch = batch[:0]
			for _, x := range due {
				if x.NextAt.Equal(del.NextAt) && x.Attempts == 0 {
					batch = append(batch, x)
				}
			}
		}
		start := time.Now()
		code, err := d.sendMail(ctx, del, batch)
		if ctx.Err() != nil {
			return n, ctx.Err() // stopped mid-send: nothing recorded, sent again after a restart
		}
		for _, x := range batch {
			out := projections.AttemptOutcome{Attempt: projections.OutboxAttempt{Delivery: x.ID, N: x.Attempts + 1, At: now,
				StatusCode: code, Latency: time.Since(start)}}
			if err == nil {
				out.Delivered = true
			} else {
				out.Attempt.Error = err.Error()
				if errors.Is(err, errNotToSend) {
					out.Dead = true
					if rerr := s.Outbox.Record(ctx, x, out); rerr != nil {
						return n, rerr
					}
					continue
				}
				first := x.FirstTry
				if first.IsZero() {
					first = now
				}
				wait := RetryDelay(x.ID, out.Attempt.N)
				if now.Add(wait).Sub(first) > d.cfg.RetryFor {
					out.Dead = true
				} else {
					out.RetryAt = now.Add(wait)
				}
			}
			if rerr := s.Outbox.Record(ctx, x, out); rerr != nil {
				return n, rerr
			}
		}
		if errors.Is(err, errNotToSend) {
			continue
		}
		if err != nil {
			return n, nil // retried later; the person's later messages wait
		}
		n += len(batch)
	}
	return n, ctx.Err()
}

// RecordPerson records someone dealreg notifies by e-mail (admins only).
func (s *Service) RecordPerson(ctx context.Context, call Call, p domain.Person) (domain.Person, error) {
	if err := requireAdmin(call.Caller, "record people"); err != nil {
		return domain.Person{}, err
	}
	if p.Language == "" {
		p.Language = "es"
	}
	if err := domain.ValidatePerson(p); err != nil {
		return domain.Person{}, err
	}
	if p.PartnerID != "" {
		if _, ok := s.Directory.Partner(p.PartnerID); !ok {
			return domain.Person{}, &domain.Error{Code: domain.EINVALID, Message: "no such partner",
				Fields: []domain.FieldError{{Field: "partner_id", Code: domain.FieldInvalid, Message: "no partner " + p.PartnerID}}}
		}
	}
	for k := range p.Preferences {
		if !isKind(k) {
			return domain.Person{}, &domain.Error{Code: domain.EINVALID, Message: "the person is invalid",
				Fields: []domain.FieldError{{Field: "preferences." + k, Code: domain.FieldInvalid, Message: "not a kind of notification"}}}
		}
	}
	ev := domain.PersonRecorded{Person: p, By: call.Actor.ID, At: s.clock.Now()}
	if _, err := s.execute(ctx, call, domain.PeopleStream, func([]domain.Event) ([]domain.Event, error) {
		return []domain.Event{ev}, nil
	}); err != nil {
		return domain.Person{}, err
	}
	return p, nil
}

func isKind(k string) bool {
	for _, x := range notify.Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// People lists the people notified (admins only).
func (s *Service) People(caller Caller) ([]domain.Person, error) {
	if err := requireAdmin(caller, "read people"); err != nil {
		return nil, err
	}
	return s.Outbox.People(), nil
}

// Person returns one person; to anyone but an admin, none exists.
func (s *Service) Person(caller Caller, id string) (domain.Person, error) {
	p, ok := s.Outbox.Person(id)
	if !ok || caller.Actor.Role != domain.RoleAdmin {
		return domain.Person{}, domain.Errorf(domain.ENOTFOUND, "no such person")
	}
	return p, nil
}
