package api_test

import (
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
