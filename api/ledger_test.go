package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// MustOpenServer serves the API over real HTTP on a new ledger.
func MustOpenServer(tb testing.TB) (*httptest.Server, *eventstore.SQLite) {
	tb.Helper()
	store, err := eventstore.OpenSQLite(filepath.Join(tb.TempDir(), "ledger.db"), eventstore.Options{})
	require.NoError(tb, err)
	tb.Cleanup(func() { store.Close() })
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(api.NewServer(api.Config{Store: store, Logger: logger}).Handler())
	tb.Cleanup(srv.Close)
	return srv, store
}

func getJSON(t *testing.T, url string, into any) *http.Response {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(body, into), "body: %s", body)
	return res
}

func TestLedgerEvents(t *testing.T) {
	srv, store := MustOpenServer(t)
	ctx := context.Background()
	for i := range 250 {
		_, err := store.Append(ctx, fmt.Sprintf("registration-%d", i%3), domain.Any(), domain.EventData{
			ID: uuid.New(), Type: "RegistrationSubmitted", SchemaVersion: 1,
			Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)),
		})
		require.NoError(t, err)
	}

	var seen []uint64
	from := uint64(0)
	for range 4 {
		var page api.LedgerPage
		res := getJSON(t, fmt.Sprintf("%s/v1/ledger/events?from=%d&limit=100", srv.URL, from), &page)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, "application/json", res.Header.Get("Content-Type")[:16])
		for _, e := range page.Events {
			seen = append(seen, e.Position)
			require.NotEqual(t, uuid.Nil, e.ID)
			require.False(t, e.RecordedAt.IsZero())
		}
		if len(page.Events) == 0 {
			require.Equal(t, from, page.Next, "an empty page tells the client to ask again from the same place")
		}
		from = page.Next
	}
	require.Len(t, seen, 250)
	for i, p := range seen {
		require.Equal(t, uint64(i), p)
	}

	var page api.LedgerPage
	getJSON(t, srv.URL+"/v1/ledger/events", &page)
	require.Len(t, page.Events, api.DefaultLedgerPage)
	require.JSONEq(t, `{"n":0}`, string(page.Events[0].Data))
}

func TestLedgerEvents_Invalid(t *testing.T) {
	srv, _ := MustOpenServer(t)
	for _, tc := range []struct {
		query  string
		fields []string
	}{
		{"from=-1", []string{"from"}},
		{"from=abc&limit=0", []string{"from", "limit"}},
		{"limit=1001", []string{"limit"}},
		{"limit=1e3", []string{"limit"}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			var p api.Problem
			res := getJSON(t, srv.URL+"/v1/ledger/events?"+tc.query, &p)
			require.Equal(t, http.StatusBadRequest, res.StatusCode)
			require.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
			require.Equal(t, domain.EINVALID, p.Code)
			require.Equal(t, 400, p.Status)
			var fields []string
			for _, f := range p.Errors {
				fields = append(fields, f.Field)
				require.NotEmpty(t, f.Message)
			}
			require.Equal(t, tc.fields, fields)
		})
	}
}

func TestProblems(t *testing.T) {
	srv, store := MustOpenServer(t)
	var p api.Problem
	res := getJSON(t, srv.URL+"/v1/no-such-thing", &p)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	require.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
	require.Equal(t, domain.ENOTFOUND, p.Code)

	req, err := http.NewRequest(http.MethodDelete, srv.URL+"/v1/ledger/events", nil)
	require.NoError(t, err)
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)

	var health map[string]string
	res = getJSON(t, srv.URL+"/healthz", &health)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "ok", health["status"])

	require.NoError(t, store.Close())
	res = getJSON(t, srv.URL+"/healthz", &p)
	require.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	require.Equal(t, domain.EUNAVAILABLE, p.Code)
}
