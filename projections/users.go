package projections

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	json "github.com/goccy/go-json"
	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
)

// UserView is a person who signs in to the portal or the console.
type UserView struct {
	ID        uuid.UUID   `json:"id"`
	Name      string      `json:"name"`
	Email     string      `json:"email"`
	Role      domain.Role `json:"role"`
	PartnerID string      `json:"partner_id,omitempty"`
	Language  string      `json:"language"`
	InvitedAt time.Time   `json:"invited_at"`
	// Active reports whether the user has chosen a password (accepted the
	// invitation); PasswordHash is then its argon2id hash.
	Active       bool   `json:"active"`
	PasswordHash string `json:"-"`
	// PartnerAdmin marks a partner user who may invite colleagues.
	PartnerAdmin bool `json:"partner_admin,omitempty"`
	// ReadThrough is the ledger position of the newest notification the
	// user saw in the inbox (UserNotificationsRead); later ones are unread.
	ReadThrough uint64 `json:"read_through,omitempty"`
	inviteHash  string
}

// SessionView is a live web session.
type SessionView struct {
	ID        uuid.UUID `json:"id"`
	UserID    uuid.UUID `json:"user_id"`
	StartedAt time.Time `json:"started_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

type storedUser struct {
	View         UserView `json:"view"`
	PasswordHash string   `json:"password_hash,omitempty"`
	InviteHash   string   `json:"invite_hash,omitempty"`
}

type storedSession struct {
	View SessionView `json:"view"`
	Hash string      `json:"hash"`
}

// Users is the projection of the portal's people and their live sessions:
// users by ID, e-mail and invitation, sessions by the SHA-256 of their
// secret. An ended session is forgotten; so are a user's expired sessions
// when the user starts a new one (expiry judged by the recorded time of
// that event, never the clock). It is safe for concurrent use.
type Users struct {
	tracker
	users    map[uuid.UUID]*UserView
	byEmail  map[string]*UserView
	byInvite map[string]*UserView
	sessions map[uuid.UUID]*SessionView
	byHash   map[string]*SessionView
	hashOf   map[uuid.UUID]string
	rows     *rowSet
}

var _ Handler = (*Users)(nil)

// NewUsers returns an empty users view at checkpoint 0.
func NewUsers() *Users {
	u := &Users{tracker: newTracker(), rows: newRowSet("users")}
	u.clear()
	return u
}

func (u *Users) clear() {
	u.users = map[uuid.UUID]*UserView{}
	u.byEmail = map[string]*UserView{}
	u.byInvite = map[string]*UserView{}
	u.sessions = map[uuid.UUID]*SessionView{}
	u.byHash = map[string]*SessionView{}
	u.hashOf = map[uuid.UUID]string{}
}

// Load implements Handler. Rows: "u:<id>" a user, "s:<id>" a session.
func (u *Users) Load(ctx context.Context, db *sql.DB) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.rows.reset()
	u.clear()
	err := LoadRows(ctx, db, u.rows.view, func(key string, body []byte) error {
		switch {
		case strings.HasPrefix(key, "u:"):
			var s storedUser
			if err := json.Unmarshal(body, &s); err != nil {
				return err
			}
			v := s.View
			v.PasswordHash, v.inviteHash = s.PasswordHash, s.InviteHash
			u.addUser(&v)
		case strings.HasPrefix(key, "s:"):
			var s storedSession
			if err := json.Unmarshal(body, &s); err != nil {
				return err
			}
			v := s.View
			u.sessions[v.ID], u.byHash[s.Hash], u.hashOf[v.ID] = &v, &v, s.Hash
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("users: %w", err)
	}
	return nil
}

func (u *Users) addUser(v *UserView) {
	u.users[v.ID] = v
	u.byEmail[v.Email] = v
	if v.inviteHash != "" {
		u.byInvite[v.inviteHash] = v
	}
}

// ApplyBatch implements Handler.
func (u *Users) ApplyBatch(_ *Batch, rec domain.RecordedEvent) error { return u.Apply(rec) }

// Flush implements Handler.
func (u *Users) Flush() (Write, error) { return u.rows.flush(u.mu.RLocker()) }

// Committed implements Handler.
func (u *Users) Committed(next uint64) {
	u.mu.Lock()
	u.next = next
	u.mu.Unlock()
}

func (u *Users) markUser(v *UserView) {
	u.rows.mark("u:"+v.ID.String(), func() any {
		return storedUser{View: *v, PasswordHash: v.PasswordHash, InviteHash: v.inviteHash}
	})
}

func (u *Users) forgetSession(id uuid.UUID) {
	delete(u.byHash, u.hashOf[id])
	delete(u.hashOf, id)
	delete(u.sessions, id)
	u.rows.mark("s:"+id.String(), nil)
}

// Apply folds one recorded event into the view; events of other streams
// only move the checkpoint.
func (u *Users) Apply(rec domain.RecordedEvent) error {
	var ev domain.Event
	if strings.HasPrefix(rec.Stream, "user-") || strings.HasPrefix(rec.Stream, "session-") {
		var err error
		if ev, err = decodeEvent(nil, rec); err != nil {
			return err
		}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if rec.Position < u.next {
		return nil
	}
	switch e := ev.(type) {
	case domain.UserInvited:
		v := &UserView{ID: e.UserID, Name: e.Personal.Name, Email: e.Personal.Email, Role: e.Role, PartnerID: e.PartnerID,
			Language: e.Language, InvitedAt: rec.RecordedAt, PartnerAdmin: e.PartnerAdmin, inviteHash: e.InviteSHA256}
		u.addUser(v)
		u.markUser(v)
	case domain.UserPasswordSet:
		if v, ok := u.users[e.UserID]; ok {
			// The invitation is spent once a password is chosen.
			delete(u.byInvite, v.inviteHash)
			v.inviteHash, v.PasswordHash, v.Active = "", e.PasswordHash, true
			u.markUser(v)
		}
	case domain.UserLanguageSet:
		if v, ok := u.users[e.UserID]; ok {
			v.Language = e.Language
			u.markUser(v)
		}
	case domain.UserNotificationsRead:
		if v, ok := u.users[e.UserID]; ok && e.Through > v.ReadThrough {
			v.ReadThrough = e.Through
			u.markUser(v)
		}
	case domain.SessionStarted:
		for id, s := range u.sessions {
			if s.UserID == e.UserID && !rec.RecordedAt.Before(s.ExpiresAt) {
				u.forgetSession(id)
			}
		}
		s := &SessionView{ID: e.SessionID, UserID: e.UserID, StartedAt: rec.RecordedAt, ExpiresAt: e.ExpiresAt}
		u.sessions[s.ID], u.byHash[e.SecretSHA256], u.hashOf[s.ID] = s, s, e.SecretSHA256
		u.rows.mark("s:"+s.ID.String(), func() any { return storedSession{View: *s, Hash: e.SecretSHA256} })
	case domain.SessionEnded:
		if _, ok := u.sessions[e.SessionID]; ok {
			u.forgetSession(e.SessionID)
		}
	}
	u.advance(rec.Position)
	return nil
}

// User returns user id.
func (u *Users) User(id uuid.UUID) (UserView, bool) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	v, ok := u.users[id]
	if !ok {
		return UserView{}, false
	}
	return *v, true
}

// UserByEmail returns the user with this (normalised) e-mail address.
func (u *Users) UserByEmail(email string) (UserView, bool) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	v, ok := u.byEmail[email]
	if !ok {
		return UserView{}, false
	}
	return *v, true
}

// UserByInvite returns the user whose pending invitation secret has this
// SHA-256; a spent invitation finds no one.
func (u *Users) UserByInvite(hash string) (UserView, bool) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	v, ok := u.byInvite[hash]
	if !ok {
		return UserView{}, false
	}
	return *v, true
}

// SessionBySecretHash returns the live (not ended) session whose secret
// has this SHA-256; whether it expired is the caller's to judge.
func (u *Users) SessionBySecretHash(hash string) (SessionView, bool) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	s, ok := u.byHash[hash]
	if !ok {
		return SessionView{}, false
	}
	return *s, true
}

// Colleagues returns the users of partner, in no particular order.
func (u *Users) Colleagues(partner string) []UserView {
	u.mu.RLock()
	defer u.mu.RUnlock()
	var out []UserView
	for _, v := range u.users {
		if v.Role == domain.RolePartner && v.PartnerID == partner {
			out = append(out, *v)
		}
	}
	return out
}

// Sessions returns the live sessions of user id.
func (u *Users) Sessions(id uuid.UUID) []SessionView {
	u.mu.RLock()
	defer u.mu.RUnlock()
	var out []SessionView
	for _, s := range u.sessions {
		if s.UserID == id {
			out = append(out, *s)
		}
	}
	return out
}
