package app

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/argon2"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// Argon2Params are the argon2id cost parameters new password hashes get;
// a stored hash keeps its own, so they can be raised at any time.
type Argon2Params struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultArgon2 is OWASP's recommended minimum for argon2id (19 MiB, two
// passes, one lane): about 30 ms a hash on a current core.
var DefaultArgon2 = Argon2Params{Time: 2, Memory: 19 * 1024, Threads: 1}

// SessionLifetime is how long a web session lasts from sign-in.
const SessionLifetime = 12 * time.Hour

const (
	invitePrefix  = "dri_"
	sessionPrefix = "drs_"
)

func randomSecret(prefix string) (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	return prefix + base64.RawURLEncoding.EncodeToString(raw[:]), nil
}

// HashPassword returns the argon2id hash of password in PHC string form.
func HashPassword(password string, p Argon2Params) (string, error) {
	var salt [16]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt[:], p.Time, p.Memory, p.Threads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt[:]), base64.RawStdEncoding.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches the PHC-form argon2id
// hash, in time independent of where they differ.
func VerifyPassword(password, hash string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var p Argon2Params
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil || p.Memory > 1<<20 || p.Time > 16 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// Invitation is a user just invited; Secret goes into the link the invitee
// opens to choose a password, and is shown only once.
type Invitation struct {
	projections.UserView
	Secret string `json:"invite_secret"`
}

// InviteUser invites a person with role (bound to partnerID for the
// partner role) and language; only an admin may.
func (s *Service) InviteUser(ctx context.Context, call Call, p domain.UserPersonal, role domain.Role, partnerID, lang string) (Invitation, error) {
	_, exists := s.Directory.Partner(partnerID)
	return s.invite(ctx, call, p, func(id uuid.UUID, taken bool, hash string) ([]domain.Event, error) {
		return domain.InviteUser(call.Actor, id, p, role, partnerID, exists, taken, lang, hash, s.clock.Now())
	})
}

// Invited returns the user a pending invitation secret stands for.
func (s *Service) Invited(secret string) (projections.UserView, bool) {
	if !strings.HasPrefix(secret, invitePrefix) || len(secret) > 200 {
		return projections.UserView{}, false
	}
	return s.Users.UserByInvite(HashSecret(secret))
}

// AcceptInvitation sets the first password of the user invited with
// secret. A spent or unknown invitation is ENOTFOUND.
func (s *Service) AcceptInvitation(ctx context.Context, secret, password string, p Argon2Params) (projections.UserView, error) {
	u, ok := s.Invited(secret)
	if !ok {
		return projections.UserView{}, domain.Errorf(domain.ENOTFOUND, "the invitation is unknown or was used already")
	}
	if err := domain.CheckPassword("password", password); err != nil {
		return projections.UserView{}, err
	}
	hash, err := HashPassword(password, p)
	if err != nil {
		return projections.UserView{}, err
	}
	call := Call{Caller: userCaller(u)}
	_, err = s.execute(ctx, call, domain.UserStream(u.ID), func(stored []domain.Event) ([]domain.Event, error) {
		if len(stored) != 1 {
			return nil, domain.Errorf(domain.ENOTFOUND, "the invitation is unknown or was used already")
		}
		return domain.SetUserPassword(u.ID, true, hash, s.clock.Now())
	})
	if err != nil {
		return projections.UserView{}, err
	}
	u, _ = s.Users.User(u.ID)
	return u, nil
}

// userCaller is the caller a signed-in user acts as: the same Actor shape
// as a token's, so that every command and read applies the API's rules.
func userCaller(u projections.UserView) Caller {
	return Caller{Actor: domain.Actor{ID: "user:" + u.ID.String(), Role: u.Role, PartnerID: u.PartnerID}, Name: u.Name}
}

// dummyHash is verified against when no user has the e-mail, so that an
// unknown address costs the same time as a wrong password.
var dummyHash, _ = HashPassword("dealreg-no-such-user", DefaultArgon2)

// Session is a signed-in user's session; Secret goes into the cookie and
// is never stored.
type Session struct {
	ID        uuid.UUID
	User      projections.UserView
	Caller    Caller
	Secret    string
	ExpiresAt time.Time
}

// SignIn checks an e-mail and password and starts a session. Any failure
// is the same EUNAUTHORIZED answer, whether the address is unknown, the
// invitation not yet accepted or the password wrong.
func (s *Service) SignIn(ctx context.Context, email, password string) (Session, error) {
	refused := domain.Errorf(domain.EUNAUTHORIZED, "the e-mail address or the password is wrong")
	u, ok := s.Users.UserByEmail(domain.NormalizeEmail(email))
	if !ok || !u.Active || len(password) > domain.MaxPasswordLen {
		VerifyPassword(password, dummyHash)
		return Session{}, refused
	}
	if !VerifyPassword(password, u.PasswordHash) {
		return Session{}, refused
	}
	return s.startSession(ctx, u, s.newID())
}

// SessionFor returns the live session a cookie's secret stands for: not
// ended, not expired, its user known.
func (s *Service) SessionFor(secret string) (Session, bool) {
	if !strings.HasPrefix(secret, sessionPrefix) || len(secret) > 200 {
		return Session{}, false
	}
	sv, ok := s.Users.SessionBySecretHash(HashSecret(secret))
	if !ok || !s.clock.Now().Before(sv.ExpiresAt) {
		return Session{}, false
	}
	u, ok := s.Users.User(sv.UserID)
	if !ok || !u.Active {
		return Session{}, false
	}
	return Session{ID: sv.ID, User: u, Caller: userCaller(u), Secret: secret, ExpiresAt: sv.ExpiresAt}, true
}

// EndSession signs session id out (or revokes it, for an admin); ending
// an ended one does nothing.
func (s *Service) EndSession(ctx context.Context, call Call, id uuid.UUID) error {
	_, err := s.execute(ctx, call, domain.SessionStream(id), func(stored []domain.Event) ([]domain.Event, error) {
		return domain.EndSession(id, len(stored) > 0, len(stored) > 1, call.Actor.ID, s.clock.Now())
	})
	return err
}

// RevokeSessions ends every live session of user id; only an admin may.
func (s *Service) RevokeSessions(ctx context.Context, call Call, id uuid.UUID) (int, error) {
	if call.Actor.Role != domain.RoleAdmin {
		return 0, domain.Errorf(domain.EFORBIDDEN, "only an admin may revoke other users' sessions")
	}
	n := 0
	for _, sv := range s.Users.Sessions(id) {
		if err := s.EndSession(ctx, call, sv.ID); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// SetLanguage records the language the signed-in user chose.
func (s *Service) SetLanguage(ctx context.Context, sess Session, lang string) error {
	_, err := s.execute(ctx, Call{Caller: sess.Caller}, domain.UserStream(sess.User.ID), func(stored []domain.Event) ([]domain.Event, error) {
		return domain.SetUserLanguage(sess.User.ID, len(stored) > 0, lang, s.clock.Now())
	})
	return err
}

// UserByEmail returns the user with an e-mail address; only an admin may
// look users up.
func (s *Service) UserByEmail(caller Caller, email string) (projections.UserView, error) {
	if caller.Actor.Role != domain.RoleAdmin {
		return projections.UserView{}, domain.Errorf(domain.EFORBIDDEN, "only an admin may look users up")
	}
	u, ok := s.Users.UserByEmail(domain.NormalizeEmail(email))
	if !ok {
		return projections.UserView{}, domain.Errorf(domain.ENOTFOUND, "user not found")
	}
	return u, nil
}
