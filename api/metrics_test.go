package api_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/domain"
)

// scrape reads /metrics as who and returns each sample by its series
// ("name{label="value",...}", labels in the order the exposition gives).
func (h *harness) scrape(tb testing.TB, who string) map[string]float64 {
	tb.Helper()
	status, raw, hdr := h.do(tb, who, http.MethodGet, "/metrics", nil)
	require.Equal(tb, http.StatusOK, status, string(raw))
	require.Contains(tb, hdr.Get("Content-Type"), "text/plain")
	out := map[string]float64{}
	for _, line := range strings.Split(string(raw), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		require.Positive(tb, i, line)
		v, err := strconv.ParseFloat(line[i+1:], 64)
		require.NoError(tb, err, line)
		out[line[:i]] = v
	}
	return out
}

func TestMetrics_AccessIsAdminsAndAuditors(t *testing.T) {
	h := newHarness(t)
	h.problem(t, "", http.MethodGet, "/metrics", nil, http.StatusUnauthorized, domain.EUNAUTHORIZED)
	for _, who := range []string{"acme", "manager", "sales"} {
		h.problem(t, who, http.MethodGet, "/metrics", nil, http.StatusForbidden, domain.EFORBIDDEN)
	}
	h.scrape(t, "admin")
	h.scrape(t, "auditor")
}

func TestMetrics_CountWhatHappened(t *testing.T) {
	h := newHarness(t)
	before := h.scrape(t, "admin")
	r := h.register(t, "acme", "Clínica Santa Fe", "santafe.mx", http.StatusCreated)
	h.register(t, "globex", "Minera Peñoles Norte", "penolesnorte.mx", http.StatusCreated)
	h.mustDo(t, "acme", http.MethodGet, "/v1/registrations/"+r.ID.String(), nil, http.StatusOK, nil)
	h.do(t, "acme", http.MethodGet, "/v1/no/such/route", nil)

	m := h.scrape(t, "admin")
	// Requests by route template, never by raw path.
	require.Equal(t, 2.0, m[`dealreg_http_request_duration_seconds_count{method="POST",route="/v1/registrations",status="201"}`])
	require.Equal(t, 1.0, m[`dealreg_http_request_duration_seconds_count{method="GET",route="/v1/registrations/:id",status="200"}`])
	require.Equal(t, 1.0, m[`dealreg_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"}`])
	for series := range m {
		require.NotContains(t, series, r.ID.String(), "a raw path became a label")
	}
	// Every append is one group commit or shares one: two submissions and
	// their verdicts are at least four more events.
	require.GreaterOrEqual(t, m["dealreg_ledger_commit_events_sum"]-before["dealreg_ledger_commit_events_sum"], 4.0)
	require.Greater(t, m["dealreg_ledger_commit_duration_seconds_count"], before["dealreg_ledger_commit_duration_seconds_count"])
	require.Equal(t, m["dealreg_ledger_commit_duration_seconds_count"], m["dealreg_ledger_commit_requests_count"])

	// The program's state, read from the views at the scrape.
	require.Equal(t, 0.0, m["dealreg_projection_lag_events"])
	require.Equal(t, 0.0, m["dealreg_projection_lag_seconds"])
	require.Equal(t, 2.0, m[`dealreg_registrations{status="cleared"}`])
	require.Equal(t, 2.0, m["dealreg_review_queue_registrations"])
	require.Equal(t, 0.0, m["dealreg_review_sla_breaches"])

	// Past the review SLA (48 h in policy version 1) both are breaches.
	h.clock.Advance(49 * time.Hour)
	m = h.scrape(t, "auditor")
	require.Equal(t, 2.0, m["dealreg_review_sla_breaches"])
	require.Contains(t, m, "go_goroutines")
	require.Contains(t, m, "process_resident_memory_bytes")
}

// Every request is logged with its request ID, which the answer carries in
// X-Request-Id: one the client sent, or one the server made.
func TestRequestLog_CarriesTheRequestID(t *testing.T) {
	h := newHarness(t)
	var buf syncBuffer
	srv := httptest.NewServer(api.NewServer(api.Config{Store: h.store, App: h.app, Logger: slog.New(slog.NewJSONHandler(&buf, nil))}).Handler())
	defer srv.Close()
	get := func(id string) string {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/review-queue", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+h.tokens["manager"])
		if id != "" {
			req.Header.Set("X-Request-Id", id)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
		return res.Header.Get("X-Request-Id")
	}
	require.Equal(t, "trace-7", get("trace-7"))
	made := get("")
	require.NotEmpty(t, made)
	require.NotEqual(t, made, get(""))

	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var entry struct {
			Msg       string `json:"msg"`
			Path      string `json:"path"`
			Status    int    `json:"status"`
			RequestID string `json:"request_id"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &entry), line)
		if entry.Msg == "request" {
			require.Equal(t, "/v1/review-queue", entry.Path)
			require.Equal(t, http.StatusOK, entry.Status)
			ids = append(ids, entry.RequestID)
		}
	}
	require.Len(t, ids, 3)
	require.Equal(t, "trace-7", ids[0])
	require.Equal(t, made, ids[1])
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
