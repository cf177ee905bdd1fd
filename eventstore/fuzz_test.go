package eventstore_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/dealreg/dealreg/eventstore"
	"github.com/stretchr/testify/require"
)

// FuzzImport feeds arbitrary bytes to Import: it must never panic, and
// whatever it accepts must be a ledger that verifies.
func FuzzImport(f *testing.F) {
	s, err := eventstore.OpenSQLite(filepath.Join(f.TempDir(), "seed.db"), eventstore.Options{})
	require.NoError(f, err)
	fill(f, s, 5)
	var dump bytes.Buffer
	_, err = s.Export(context.Background(), &dump)
	require.NoError(f, err)
	require.NoError(f, s.Close())
	f.Add(dump.Bytes())
	f.Add([]byte(`{"id":"00000000-0000-0000-0000-000000000001","stream":"s","revision":0,"position":0,"type":"T","schema_version":1,"data":{},"metadata":{},"recorded_at":"2026-01-01T00:00:00Z"}` + "\n"))
	f.Add([]byte("{}\n"))
	f.Add([]byte("\n\n"))
	f.Add([]byte(`{"position":18446744073709551615}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := eventstore.OpenSQLite(filepath.Join(t.TempDir(), "ledger.db"), eventstore.Options{})
		require.NoError(t, err)
		defer s.Close()
		head, err := s.Import(context.Background(), bytes.NewReader(data))
		if err != nil {
			return
		}
		verified, err := s.Verify(context.Background())
		require.NoError(t, err, "an accepted import verifies")
		require.Equal(t, head, verified)
	})
}
