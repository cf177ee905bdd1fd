package app_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
)

// TestFreshHead_PartnerEnrolledByAnotherProcess enrols partners through a
// second handle on the ledger file, as `dealreg partner add` does while
// serve runs, and submits for each at once through the serving service.
// Serve's store sees the other handle's commit only at its next poll
// (about 200 ms), so the directory does not know the partner yet; the
// submission must not be refused not_eligible for it: a refusal on folded
// state waits for the follower to reach the ledger's head as it is now.
// Issuing the partner's token right after its enrolment works the same
// way.
func TestFreshHead_PartnerEnrolledByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	clock := domain.NewManualClock(t0)
	serveStore, err := eventstore.OpenSQLite(path, eventstore.Options{Clock: clock})
	require.NoError(t, err)
	t.Cleanup(func() { serveStore.Close() })
	serving := app.New(app.Config{Store: serveStore, Clock: clock, Logger: quiet})
	require.NoError(t, serving.Start(ctx, false))
	t.Cleanup(serving.Stop)

	consoleStore, err := eventstore.OpenSQLite(path, eventstore.Options{Clock: clock})
	require.NoError(t, err)
	t.Cleanup(func() { consoleStore.Close() })
	console := app.New(app.Config{Store: consoleStore, Clock: clock, Logger: quiet, DirectoryOnly: true})
	require.NoError(t, console.Start(ctx, false))
	t.Cleanup(console.Stop)

	admin := app.Call{Caller: app.Caller{Actor: domain.Actor{ID: "admin", Role: domain.RoleAdmin}}}
	for i, id := range []string{"fresh-a", "fresh-b", "fresh-c"} {
		_, err := console.AddPartner(ctx, admin, domain.Partner{ID: id, Name: id, Tier: domain.TierGold})
		require.NoError(t, err)
		_, _, err = serving.Create(ctx, partner(id), domain.TypeOpportunity, details(clock.Now(), "Fresh Company "+id, id+".example", "HR"), true)
		require.NoError(t, err, "partner %d, submitted right after its enrolment by another process", i)
	}
	for i, id := range []string{"fresh-d", "fresh-e"} {
		_, err := console.AddPartner(ctx, admin, domain.Partner{ID: id, Name: id, Tier: domain.TierGold})
		require.NoError(t, err)
		_, err = serving.CreateToken(ctx, admin, "lucia@"+id, domain.RolePartner, id)
		require.NoError(t, err, "partner %d, its token issued right after its enrolment by another process", i)
	}

	// A partner no process enrolled is still refused, as decided.
	_, _, err = serving.Create(ctx, partner("nobody"), domain.TypeOpportunity, details(clock.Now(), "Nobody Company", "nobody.example", "HR"), true)
	var de *domain.Error
	require.ErrorAs(t, err, &de)
	require.Equal(t, domain.ENOTELIGIBLE, de.Code)
}
