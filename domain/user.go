package domain

import (
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Languages the portal speaks; a user's language is one of them.
var userLanguages = []string{"en", "es"}

// Limits of user inputs.
const (
	MaxUserNameLen = 200
	// MinPasswordLen follows NIST SP 800-63B: length, not composition
	// rules, makes a password hard to guess.
	MinPasswordLen = 12
	MaxPasswordLen = 200
)

// UserStream returns the stream of web user id, "user-<uuid>". It holds
// the invitation, the password and the language setting.
func UserStream(id uuid.UUID) string { return "user-" + id.String() }

// SessionStream returns the stream of web session id, "session-<uuid>".
func SessionStream(id uuid.UUID) string { return "session-" + id.String() }

// UserPersonal is a user's personal data (DESIGN §8), kept apart from the
// rest of the payload so that it can later be encrypted per subject.
type UserPersonal struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// UserInvited records that an admin invited a person to the portal or the
// console: with a role, a partner for partner users, and a language. Only
// the SHA-256 of the invitation secret is kept; the secret travels in the
// link the invitee opens once to choose a password.
type UserInvited struct {
	UserID       uuid.UUID    `json:"user_id"`
	Personal     UserPersonal `json:"personal"`
	Role         Role         `json:"role"`
	PartnerID    string       `json:"partner_id,omitempty"`
	Language     string       `json:"language"`
	InviteSHA256 string       `json:"invite_sha256"`
	InvitedBy    string       `json:"invited_by"`
	// PartnerAdmin marks a partner user who may invite colleagues of its
	// own partner (InviteColleague).
	PartnerAdmin bool      `json:"partner_admin,omitempty"`
	At           time.Time `json:"at"`
}

// UserPasswordSet records a user's new password, as an argon2id hash in
// PHC string form (the parameters travel with it); the password itself
// is never kept. The first one accepts the invitation.
type UserPasswordSet struct {
	UserID       uuid.UUID `json:"user_id"`
	PasswordHash string    `json:"password_hash"`
	At           time.Time `json:"at"`
}

// UserLanguageSet records the language a user chose for the pages.
type UserLanguageSet struct {
	UserID   uuid.UUID `json:"user_id"`
	Language string    `json:"language"`
	At       time.Time `json:"at"`
}

// SessionStarted records a sign-in: the session's secret travels in the
// browser's cookie, the ledger keeps its SHA-256 only.
type SessionStarted struct {
	SessionID    uuid.UUID `json:"session_id"`
	UserID       uuid.UUID `json:"user_id"`
	SecretSHA256 string    `json:"secret_sha256"`
	ExpiresAt    time.Time `json:"expires_at"`
	At           time.Time `json:"at"`
}

// SessionEnded records a sign-out or a revocation: the session no longer
// authenticates anyone.
type SessionEnded struct {
	SessionID uuid.UUID `json:"session_id"`
	EndedBy   string    `json:"ended_by"`
	At        time.Time `json:"at"`
}

// ValidLanguage reports whether lang is a language of the portal.
func ValidLanguage(lang string) bool {
	for _, l := range userLanguages {
		if l == lang {
			return true
		}
	}
	return false
}

// NormalizeEmail trims and lower-cases an e-mail address: sign-in looks
// users up by it.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// InviteUser invites user id. Only an admin invites; emailTaken says
// whether another user has the address already.
func InviteUser(actor Actor, id uuid.UUID, p UserPersonal, role Role, partnerID string, partnerExists, emailTaken bool, lang, inviteSHA256 string, now time.Time) ([]Event, error) {
	if err := adminOnly(actor, "invite users"); err != nil {
		return nil, err
	}
	return invite(actor, id, p, role, partnerID, partnerExists, emailTaken, lang, inviteSHA256, false, now)
}

// InvitePartnerAdmin invites a partner user who may invite colleagues of
// its own partner; only an admin invites one.
func InvitePartnerAdmin(actor Actor, id uuid.UUID, p UserPersonal, partnerID string, partnerExists, emailTaken bool, lang, inviteSHA256 string, now time.Time) ([]Event, error) {
	if err := adminOnly(actor, "invite partner admins"); err != nil {
		return nil, err
	}
	return invite(actor, id, p, RolePartner, partnerID, partnerExists, emailTaken, lang, inviteSHA256, true, now)
}

// InviteColleague invites a partner user of the inviter's own partner:
// the inviter must be a partner user (actor) that is its partner's admin
// (inviterIsAdmin). A colleague is never a partner admin itself.
func InviteColleague(actor Actor, inviterIsAdmin bool, id uuid.UUID, p UserPersonal, emailTaken bool, lang, inviteSHA256 string, now time.Time) ([]Event, error) {
	if err := actor.Validate(); err != nil {
		return nil, err
	}
	if actor.Role != RolePartner || !inviterIsAdmin {
		return nil, Errorf(EFORBIDDEN, "only a partner's admin may invite its colleagues")
	}
	return invite(actor, id, p, RolePartner, actor.PartnerID, true, emailTaken, lang, inviteSHA256, false, now)
}

func invite(actor Actor, id uuid.UUID, p UserPersonal, role Role, partnerID string, partnerExists, emailTaken bool, lang, inviteSHA256 string, partnerAdmin bool, now time.Time) ([]Event, error) {
	p.Name = strings.TrimSpace(p.Name)
	p.Email = NormalizeEmail(p.Email)
	var v validator
	v.requiredText("name", p.Name, MaxUserNameLen, false)
	switch addr, err := mail.ParseAddress(p.Email); {
	case p.Email == "":
		v.add("email", FieldRequired, "is required")
	case err != nil || addr.Address != p.Email || len(p.Email) > MaxEmailLen:
		v.add("email", FieldInvalid, "must be an e-mail address")
	case emailTaken:
		v.add("email", FieldDuplicate, "another user has this address")
	}
	switch {
	case !role.Valid():
		v.add("role", FieldInvalid, "must be a known role")
	case role == RolePartner && partnerID == "":
		v.add("partner_id", FieldRequired, "is required for a partner user")
	case role == RolePartner && !partnerExists:
		v.add("partner_id", FieldInvalid, "no such partner")
	case role != RolePartner && partnerID != "":
		v.add("partner_id", FieldInvalid, "only a partner user belongs to a partner")
	}
	if !ValidLanguage(lang) {
		v.add("language", FieldInvalid, "must be one of: en, es")
	}
	if !sha256Hex.MatchString(inviteSHA256) {
		v.add("invite_sha256", FieldInvalid, "must be 64 lower-case hex digits")
	}
	if err := v.err("the invitation is invalid"); err != nil {
		return nil, err
	}
	return []Event{UserInvited{UserID: id, Personal: p, Role: role, PartnerID: partnerID, Language: lang,
		InviteSHA256: inviteSHA256, InvitedBy: actor.ID, PartnerAdmin: partnerAdmin, At: canonicalTime(now)}}, nil
}

// CheckPassword returns an EINVALID error naming field when password is
// too short or too long.
func CheckPassword(field, password string) error {
	var v validator
	switch n := len([]rune(password)); {
	case n < MinPasswordLen:
		v.add(field, FieldInvalid, "must be at least 12 characters")
	case len(password) > MaxPasswordLen:
		v.add(field, FieldTooLong, "must be at most 200 bytes")
	}
	return v.err("the password is not acceptable")
}

// SetUserPassword records a password hash for user id; invited says
// whether the user exists.
func SetUserPassword(id uuid.UUID, invited bool, passwordHash string, now time.Time) ([]Event, error) {
	if !invited {
		return nil, Errorf(ENOTFOUND, "user not found")
	}
	if !strings.HasPrefix(passwordHash, "$argon2id$") {
		return nil, Errorf(EINTERNAL, "set password: not an argon2id hash")
	}
	return []Event{UserPasswordSet{UserID: id, PasswordHash: passwordHash, At: canonicalTime(now)}}, nil
}

// SetUserLanguage records the language user id chose.
func SetUserLanguage(id uuid.UUID, invited bool, lang string, now time.Time) ([]Event, error) {
	if !invited {
		return nil, Errorf(ENOTFOUND, "user not found")
	}
	if !ValidLanguage(lang) {
		return nil, &Error{Code: EINVALID, Message: "the language is invalid", Fields: []FieldError{
			{Field: "language", Code: FieldInvalid, Message: "must be one of: en, es"}}}
	}
	return []Event{UserLanguageSet{UserID: id, Language: lang, At: canonicalTime(now)}}, nil
}

// StartSession records a sign-in of user id lasting ttl.
func StartSession(id, userID uuid.UUID, secretSHA256 string, ttl time.Duration, now time.Time) ([]Event, error) {
	if !sha256Hex.MatchString(secretSHA256) || ttl <= 0 {
		return nil, Errorf(EINTERNAL, "start session: bad secret hash or lifetime")
	}
	now = canonicalTime(now)
	return []Event{SessionStarted{SessionID: id, UserID: userID, SecretSHA256: secretSHA256, ExpiresAt: now.Add(ttl), At: now}}, nil
}

// EndSession ends session id; started and ended say where it stands.
// Ending an ended session appends nothing.
func EndSession(id uuid.UUID, started, ended bool, by string, now time.Time) ([]Event, error) {
	switch {
	case !started:
		return nil, Errorf(ENOTFOUND, "session not found")
	case ended:
		return nil, nil
	}
	return []Event{SessionEnded{SessionID: id, EndedBy: by, At: canonicalTime(now)}}, nil
}

// EventType returns "UserInvited".
func (UserInvited) EventType() string { return "UserInvited" }

// EventType returns "UserPasswordSet".
func (UserPasswordSet) EventType() string { return "UserPasswordSet" }

// EventType returns "UserLanguageSet".
func (UserLanguageSet) EventType() string { return "UserLanguageSet" }

// EventType returns "SessionStarted".
func (SessionStarted) EventType() string { return "SessionStarted" }

// EventType returns "SessionEnded".
func (SessionEnded) EventType() string { return "SessionEnded" }

// ApprovalCriteria are what a reviewer confirms before approving from the
// console (the seed's approval criteria): the partner's relationship with
// the prospect is proven, the opportunity is qualified, the territory is
// the partner's, the solution fits, and the vendor's own sales team has no
// existing direct relationship.
var ApprovalCriteria = []string{"relationship", "quality", "territory", "fit", "direct"}

// CheckChecklist returns an EINVALID error naming each approval criterion
// not in confirmed (field "checklist.<criterion>").
func CheckChecklist(confirmed []string) error {
	var v validator
	for _, c := range ApprovalCriteria {
		found := false
		for _, got := range confirmed {
			found = found || got == c
		}
		if !found {
			v.add("checklist."+c, FieldRequired, "confirm this criterion before approving")
		}
	}
	return v.err("the approval checklist is incomplete")
}
