package app_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
)

var fastArgon2 = app.Argon2Params{Time: 1, Memory: 1024, Threads: 1}

func TestPasswordHash(t *testing.T) {
	h, err := app.HashPassword("correct horse battery", fastArgon2)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$"))
	require.True(t, app.VerifyPassword("correct horse battery", h))
	require.False(t, app.VerifyPassword("correct horse batterz", h))
	again, err := app.HashPassword("correct horse battery", fastArgon2)
	require.NoError(t, err)
	require.NotEqual(t, h, again, "every hash has its own salt")
	for _, bad := range []string{"", "$argon2i$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdA$aGFzaA", "plain"} {
		require.False(t, app.VerifyPassword("x", bad), bad)
	}
}

// Users and sessions are views like any other: they come back from the
// state database at a restart, and the same from a rebuild by replay; an
// ended session stays ended, and an invitation is spent once used.
func TestUsers_SurviveRestartAndReplay(t *testing.T) {
	dir := t.TempDir()
	clock := domain.NewManualClock(t0)
	path := filepath.Join(dir, "ledger.db")
	state := filepath.Join(dir, "views.db")
	start := func(statePath string) (*eventstore.SQLite, *app.Service) {
		store, err := eventstore.OpenSQLite(path, eventstore.Options{Clock: clock})
		require.NoError(t, err)
		svc := app.New(app.Config{Store: store, Clock: clock, StatePath: statePath, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		require.NoError(t, svc.Start(context.Background(), false))
		return store, svc
	}
	ctx := context.Background()
	admin := app.Call{Caller: app.Caller{Actor: domain.Actor{ID: "admin", Role: domain.RoleAdmin}}}

	store, svc := start(state)
	enrol(t, svc, "acme")
	inv, err := svc.InviteUser(ctx, admin, domain.UserPersonal{Name: "Ana", Email: "ana@acme.example"}, domain.RolePartner, "acme", "es")
	require.NoError(t, err)
	_, err = svc.SignIn(ctx, "ana@acme.example", "a long enough passphrase")
	require.Equal(t, domain.EUNAUTHORIZED, domain.ErrorCode(err), "no sign-in before the invitation is accepted")
	_, err = svc.AcceptInvitation(ctx, inv.Secret, "short", fastArgon2)
	require.Equal(t, domain.EINVALID, domain.ErrorCode(err))
	_, err = svc.AcceptInvitation(ctx, inv.Secret, "a long enough passphrase", fastArgon2)
	require.NoError(t, err)
	_, err = svc.AcceptInvitation(ctx, inv.Secret, "another long passphrase", fastArgon2)
	require.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err), "an invitation is used once")
	kept, err := svc.SignIn(ctx, "ANA@acme.example ", "a long enough passphrase")
	require.NoError(t, err)
	require.Equal(t, domain.Actor{ID: "user:" + inv.ID.String(), Role: domain.RolePartner, PartnerID: "acme"}, kept.Caller.Actor)
	ended, err := svc.SignIn(ctx, "ana@acme.example", "a long enough passphrase")
	require.NoError(t, err)
	require.NoError(t, svc.EndSession(ctx, app.Call{Caller: ended.Caller}, ended.ID))
	_, ok := svc.SessionFor(ended.Secret)
	require.False(t, ok)
	svc.Stop()
	store.Close()

	for name, statePath := range map[string]string{"restored": state, "replayed": ""} {
		t.Run(name, func(t *testing.T) {
			store, svc := start(statePath)
			defer store.Close()
			defer svc.Stop()
			s, ok := svc.SessionFor(kept.Secret)
			require.True(t, ok)
			require.Equal(t, kept.ID, s.ID)
			require.Equal(t, "es", s.User.Language)
			_, ok = svc.SessionFor(ended.Secret)
			require.False(t, ok, "an ended session stays ended")
			_, ok = svc.Invited(inv.Secret)
			require.False(t, ok, "a spent invitation stays spent")
		})
	}

	t.Run("Expires", func(t *testing.T) {
		store, svc := start(state)
		defer store.Close()
		defer svc.Stop()
		clock.Advance(app.SessionLifetime + time.Second)
		_, ok := svc.SessionFor(kept.Secret)
		require.False(t, ok)
	})
}
