package domain_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

const linkHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func TestUseSignInLink(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	link, user, session := uuid.New(), uuid.New(), uuid.New()
	issued, err := domain.IssueSignInLink(link, user, true, linkHash, 15*time.Minute, now)
	require.NoError(t, err)
	_, err = domain.IssueSignInLink(link, user, false, linkHash, 15*time.Minute, now)
	require.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err), "an inactive user gets no link")

	got, events, err := domain.UseSignInLink(issued, linkHash, session, now.Add(14*time.Minute))
	require.NoError(t, err)
	require.Equal(t, user, got.UserID)
	require.Equal(t, []domain.Event{domain.SignInLinkUsed{LinkID: link, SessionID: session, At: now.Add(14 * time.Minute)}}, events)

	for name, c := range map[string]struct {
		stored []domain.Event
		hash   string
		at     time.Time
	}{
		"never issued": {nil, linkHash, now},
		"used":         {append(issued, events...), linkHash, now},
		"expired":      {issued, linkHash, now.Add(15 * time.Minute)},
		"other secret": {issued, "0" + linkHash[1:], now},
	} {
		_, events, err := domain.UseSignInLink(c.stored, c.hash, session, c.at)
		require.Equal(t, domain.EUNAUTHORIZED, domain.ErrorCode(err), name)
		require.Nil(t, events, name)
	}
}

func TestInviteColleague(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ana := domain.Actor{ID: "user:ana", Role: domain.RolePartner, PartnerID: "acme"}
	p := domain.UserPersonal{Name: "Beto", Email: "beto@acme.example"}
	events, err := domain.InviteColleague(ana, true, uuid.New(), p, false, "es", linkHash, now)
	require.NoError(t, err)
	inv := events[0].(domain.UserInvited)
	require.Equal(t, "acme", inv.PartnerID)
	require.Equal(t, domain.RolePartner, inv.Role)
	require.False(t, inv.PartnerAdmin)
	require.Equal(t, "user:ana", inv.InvitedBy)

	_, err = domain.InviteColleague(ana, false, uuid.New(), p, false, "es", linkHash, now)
	require.Equal(t, domain.EFORBIDDEN, domain.ErrorCode(err), "not the partner's admin")
	_, err = domain.InviteColleague(domain.Actor{ID: "user:cm", Role: domain.RoleChannelManager}, true, uuid.New(), p, false, "es", linkHash, now)
	require.Equal(t, domain.EFORBIDDEN, domain.ErrorCode(err), "not a partner user")
	_, err = domain.InviteColleague(ana, true, uuid.New(), p, true, "es", linkHash, now)
	require.Equal(t, domain.EINVALID, domain.ErrorCode(err), "the address is taken")

	_, err = domain.InvitePartnerAdmin(ana, uuid.New(), p, "acme", true, false, "es", linkHash, now)
	require.Equal(t, domain.EFORBIDDEN, domain.ErrorCode(err), "only an admin names a partner admin")
	events, err = domain.InvitePartnerAdmin(domain.Actor{ID: "cli:admin", Role: domain.RoleAdmin}, uuid.New(), p, "acme", true, false, "es", linkHash, now)
	require.NoError(t, err)
	require.True(t, events[0].(domain.UserInvited).PartnerAdmin)
}
