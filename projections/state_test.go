package projections_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
	"github.com/dealreg/dealreg/projections"
)

// buildState folds l's whole ledger into a state database at path.
func buildState(t *testing.T, l *ledger, path string) {
	t.Helper()
	ctx := context.Background()
	st, err := projections.OpenState(ctx, path, l.store)
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, projections.NewFollower(l.store, st, projections.NewRegistrations(nil, l.store)).CatchUp(ctx, 0))
	require.Equal(t, l.store.Head(), st.Checkpoint())
}

func TestOpenState(t *testing.T) {
	ctx := context.Background()

	t.Run("KeepsAStateBuiltFromThisLedger", func(t *testing.T) {
		l := mustOpenLedger(t)
		r := l.approved(partner1, details("Acme", "US", ""))
		path := filepath.Join(t.TempDir(), "views.db")
		buildState(t, l, path)
		st, err := projections.OpenState(ctx, path, l.store)
		require.NoError(t, err)
		defer st.Close()
		require.Empty(t, st.Discarded)
		require.Equal(t, l.store.Head(), st.Checkpoint())
		p := projections.NewRegistrations(nil, l.store)
		require.NoError(t, projections.NewFollower(l.store, st, p).Load(ctx))
		v, ok := p.Get(r.ID())
		require.True(t, ok)
		require.Equal(t, domain.StatusActive, v.Status)
	})

	discarded := func(t *testing.T, store *eventstore.SQLite, path, why string) {
		t.Helper()
		st, err := projections.OpenState(ctx, path, store)
		require.NoError(t, err)
		defer st.Close()
		require.Contains(t, st.Discarded, why)
		require.Zero(t, st.Checkpoint())
		p := projections.NewRegistrations(nil, store)
		f := projections.NewFollower(store, st, p)
		require.NoError(t, f.Load(ctx))
		all, _, err := p.List(projections.ListFilter{}, "", 0)
		require.NoError(t, err)
		require.Empty(t, all, "nothing of the discarded state is served")
		require.NoError(t, f.CatchUp(ctx, 0))
		require.Equal(t, store.Head(), st.Checkpoint(), "and it rebuilds from the ledger")
	}

	t.Run("DiscardsAnotherSchema", func(t *testing.T) {
		l := mustOpenLedger(t)
		l.approved(partner1, details("Acme", "US", ""))
		path := filepath.Join(t.TempDir(), "views.db")
		buildState(t, l, path)
		db, err := sql.Open("sqlite", path)
		require.NoError(t, err)
		_, err = db.Exec("UPDATE meta SET v = '0' WHERE k = 'schema'")
		require.NoError(t, err)
		require.NoError(t, db.Close())
		discarded(t, l.store, path, "schema version")
	})

	t.Run("DiscardsTablesOfAnOlderLayout", func(t *testing.T) {
		// A state an older binary wrote: its registrations table lacks the
		// columns this schema's indexes name, so the schema cannot even be
		// laid over it. It is discarded like any other schema, never an
		// error that stops the server.
		l := mustOpenLedger(t)
		l.approved(partner1, details("Acme", "US", ""))
		path := filepath.Join(t.TempDir(), "views.db")
		db, err := sql.Open("sqlite", path)
		require.NoError(t, err)
		_, err = db.Exec(`CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
			CREATE TABLE registrations (pos INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, partner_id TEXT NOT NULL,
				status TEXT NOT NULL, view BLOB NOT NULL, detail BLOB NOT NULL);
			INSERT INTO meta (k, v) VALUES ('schema', '4'), ('next', '1'), ('fingerprint', 'x');`)
		require.NoError(t, err)
		require.NoError(t, db.Close())
		discarded(t, l.store, path, "not those of schema")
	})

	t.Run("DiscardsACheckpointAheadOfTheLedger", func(t *testing.T) {
		// A state from a longer ledger, then the ledger restored from an
		// older backup.
		long := mustOpenLedger(t)
		long.approved(partner1, details("Acme", "US", ""))
		long.approved(partner2, details("Globex", "DE", ""))
		path := filepath.Join(t.TempDir(), "views.db")
		buildState(t, long, path)
		short := mustOpenLedger(t)
		short.approved(partner1, details("Acme", "US", ""))
		discarded(t, short.store, path, "ahead of the ledger")
	})

	t.Run("DiscardsAStateOfAnotherLedger", func(t *testing.T) {
		a := mustOpenLedger(t)
		a.approved(partner1, details("Acme", "US", ""))
		path := filepath.Join(t.TempDir(), "views.db")
		buildState(t, a, path)
		b := mustOpenLedger(t)
		b.approved(partner1, details("Acme", "US", ""))
		b.approved(partner2, details("Globex", "DE", ""))
		discarded(t, b.store, path, "another event")
	})

	t.Run("DiscardsAnInterruptedRebuild", func(t *testing.T) {
		l := mustOpenLedger(t)
		l.approved(partner1, details("Acme", "US", ""))
		path := filepath.Join(t.TempDir(), "views.db")
		buildState(t, l, path)
		st, err := projections.OpenState(ctx, path, l.store)
		require.NoError(t, err)
		require.NoError(t, st.StartRebuild(ctx, "registrations", []string{"registrations"}, nil))
		require.NoError(t, st.Close())
		discarded(t, l.store, path, "rebuild of registrations was interrupted")
	})
}

// Loading closes the connections the parallel loads opened: each holds
// SQLite's page cache (up to 32 MiB, outside Go's heap), which a started
// server would otherwise keep resident for nothing.
func TestFollowerLoad_ReleasesIdleConnections(t *testing.T) {
	ctx := context.Background()
	l := mustOpenLedger(t)
	l.approved(partner1, details("Acme", "US", ""))
	path := filepath.Join(t.TempDir(), "views.db")
	buildState(t, l, path)
	st, err := projections.OpenState(ctx, path, l.store)
	require.NoError(t, err)
	defer st.Close()
	f := projections.NewFollower(l.store, st, projections.NewRegistrations(nil, l.store), projections.NewConflicts(l.store), projections.NewPipeline())
	require.NoError(t, f.Load(ctx))
	require.Zero(t, st.DB().Stats().Idle, "idle connections kept after the load")
}
