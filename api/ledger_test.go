package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/domain"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// getJSON GETs path as the auditor and decodes the answer.
func (h *harness) getJSON(t *testing.T, path string, into any) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.srv.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+h.tokens["auditor"])
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(body, into), "body: %s", body)
	return res
}

func TestLedgerEvents(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	base := h.eventCount() // the harness's own partners and tokens
	for i := range 250 {
		_, err := h.store.Append(ctx, fmt.Sprintf("ledgertest-%d", i%3), domain.Any(), domain.EventData{
			ID: uuid.New(), Type: "RegistrationSubmitted", SchemaVersion: 1,
			Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)),
		})
		require.NoError(t, err)
	}

	var seen []uint64
	from := uint64(0)
	for range 4 {
		var page api.LedgerPage
		res := h.getJSON(t, fmt.Sprintf("/v1/ledger/events?from=%d&limit=100", from), &page)
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
	require.Len(t, seen, 250+int(base))
	for i, p := range seen {
		require.Equal(t, uint64(i), p)
	}

	var page api.LedgerPage
	h.getJSON(t, fmt.Sprintf("/v1/ledger/events?from=%d", base), &page)
	require.Len(t, page.Events, api.DefaultLedgerPage)
	require.JSONEq(t, `{"n":0}`, string(page.Events[0].Data))
}

func TestLedgerEvents_Invalid(t *testing.T) {
	h := newHarness(t)
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
			res := h.getJSON(t, "/v1/ledger/events?"+tc.query, &p)
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
	h := newHarness(t)
	srv, store := h.srv, h.store
	var p api.Problem
	res := h.getJSON(t, "/v1/no-such-thing", &p)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	require.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
	require.Equal(t, domain.ENOTFOUND, p.Code)

	req, err := http.NewRequest(http.MethodDelete, srv.URL+"/v1/ledger/events", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+h.tokens["auditor"])
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)

	var health map[string]string
	res = h.getJSON(t, "/healthz", &health)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "ok", health["status"])

	require.NoError(t, store.Close())
	res = h.getJSON(t, "/healthz", &p)
	require.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	require.Equal(t, domain.EUNAVAILABLE, p.Code)
}
