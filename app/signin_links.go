package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"

	"github.com/google/uuid"
	mail "github.com/wneessen/go-mail"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// SignInLinkLifetime is how long an e-mailed sign-in link may be used.
const SignInLinkLifetime = 15 * time.Minute

// linkPrefix starts a sign-in link's token: drl_<link uuid>.<secret>.
const linkPrefix = "drl_"

// IssueSignInLink records a one-time sign-in link for the active user
// with e-mail address email and returns its token (to be e-mailed, never
// stored: the ledger keeps its SHA-256) and the user. ok is false, and
// nothing is recorded, when no active user has the address; callers
// answer alike either way, so the answer reveals no address.
func (s *Service) IssueSignInLink(ctx context.Context, email string) (token string, u projections.UserView, ok bool, err error) {
	u, ok = s.Users.UserByEmail(domain.NormalizeEmail(email))
	if !ok || !u.Active {
		return "", projections.UserView{}, false, nil
	}
	secret, err := randomSecret("")
	if err != nil {
		return "", projections.UserView{}, false, err
	}
	id := s.newID()
	token = linkPrefix + id.String() + "." + secret
	_, err = s.execute(ctx, Call{Caller: userCaller(u)}, domain.SignInLinkStream(id), func(stored []domain.Event) ([]domain.Event, error) {
		return domain.IssueSignInLink(id, u.ID, u.Active, HashSecret(token), SignInLinkLifetime, s.clock.Now())
	})
	if err != nil {
		return "", projections.UserView{}, false, err
	}
	return token, u, true, nil
}

// SignInWithLink spends a sign-in link's token and starts a session for
// its user. A token unknown, spent, expired or altered is the same
// EUNAUTHORIZED answer, and records nothing; a token is spent at most once
// (the link's stream takes one use, under optimistic concurrency).
func (s *Service) SignInWithLink(ctx context.Context, token string) (Session, error) {
	refused := domain.Errorf(domain.EUNAUTHORIZED, "the sign-in link is unknown, was used already or has expired")
	rest, ok := strings.CutPrefix(token, linkPrefix)
	if !ok || len(token) > 200 {
		return Session{}, refused
	}
	idText, _, ok := strings.Cut(rest, ".")
	id, err := uuid.Parse(idText)
	if !ok || err != nil {
		return Session{}, refused
	}
	// The link names its user; the command then decides on the stream as
	// it reads it, so two uses of one link cannot both succeed.
	stored, err := s.readStream(ctx, domain.SignInLinkStream(id))
	if err != nil {
		return Session{}, err
	}
	if len(stored) == 0 {
		return Session{}, refused
	}
	first, _ := stored[0].(domain.SignInLinkIssued)
	u, found := s.Users.User(first.UserID)
	if !found || !u.Active {
		return Session{}, refused
	}
	sessionID := s.newID()
	_, err = s.execute(ctx, Call{Caller: userCaller(u)}, domain.SignInLinkStream(id), func(stored []domain.Event) ([]domain.Event, error) {
		_, events, err := domain.UseSignInLink(stored, HashSecret(token), sessionID, s.clock.Now())
		return events, err
	})
	if err != nil {
		return Session{}, err
	}
	return s.startSession(ctx, u, sessionID)
}

// startSession starts session id for user u (SignIn, SignInWithLink).
func (s *Service) startSession(ctx context.Context, u projections.UserView, id uuid.UUID) (Session, error) {
	secret, err := randomSecret(sessionPrefix)
	if err != nil {
		return Session{}, err
	}
	caller := userCaller(u)
	_, err = s.execute(ctx, Call{Caller: caller}, domain.SessionStream(id), func(stored []domain.Event) ([]domain.Event, error) {
		return domain.StartSession(id, u.ID, HashSecret(secret), SessionLifetime, s.clock.Now())
	})
	if err != nil {
		return Session{}, err
	}
	sv, _ := s.Users.SessionBySecretHash(HashSecret(secret))
	return Session{ID: id, User: u, Caller: caller, Secret: secret, ExpiresAt: sv.ExpiresAt}, nil
}

// InvitePartnerAdmin invites a partner user who may invite colleagues of
// partnerID; only an admin may.
func (s *Service) InvitePartnerAdmin(ctx context.Context, call Call, p domain.UserPersonal, partnerID, lang string) (Invitation, error) {
	_, exists := s.Directory.Partner(partnerID)
	return s.invite(ctx, call, p, func(id uuid.UUID, taken bool, hash string) ([]domain.Event, error) {
		return domain.InvitePartnerAdmin(call.Actor, id, p, partnerID, exists, taken, lang, hash, s.clock.Now())
	})
}

// InviteColleague invites a user of the caller's own partner; the caller
// must be a signed-in partner admin ("user:<id>" with PartnerAdmin).
func (s *Service) InviteColleague(ctx context.Context, call Call, p domain.UserPersonal, lang string) (Invitation, error) {
	isAdmin := false
	if idText, ok := strings.CutPrefix(call.Actor.ID, "user:"); ok {
		if id, err := uuid.Parse(idText); err == nil {
			u, found := s.Users.User(id)
			isAdmin = found && u.Active && u.PartnerAdmin && u.Role == domain.RolePartner && u.PartnerID == call.Actor.PartnerID
		}
	}
	return s.invite(ctx, call, p, func(id uuid.UUID, taken bool, hash string) ([]domain.Event, error) {
		return domain.InviteColleague(call.Actor, isAdmin, id, p, taken, lang, hash, s.clock.Now())
	})
}

func (s *Service) invite(ctx context.Context, call Call, p domain.UserPersonal, decide func(id uuid.UUID, emailTaken bool, inviteHash string) ([]domain.Event, error)) (Invitation, error) {
	secret, err := randomSecret(invitePrefix)
	if err != nil {
		return Invitation{}, err
	}
	id := s.newID()
	_, taken := s.Users.UserByEmail(domain.NormalizeEmail(p.Email))
	_, err = s.execute(ctx, call, domain.UserStream(id), func(stored []domain.Event) ([]domain.Event, error) {
		return decide(id, taken, HashSecret(secret))
	})
	if err != nil {
		return Invitation{}, err
	}
	u, _ := s.Users.User(id)
	return Invitation{UserView: u, Secret: secret}, nil
}

// MailsEnabled reports whether the service has a mail server to send
// through (serve --smtp).
func (s *Service) MailsEnabled() bool { return s.dispatch != nil && s.dispatch.cfg.SMTP.Addr != "" }

// MailUser sends one plain-text e-mail to address to, in language lang,
// through the notifications' mail server (sendSMTP); EUNAVAILABLE when
// there is none. It is for messages that must not wait in the outbox: a
// sign-in link or an invitation carries a secret the outbox would keep
// at rest.
func (s *Service) MailUser(ctx context.Context, to, lang, subject, body string) error {
	if !s.MailsEnabled() {
		return domain.Errorf(domain.EUNAVAILABLE, "this server sends no e-mail (serve --smtp)")
	}
	c := s.dispatch.cfg.SMTP
	msg := mail.NewMsg()
	if err := msg.From(c.From); err != nil {
		return err
	}
	if err := msg.To(to); err != nil {
		return err
	}
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	msg.Subject(subject)
	msg.SetMessageIDWithValue(hex.EncodeToString(raw[:]) + "@dealreg")
	msg.SetDateWithValue(s.clock.Now())
	msg.SetGenHeader("Content-Language", lang)
	msg.SetBodyString(mail.TypeTextPlain, body)
	return sendSMTP(ctx, c, s.dispatch.cfg.Timeout, msg)
}
