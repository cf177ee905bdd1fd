package eventstore_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/dealreg/dealreg/domain"
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

// FuzzReadStream reads arbitrary stream names (NUL bytes, invalid UTF-8,
// SQL) and positions from a small ledger: a read never panics, returns only
// events of the stream asked for, in order, or ErrStreamNotFound.
func FuzzReadStream(f *testing.F) {
	s, err := eventstore.OpenSQLite(filepath.Join(f.TempDir(), "ledger.db"), eventstore.Options{})
	require.NoError(f, err)
	defer s.Close()
	fill(f, s, 20) // streams registration-0 … registration-6
	f.Add("registration-3", uint64(0), false, 0)
	f.Add("registration-3\x00", uint64(1), true, 2)
	f.Add("' OR 1=1 --", uint64(0), false, -1)
	f.Add("\xff\xfe", uint64(1<<63), true, 1)

	f.Fuzz(func(t *testing.T, stream string, from uint64, backwards bool, count int) {
		ctx := context.Background()
		opts := domain.ReadStreamOptions{From: from, Count: count}
		if backwards {
			opts.Direction = domain.Backwards
		}
		events, err := s.ReadStream(ctx, stream, opts)
		if errors.Is(err, domain.ErrStreamNotFound) {
			return
		}
		require.NoError(t, err)
		for i, e := range events {
			require.Equal(t, stream, e.Stream)
			if i > 0 && !backwards {
				require.Equal(t, events[i-1].Revision+1, e.Revision)
			}
		}
		all, err := s.ReadAll(ctx, domain.ReadAllOptions{From: from % 25, Count: count})
		require.NoError(t, err)
		for i, e := range all {
			require.Equal(t, from%25+uint64(i), e.Position)
		}
	})
}
