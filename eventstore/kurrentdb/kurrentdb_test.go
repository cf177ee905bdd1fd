package kurrentdb_test

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore/kurrentdb"
	"github.com/dealreg/dealreg/eventstore/storetest"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// serverURL returns the connection string of the KurrentDB server the tests
// run against, skipping the test when there is none.
func serverURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("DEALREG_KURRENTDB_URL")
	if url == "" {
		t.Skip("DEALREG_KURRENTDB_URL not set: KurrentDB contract suite needs a running server (see README)")
	}
	return url
}

func quiet(c *esdb.Configuration) { c.Logger = esdb.NoopLogging() }

func open(tb testing.TB, url string) *kurrentdb.Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := kurrentdb.Open(ctx, url, quiet)
	require.NoError(tb, err)
	tb.Cleanup(func() { s.Close() })
	return s
}

// TestContract runs the store contract. The server is shared and persists
// across runs: storetest names every stream with a fresh UUID and only looks
// at the events it appended.
func TestContract(t *testing.T) {
	url := serverURL(t)
	storetest.Run(t, storetest.Backend{
		Name:   "kurrentdb",
		Open:   func(tb testing.TB) domain.EventStore { return open(tb, url) },
		Reopen: func(tb testing.TB, _ domain.EventStore) domain.EventStore { return open(tb, url) },
		// Positions are log offsets, and IDs are deduplicated per stream.
		ContiguousPositions: false,
		GloballyUniqueIDs:   false,
	})
}

func event(n int) domain.EventData {
	e := storetest.Event("E", n)
	e.SchemaVersion = 3
	return e
}

func ids(events []domain.RecordedEvent, stream string) []uuid.UUID {
	var out []uuid.UUID
	for _, e := range events {
		if e.Stream == stream {
			out = append(out, e.ID)
		}
	}
	return out
}

// TestPositionsBetweenEvents covers positions that are not event positions
// (a checkpoint plus one), which KurrentDB cannot start a read at.
func TestPositionsBetweenEvents(t *testing.T) {
	s := open(t, serverURL(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream := "between-" + uuid.NewString()
	in := []domain.EventData{event(0), event(1), event(2)}
	_, err := s.Append(ctx, stream, domain.NoStream(), in...)
	require.NoError(t, err)
	got, err := s.ReadStream(ctx, stream, domain.ReadStreamOptions{})
	require.NoError(t, err)
	require.Len(t, got, 3)

	fwd, err := s.ReadAll(ctx, domain.ReadAllOptions{From: got[0].Position + 1})
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{in[1].ID, in[2].ID}, ids(fwd, stream))
	require.GreaterOrEqual(t, fwd[0].Position, got[0].Position+1)

	back, err := s.ReadAll(ctx, domain.ReadAllOptions{Direction: domain.Backwards, From: got[2].Position - 1, Count: 50})
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{in[1].ID, in[0].ID}, ids(back, stream))
	require.LessOrEqual(t, back[0].Position, got[2].Position-1)

	sub, err := s.SubscribeAll(ctx, got[0].Position+1)
	require.NoError(t, err)
	defer sub.Close()
	for _, want := range in[1:] {
		for {
			e, err := sub.Next(ctx)
			require.NoError(t, err)
			require.GreaterOrEqual(t, e.Position, got[0].Position+1)
			if e.Stream == stream {
				require.Equal(t, want.ID, e.ID)
				break
			}
		}
	}
}

// TestStoredForm checks what other KurrentDB clients see: JSON events whose
// metadata is the documented envelope.
func TestStoredForm(t *testing.T) {
	url := serverURL(t)
	s := open(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream := "stored-" + uuid.NewString()
	in := event(0)
	in.Metadata = []byte(`{ "actor": "u1" }`)
	_, err := s.Append(ctx, stream, domain.NoStream(), in)
	require.NoError(t, err)

	conf, err := esdb.ParseConnectionString(url)
	require.NoError(t, err)
	quiet(conf)
	client, err := esdb.NewClient(conf)
	require.NoError(t, err)
	defer client.Close()
	rs, err := client.ReadStream(ctx, stream, esdb.ReadStreamOptions{}, 10)
	require.NoError(t, err)
	defer rs.Close()
	re, err := rs.Recv()
	require.NoError(t, err)
	require.Equal(t, in.ID, re.Event.EventID)
	require.Equal(t, "application/json", re.Event.ContentType)
	require.Equal(t, `{"schema_version":3,"meta":{"actor":"u1"}}`, string(re.Event.UserMetadata))
	require.Equal(t, re.Event.Position.Commit, re.Event.Position.Prepare, "events written by appends have one position")
	_, err = rs.Recv()
	require.ErrorIs(t, err, io.EOF)
}

// TestSystemEventsExcluded reads the start of $all, which on any server holds
// KurrentDB's own events.
func TestSystemEventsExcluded(t *testing.T) {
	s := open(t, serverURL(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := s.Append(ctx, "system-"+uuid.NewString(), domain.NoStream(), event(0))
	require.NoError(t, err)
	got, err := s.ReadAll(ctx, domain.ReadAllOptions{Count: 100})
	require.NoError(t, err)
	require.NotEmpty(t, got)
	for _, e := range got {
		require.False(t, strings.HasPrefix(e.Stream, "$") || strings.HasPrefix(e.Type, "$"), "%s in %s", e.Type, e.Stream)
	}
}
