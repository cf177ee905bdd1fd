package eventstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
	"github.com/dealreg/dealreg/eventstore/storetest"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/tlog"
)

// fill appends n events spread over a few streams, with JSON as a client
// might send it (spaces, unicode).
func fill(tb testing.TB, s domain.EventStore, n int) {
	tb.Helper()
	ctx := context.Background()
	for i := range n {
		e := storetest.Event("Filled", i)
		e.Data = json.RawMessage(fmt.Sprintf(`{ "n": %d, "company": "Telefónica <S.A.> & Co" }`, i))
		_, err := s.Append(ctx, fmt.Sprintf("registration-%d", i%7), domain.Any(), e)
		require.NoError(tb, err)
	}
}

// sqlite3Exec changes the ledger file the way an auditor (or an attacker)
// would: with the sqlite3 command-line tool, falling back to database/sql
// where the tool is not installed (.ci/run installs it).
func sqlite3Exec(t *testing.T, path, stmt string) {
	t.Helper()
	if bin, err := exec.LookPath("sqlite3"); err == nil {
		out, err := exec.Command(bin, path, stmt).CombinedOutput()
		require.NoError(t, err, "sqlite3: %s", out)
		return
	}
	t.Log("sqlite3 tool not found: changing the file through database/sql instead")
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(stmt)
	require.NoError(t, err)
}

func TestSQLite_Verify(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stmt   string
		at     uint64
		reason string
	}{
		{"DataByte", `UPDATE events SET data = substr(data, 1, 5) || 'X' || substr(data, 7) WHERE position = 7`, 7, "bytes no longer match"},
		{"MetadataByte", `UPDATE events SET metadata = replace(metadata, 'storetest', 'storetesT') WHERE position = 3`, 3, "bytes no longer match"},
		{"Type", `UPDATE events SET type = 'Forged' WHERE position = 12`, 12, "bytes no longer match"},
		{"RecordedTime", `UPDATE events SET recorded_at = recorded_at + 1 WHERE position = 19`, 19, "bytes no longer match"},
		{"Stream", `UPDATE events SET stream = 'registration-x' WHERE position = 15`, 15, "revision"},
		{"TreeHash", `UPDATE events SET hashes = substr(hashes, 1, 32) || zeroblob(32) WHERE position = 5`, 5, "tree hash"},
		{"LeafHash", `UPDATE events SET hashes = zeroblob(32) WHERE position = 4`, 4, "bytes no longer match"},
		{"DeletedEvent", `DELETE FROM events WHERE position = 10`, 10, "missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ledger.db")
			s := MustOpenPath(t, path)
			fill(t, s, 30)
			head, err := s.Verify(context.Background())
			require.NoError(t, err, "an untouched ledger verifies")
			require.Equal(t, uint64(30), head.Size)
			require.NoError(t, s.Close())

			sqlite3Exec(t, path, tc.stmt)

			s = MustOpenPath(t, path)
			_, err = s.Verify(context.Background())
			var ve *eventstore.VerifyError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tc.at, ve.Position, "%v", err)
			require.Contains(t, ve.Error(), tc.reason)
		})
	}
}

func TestSQLite_DamagedLedgerRefusesWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	s := MustOpenPath(t, path)
	fill(t, s, 5)
	require.NoError(t, s.Close())
	sqlite3Exec(t, path, `UPDATE events SET hashes = substr(hashes, 33) WHERE position = 4`)

	s = MustOpenPath(t, path)
	require.Error(t, s.Damaged())
	_, err := s.Append(context.Background(), "x", domain.Any(), storetest.Event("E", 0))
	require.ErrorContains(t, err, "altered")
	events, err := s.ReadAll(context.Background(), domain.ReadAllOptions{})
	require.NoError(t, err, "a damaged ledger stays readable")
	require.Len(t, events, 5)
}

// TestSQLite_TreeMatchesIndependentHashing rebuilds the RFC 6962 tree from
// the events alone, in memory, and compares roots with the stored tree.
func TestSQLite_TreeMatchesIndependentHashing(t *testing.T) {
	s := MustOpenStore(t)
	fill(t, s, 77)
	events, err := s.ReadAll(context.Background(), domain.ReadAllOptions{})
	require.NoError(t, err)
	var stored []tlog.Hash
	r := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = stored[x]
		}
		return out, nil
	})
	for _, e := range events {
		hs, err := tlog.StoredHashes(int64(e.Position), eventstore.LeafData(e), r)
		require.NoError(t, err)
		stored = append(stored, hs...)
	}
	want, err := tlog.TreeHash(int64(len(events)), r)
	require.NoError(t, err)
	head, err := s.TreeHead(context.Background())
	require.NoError(t, err)
	require.Equal(t, uint64(77), head.Size)
	require.Equal(t, want, head.Root)
}

