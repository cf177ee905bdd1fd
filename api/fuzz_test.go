package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/dealreg/dealreg/api"
	"github.com/stretchr/testify/require"
)

// FuzzLedgerQuery sends arbitrary query strings to the ledger endpoint: the
// answer is always JSON, a page or a 400 problem, never a server error.
func FuzzLedgerQuery(f *testing.F) {
	for _, q := range []string{"from=0&limit=10", "from=-1", "limit=99999999999999999999", "from=1e3", "limit=%00", "from=0&from=1", ""} {
		f.Add(q)
	}
	hs := newHarness(f)
	h := hs.srv.Config.Handler
	f.Fuzz(func(t *testing.T, query string) {
		req := httptest.NewRequest(http.MethodGet, "/v1/ledger/events", nil)
		req.Header.Set("Authorization", "Bearer "+hs.tokens["auditor"])
		req.URL.RawQuery = url.PathEscape(query)
		if q, err := url.ParseQuery(query); err == nil {
			req.URL.RawQuery = q.Encode()
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Contains(t, []int{http.StatusOK, http.StatusBadRequest}, rec.Code, rec.Body.String())
		var body map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
		if rec.Code == http.StatusOK {
			var page api.LedgerPage
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &page))
		} else {
			require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
		}
	})
}

// FuzzRegistrationBody posts arbitrary bodies as a partner: the answer is a
// created registration or a 4xx problem that appended nothing, never a
// server error.
func FuzzRegistrationBody(f *testing.F) {
	hs := newHarness(f)
	valid, err := json.Marshal(map[string]any{"type": "opportunity", "details": hs.details("Empresa XYZ", "xyz.example"), "submit": true})
	require.NoError(f, err)
	for _, s := range []string{string(valid), `{}`, `{"type":"named_account"}`, `{"type":"opportunity","details":{"account":{"company_name":"\u0000"}}}`,
		`{"details":{"opportunity":{"estimated_value":{"amount":"-1","currency":"usd"}}}}`, `{"type":"opportunity","submit":true,"details":null}`, `[`, `"x"`} {
		f.Add([]byte(s))
	}
	handler := hs.srv.Config.Handler
	f.Fuzz(func(t *testing.T, body []byte) {
		head := hs.eventCount()
		req := httptest.NewRequest(http.MethodPost, "/v1/registrations", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+hs.tokens["acme"])
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		switch {
		case rec.Code == http.StatusCreated:
			require.Greater(t, hs.eventCount(), head)
		case rec.Code >= 400 && rec.Code < 500:
			require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
			var p api.Problem
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
			require.NotEmpty(t, p.Code)
			require.Equal(t, head, hs.eventCount(), "a refused request appends nothing")
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
	})
}
