package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

func TestInviteUser(t *testing.T) {
	admin := domain.Actor{ID: "cli:admin", Role: domain.RoleAdmin}
	id := uuid.MustParse("6f1c2a8e-7d1b-4c3a-9e55-0a1b2c3d4e5f")
	hash := strings.Repeat("a", 64)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ana := domain.UserPersonal{Name: " Ana Ruiz ", Email: " Ana@Acme.Example "}
	for _, c := range []struct {
		name          string
		actor         domain.Actor
		p             domain.UserPersonal
		role          domain.Role
		partner       string
		exists, taken bool
		lang          string
		code          string
		fields        []string
	}{
		{name: "OK", actor: admin, p: ana, role: domain.RolePartner, partner: "acme", exists: true, lang: "es"},
		{name: "ReviewerWithoutPartner", actor: admin, p: ana, role: domain.RoleChannelManager, lang: "en"},
		{name: "OnlyAdmins", actor: domain.Actor{ID: "u", Role: domain.RoleChannelManager}, p: ana, role: domain.RoleChannelManager, lang: "en", code: domain.EFORBIDDEN},
		{name: "EverythingWrongAtOnce", actor: admin, p: domain.UserPersonal{Email: "not an address"}, role: "boss", lang: "fr", code: domain.EINVALID,
			fields: []string{"name", "email", "role", "language"}},
		{name: "EmailTaken", actor: admin, p: ana, role: domain.RoleAuditor, taken: true, lang: "en", code: domain.EINVALID, fields: []string{"email"}},
		{name: "PartnerUserNeedsPartner", actor: admin, p: ana, role: domain.RolePartner, lang: "en", code: domain.EINVALID, fields: []string{"partner_id"}},
		{name: "UnknownPartner", actor: admin, p: ana, role: domain.RolePartner, partner: "ghost", lang: "en", code: domain.EINVALID, fields: []string{"partner_id"}},
		{name: "StaffHasNoPartner", actor: admin, p: ana, role: domain.RoleAuditor, partner: "acme", exists: true, lang: "en", code: domain.EINVALID, fields: []string{"partner_id"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			events, err := domain.InviteUser(c.actor, id, c.p, c.role, c.partner, c.exists, c.taken, c.lang, hash, now)
			if c.code == "" {
				require.NoError(t, err)
				require.Len(t, events, 1)
				e := events[0].(domain.UserInvited)
				require.Equal(t, "ana@acme.example", e.Personal.Email, "addresses are normalised")
				require.Equal(t, "Ana Ruiz", e.Personal.Name)
				return
			}
			require.Equal(t, c.code, domain.ErrorCode(err))
			require.Nil(t, events)
			var got []string
			if de, ok := err.(*domain.Error); ok {
				for _, f := range de.Fields {
					got = append(got, f.Field)
				}
			}
			require.ElementsMatch(t, c.fields, got)
		})
	}
}

func TestCheckPassword(t *testing.T) {
	for _, c := range []struct {
		pw string
		ok bool
	}{
		{"short", false},
		{"elevenchars", false},
		{"twelve chars", true},
		{"ñandú ñandú!", true}, // counted in characters, not bytes
		{strings.Repeat("x", 201), false},
	} {
		err := domain.CheckPassword("password", c.pw)
		require.Equal(t, c.ok, err == nil, "%q: %v", c.pw, err)
	}
}

func TestSessions(t *testing.T) {
	id, user := uuid.New(), uuid.New()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	events, err := domain.StartSession(id, user, strings.Repeat("b", 64), 12*time.Hour, now)
	require.NoError(t, err)
	require.Equal(t, now.Add(12*time.Hour), events[0].(domain.SessionStarted).ExpiresAt)
	_, err = domain.StartSession(id, user, "not a hash", time.Hour, now)
	require.Error(t, err)

	t.Run("End", func(t *testing.T) {
		events, err := domain.EndSession(id, true, false, "user:x", now)
		require.NoError(t, err)
		require.Len(t, events, 1)
	})
	t.Run("EndTwiceAppendsNothing", func(t *testing.T) {
		events, err := domain.EndSession(id, true, true, "user:x", now)
		require.NoError(t, err)
		require.Empty(t, events)
	})
	t.Run("Unknown", func(t *testing.T) {
		_, err := domain.EndSession(id, false, false, "user:x", now)
		require.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))
	})
	t.Run("Language", func(t *testing.T) {
		_, err := domain.SetUserLanguage(user, true, "de", now)
		require.Equal(t, domain.EINVALID, domain.ErrorCode(err))
		events, err := domain.SetUserLanguage(user, true, "es", now)
		require.NoError(t, err)
		require.Equal(t, "es", events[0].(domain.UserLanguageSet).Language)
	})
}
