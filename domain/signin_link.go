package domain

import (
	"crypto/subtle"
	"time"

	"github.com/google/uuid"
)

// SignInLinkStream returns the stream of one e-mailed sign-in link,
// "signin-link-<uuid>": its issue and, once, its use.
func SignInLinkStream(id uuid.UUID) string { return "signin-link-" + id.String() }

// SignInLinkIssued records that a one-time sign-in link was e-mailed to
// user UserID. Only the SHA-256 of the link's secret is kept; the secret
// travels in the e-mail.
type SignInLinkIssued struct {
	LinkID       uuid.UUID `json:"link_id"`
	UserID       uuid.UUID `json:"user_id"`
	SecretSHA256 string    `json:"secret_sha256"`
	ExpiresAt    time.Time `json:"expires_at"`
	At           time.Time `json:"at"`
}

// SignInLinkUsed records that the link signed its user in: it signs no
// one in again.
type SignInLinkUsed struct {
	LinkID    uuid.UUID `json:"link_id"`
	SessionID uuid.UUID `json:"session_id"`
	At        time.Time `json:"at"`
}

// EventType returns "SignInLinkIssued".
func (SignInLinkIssued) EventType() string { return "SignInLinkIssued" }

// EventType returns "SignInLinkUsed".
func (SignInLinkUsed) EventType() string { return "SignInLinkUsed" }

// IssueSignInLink issues link id for user userID (who must have accepted
// the invitation: active), valid for ttl.
func IssueSignInLink(id, userID uuid.UUID, active bool, secretSHA256 string, ttl time.Duration, now time.Time) ([]Event, error) {
	if !active {
		return nil, Errorf(ENOTFOUND, "user not found")
	}
	if !sha256Hex.MatchString(secretSHA256) || ttl <= 0 {
		return nil, Errorf(EINTERNAL, "issue sign-in link: bad secret hash or lifetime")
	}
	now = canonicalTime(now)
	return []Event{SignInLinkIssued{LinkID: id, UserID: userID, SecretSHA256: secretSHA256, ExpiresAt: now.Add(ttl), At: now}}, nil
}

// UseSignInLink spends the link whose stream is stored, presented with a
// secret of SHA-256 secretSHA256, for session sessionID. A link that was
// never issued, is spent, has expired or does not match answers the same
// EUNAUTHORIZED, and records nothing.
func UseSignInLink(stored []Event, secretSHA256 string, sessionID uuid.UUID, now time.Time) (SignInLinkIssued, []Event, error) {
	refused := Errorf(EUNAUTHORIZED, "the sign-in link is unknown, was used already or has expired")
	if len(stored) != 1 {
		return SignInLinkIssued{}, nil, refused
	}
	issued, ok := stored[0].(SignInLinkIssued)
	if !ok || subtle.ConstantTimeCompare([]byte(issued.SecretSHA256), []byte(secretSHA256)) != 1 || !now.Before(issued.ExpiresAt) {
		return SignInLinkIssued{}, nil, refused
	}
	return issued, []Event{SignInLinkUsed{LinkID: issued.LinkID, SessionID: sessionID, At: canonicalTime(now)}}, nil
}
