package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

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
// server error. A body is accepted only if its text decodes faithfully:
// valid UTF-8, no lone surrogate escapes (a U+FFFD in the decoded value
// must be in the text), no name twice in one object.
func FuzzRegistrationBody(f *testing.F) {
	hs := newHarness(f)
	valid, err := json.Marshal(map[string]any{"type": "opportunity", "details": hs.details("Empresa XYZ", "xyz.example"), "submit": true})
	require.NoError(f, err)
	for _, s := range []string{string(valid), `{}`, `{"type":"named_account"}`, `{"type":"opportunity","details":{"account":{"company_name":"\u0000"}}}`,
		`{"details":{"opportunity":{"estimated_value":{"amount":"-1","currency":"usd"}}}}`, `{"type":"opportunity","submit":true,"details":null}`, `[`, `"x"`,
		"{\"type\":\"opportunity\",\"details\":{\"account\":{\"company_name\":\"\xff\xfe\"}}}",
		`{"type":"opportunity","details":{"account":{"company_name":"\ud800"}}}`, `{"type":"opportunity","details":{"account":{"company_name":"\ud83d\ude00"}}}`,
		`{"type":"opportunity","type":"named_account"}`, `{"type":"opportunity","Type":"named_account"}`} {
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
			require.True(t, utf8.Valid(body), "accepted a body that is not UTF-8")
			require.False(t, inventsReplacement(body), "accepted a body whose decoded strings hold a U+FFFD the text does not")
			require.False(t, namesTwice(body), "accepted a body naming a member twice")
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

// inventsReplacement reports whether decoding body yields a U+FFFD that
// its text does not hold, literally or as an escape: what encoding/json
// puts in place of invalid UTF-8 and lone surrogates.
func inventsReplacement(body []byte) bool {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return false
	}
	decoded, _ := json.Marshal(v)
	text := strings.ToLower(string(body))
	return strings.Contains(string(decoded), "\ufffd") && !strings.Contains(text, "\ufffd") && !strings.Contains(text, "\uFFFD") && !strings.ContainsRune(string(body), utf8.RuneError)
}

// namesTwice reports whether an object in body names a member twice, case
// aside (encoding/json matches names to fields without regard to case).
func namesTwice(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		object bool
		names  []string
		isName bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if name, ok := tok.(string); ok && top != nil && top.object && top.isName {
			for _, n := range top.names {
				if strings.EqualFold(n, name) {
					return true
				}
			}
			top.names = append(top.names, name)
			top.isName = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, isName: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) == 0 {
			return false
		}
		stack[len(stack)-1].isName = stack[len(stack)-1].object
	}
}
