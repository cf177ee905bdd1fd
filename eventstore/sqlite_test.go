package eventstore_test

import (
	"path/filepath"
	"testing"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
	"github.com/dealreg/dealreg/eventstore/storetest"
	"github.com/stretchr/testify/require"
)

// MustOpenStore opens a new ledger in a temporary directory, closed at the
// end of the test.
func MustOpenStore(tb testing.TB, opts ...eventstore.Options) *eventstore.SQLite {
	tb.Helper()
	return MustOpenPath(tb, filepath.Join(tb.TempDir(), "ledger.db"), opts...)
}

// MustOpenPath opens the ledger at path, closed at the end of the test.
func MustOpenPath(tb testing.TB, path string, opts ...eventstore.Options) *eventstore.SQLite {
	tb.Helper()
	var o eventstore.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	s, err := eventstore.OpenSQLite(path, o)
	require.NoError(tb, err)
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestSQLite_Contract(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		Name: "sqlite",
		Open: func(tb testing.TB) domain.EventStore { return MustOpenStore(tb) },
		Reopen: func(tb testing.TB, closed domain.EventStore) domain.EventStore {
			return MustOpenPath(tb, closed.(*eventstore.SQLite).Path())
		},
		ContiguousPositions: true,
		GloballyUniqueIDs:   true,
	})
}