func TestSQLite_ExportImport(t *testing.T) {
	ctx := context.Background()
	src := MustOpenStore(t)
	fill(t, src, 250)
	var dump bytes.Buffer
	exported, err := src.Export(ctx, &dump)
	require.NoError(t, err)
	require.Equal(t, uint64(250), exported.Size)
	require.Equal(t, 250, strings.Count(dump.String(), "\n"))

	t.Run("IdenticalHashes", func(t *testing.T) {
		dst := MustOpenStore(t)
		imported, err := dst.Import(ctx, bytes.NewReader(dump.Bytes()))
		require.NoError(t, err)
		require.Equal(t, exported, imported)
		verified, err := dst.Verify(ctx)
		require.NoError(t, err)
		require.Equal(t, exported, verified)

		var again bytes.Buffer
		_, err = dst.Export(ctx, &again)
		require.NoError(t, err)
		require.Equal(t, dump.String(), again.String(), "export → import → export is byte-identical")

		// The imported ledger goes on as a live one.
		res, err := dst.Append(ctx, "registration-0", domain.Any(), storetest.Event("After", 0))
		require.NoError(t, err)
		require.Equal(t, uint64(250), res.Position)
	})
	t.Run("NotEmpty", func(t *testing.T) {
		dst := MustOpenStore(t)
		fill(t, dst, 1)
		_, err := dst.Import(ctx, bytes.NewReader(dump.Bytes()))
		require.ErrorContains(t, err, "not empty")
	})
	t.Run("Malformed", func(t *testing.T) {
		lines := strings.SplitAfter(dump.String(), "\n")
		for name, body := range map[string]string{
			"BadJSON":       lines[0] + "{not json\n",
			"Gap":           lines[0] + lines[2],
			"UnknownField":  strings.Replace(lines[0], `{"id"`, `{"extra":1,"id"`, 1),
			"TimeBackwards": lines[0] + strings.Replace(lines[1], `"recorded_at":"`, `"recorded_at":"1999-01-01T00:00:00Z","x":"`, 1),
		} {
			t.Run(name, func(t *testing.T) {
				dst := MustOpenStore(t)
				_, err := dst.Import(ctx, strings.NewReader(body))
				require.ErrorContains(t, err, "line ")
			})
		}
	})
}

func TestSQLite_RecordedTimeNeverDecreases(t *testing.T) {
	clock := domain.NewManualClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	s := MustOpenStore(t, eventstore.Options{Clock: clock})
	ctx := context.Background()
	_, err := s.Append(ctx, "a", domain.Any(), storetest.Event("E", 0))
	require.NoError(t, err)
	clock.Advance(-time.Hour) // the machine's clock steps back
	_, err = s.Append(ctx, "a", domain.Any(), storetest.Event("E", 1))
	require.NoError(t, err)
	clock.Advance(2 * time.Hour)
	_, err = s.Append(ctx, "a", domain.Any(), storetest.Event("E", 2))
	require.NoError(t, err)

	events, err := s.ReadAll(ctx, domain.ReadAllOptions{})
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC), events[0].RecordedAt, "recorded time comes from the store's clock")
	require.Equal(t, events[0].RecordedAt, events[1].RecordedAt, "a clock stepping back does not move recorded time back")
	require.Equal(t, time.Date(2026, 5, 1, 13, 0, 0, 0, time.UTC), events[2].RecordedAt)
}

