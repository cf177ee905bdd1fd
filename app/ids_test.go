package app_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
)

// TestConfig_IDs: with an ID source, a new registration and every event a
// command appends take their IDs from it, so a generator can build the same
// ledger twice.
func TestConfig_IDs(t *testing.T) {
	ctx := context.Background()
	clock := domain.NewManualClock(t0)
	store, err := eventstore.OpenSQLite(filepath.Join(t.TempDir(), "ledger.db"), eventstore.Options{Clock: clock})
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	var n byte
	next := func() uuid.UUID { n++; return uuid.UUID{15: n} }
	svc := app.New(app.Config{Store: store, Clock: clock, IDs: next, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, svc.Start(ctx, false))
	t.Cleanup(svc.Stop)

	id, _, err := svc.Create(ctx, partner("acme"), domain.TypeOpportunity, details(clock.Now(), "Repsol", "repsol.example", "HR"), false)
	require.NoError(t, err)
	require.Equal(t, uuid.UUID{15: 1}, id)
	recs, err := store.ReadStream(ctx, domain.RegistrationStream(id), domain.ReadStreamOptions{})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Equal(t, uuid.UUID{15: 2}, recs[0].ID)
}