func TestSQLite_Open(t *testing.T) {
	t.Run("NewerSchema", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ledger.db")
		s := MustOpenPath(t, path)
		require.NoError(t, s.Close())
		sqlite3Exec(t, path, `PRAGMA user_version = 99`)
		_, err := eventstore.OpenSQLite(path, eventstore.Options{})
		require.ErrorContains(t, err, "schema version 99, newer than this dealreg supports")
	})
	t.Run("NotSQLite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ledger.db")
		require.NoError(t, os.WriteFile(path, bytes.Repeat([]byte("this is not a database "), 500), 0o600))
		_, err := eventstore.OpenSQLite(path, eventstore.Options{})
		require.ErrorContains(t, err, "not a SQLite database")
	})
	t.Run("OtherApplication", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "other.db")
		sqlite3Exec(t, path, `CREATE TABLE customers (id INTEGER PRIMARY KEY)`)
		_, err := eventstore.OpenSQLite(path, eventstore.Options{})
		require.ErrorContains(t, err, "not a dealreg ledger")
	})
	t.Run("MissingDirectory", func(t *testing.T) {
		_, err := eventstore.OpenSQLite(filepath.Join(t.TempDir(), "no", "such", "ledger.db"), eventstore.Options{})
		require.ErrorContains(t, err, "cannot open")
	})
	t.Run("CorruptPages", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ledger.db")
		s := MustOpenPath(t, path)
		fill(t, s, 2000)
		require.NoError(t, s.Close())
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		require.NoError(t, err)
		_, err = f.WriteAt(bytes.Repeat([]byte{0xA5}, 8192), 16384)
		require.NoError(t, err)
		require.NoError(t, f.Close())

		// Either opening or verifying must fail with an error; nothing panics.
		s, err = eventstore.OpenSQLite(path, eventstore.Options{})
		if err != nil {
			require.ErrorContains(t, err, "open ledger")
			return
		}
		defer s.Close()
		_, err = s.Verify(context.Background())
		require.Error(t, err)
	})
}

func TestSQLite_StorageFull(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	s := MustOpenPath(t, path, eventstore.WithMaxPageCount(eventstore.Options{}, 40))
	var acked []uint64
	var err error
	for i := range 10_000 {
		e := storetest.Event("Big", i)
		e.Data = json.RawMessage(fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i, strings.Repeat("x", 900)))
		var res domain.AppendResult
		res, err = s.Append(ctx, "full", domain.Any(), e)
		if err != nil {
			break
		}
		acked = append(acked, res.Position)
	}
	require.ErrorIs(t, err, domain.ErrStorageFull)
	require.Equal(t, domain.EUNAVAILABLE, domain.ErrorCode(err))
	require.NotEmpty(t, acked)

	// Still full: a second try fails the same way, and nothing half-written shows.
	big := storetest.Event("Big", -1)
	big.Data = json.RawMessage(fmt.Sprintf(`{"pad":"%s"}`, strings.Repeat("y", 4000)))
	_, err = s.Append(ctx, "full", domain.Any(), big)
	require.ErrorIs(t, err, domain.ErrStorageFull)
	events, err := s.ReadAll(ctx, domain.ReadAllOptions{})
	require.NoError(t, err)
	require.Len(t, events, len(acked), "every acknowledged append is there and nothing else")
	_, err = s.Verify(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	// With space again, the ledger continues where it stopped.
	s = MustOpenPath(t, path)
	res, err := s.Append(ctx, "full", domain.Any(), storetest.Event("After", 0))
	require.NoError(t, err)
	require.Equal(t, uint64(len(acked)), res.Position)
}

// TestSQLite_ReadsOfHandEditedRows: a value of the wrong type, put in the
// file with the sqlite3 tool, makes reads that reach it fail with an error
// naming the column, never a panic or a silently wrong event; reads that
// do not reach it are unaffected. (A number written into a TEXT column is
// stored as its text, by SQLite's column affinity: a read takes it as text
// and Verify finds the changed bytes.)
func TestSQLite_ReadsOfHandEditedRows(t *testing.T) {
	for _, tc := range []struct {
		stmt, column string
	}{
		{`UPDATE events SET revision = 'three' WHERE position = 6`, "revision"},
		{`UPDATE events SET event_id = 'not-a-uuid' WHERE position = 6`, "event_id"},
		{`UPDATE events SET event_id = x'00' WHERE position = 6`, "event_id"},
		{`UPDATE events SET stream = x'6162' WHERE position = 6`, "stream"},
		{`UPDATE events SET type = x'4142' WHERE position = 6`, "type"},
		{`UPDATE events SET recorded_at = '2026-11-28' WHERE position = 6`, "recorded_at"},
		{`UPDATE events SET schema_version = 'v1' WHERE position = 6`, "schema_version"},
	} {
		t.Run(tc.column, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ledger.db")
			s := MustOpenPath(t, path)
			fill(t, s, 10)
			require.NoError(t, s.Close())
			sqlite3Exec(t, path, tc.stmt)

			s = MustOpenPath(t, path)
			ctx := context.Background()
			_, err := s.ReadAll(ctx, domain.ReadAllOptions{})
			require.ErrorContains(t, err, tc.column)
			events, err := s.ReadAll(ctx, domain.ReadAllOptions{Count: 6})
			require.NoError(t, err, "events before the damaged one still read")
			require.Len(t, events, 6)
			_, err = s.ReadAll(ctx, domain.ReadAllOptions{From: 6, Count: 1})
			require.ErrorContains(t, err, tc.column)
		})
	}
}
