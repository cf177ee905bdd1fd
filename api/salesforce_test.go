package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/projections"
)

// fakeSalesforce is an httptest server that answers as Salesforce's REST
// API documents: the OAuth 2.0 client-credentials token endpoint, the
// upsert by external ID (201 created with a result body, 204 updated),
// the composite sObject collections upsert (200 with one result per
// record), and its errors: 401 INVALID_SESSION_ID for a token it no longer
// honours, 400 REQUIRED_FIELD_MISSING when a new record lacks Name,
// StageName or CloseDate, and whatever failures a test queues (503 with
// Retry-After, 403 REQUEST_LIMIT_EXCEEDED, 429).
type fakeSalesforce struct {
	srv       *httptest.Server
	mu        sync.Mutex
	token     string
	tokens    int // tokens issued
	records   map[string]map[string]any
	singles   int // single upserts answered 2xx
	composite int // composite upserts answered 2xx
	failures  []fakeFailure
	refused   []int // status codes of failed calls, in order
}

type fakeFailure struct {
	status     int
	retryAfter string
	body       string
}

const (
	sfClientID     = "3MVG9dealregConnectedApp"
	sfClientSecret = "C0nsumerS3cret"
)

func newFakeSalesforce(tb testing.TB) *fakeSalesforce {
	f := &fakeSalesforce{token: "00Dxx0000001gPL!tok1", records: map[string]map[string]any{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /services/oauth2/token", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.ParseForm() != nil ||
			r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("client_id") != sfClientID ||
			r.PostForm.Get("client_secret") != sfClientSecret {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":"invalid_client","error_description":"invalid client credentials"}`)
			return
		}
		f.tokens++
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"access_token": f.token, "instance_url": f.srv.URL,
			"id": "https://login.salesforce.com/id/00Dxx0000001gPL/005xx000001X8Uz", "token_type": "Bearer",
			"issued_at": "1733220000000", "signature": "c2lnbmF0dXJl", "scope": "api"})
	})
	mux.HandleFunc("PATCH /services/data/v62.0/sobjects/Opportunity/Dealreg_Id__c/{id}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if !f.admit(w, r) {
			return
		}
		var rec map[string]any
		if json.NewDecoder(r.Body).Decode(&rec) != nil {
			f.fail(w, http.StatusBadRequest, `[{"message":"The request body is malformed","errorCode":"JSON_PARSER_ERROR"}]`)
			return
		}
		id := r.PathValue("id")
		if _, ok := rec["Dealreg_Id__c"]; ok {
			f.fail(w, http.StatusBadRequest, `[{"message":"The external ID field is in the URL","errorCode":"INVALID_FIELD"}]`)
			return
		}
		created, errBody := f.upsert(id, rec)
		if errBody != "" {
			f.fail(w, http.StatusBadRequest, "["+errBody+"]")
			return
		}
		f.singles++
		if !created {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = fmt.Fprintf(w, `{"id":"006xx%s","success":true,"errors":[],"created":true}`, id[:8])
	})
	mux.HandleFunc("PATCH /services/data/v62.0/composite/sobjects/Opportunity/Dealreg_Id__c", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if !f.admit(w, r) {
			return
		}
		var body struct {
			AllOrNone bool             `json:"allOrNone"`
			Records   []map[string]any `json:"records"`
		}
		if json.NewDecoder(r.Body).Decode(&body) != nil || len(body.Records) == 0 || len(body.Records) > 200 {
			f.fail(w, http.StatusBadRequest, `[{"message":"The request body is malformed","errorCode":"JSON_PARSER_ERROR"}]`)
			return
		}
		var results []string
		for _, rec := range body.Records {
			attrs, _ := rec["attributes"].(map[string]any)
			id, _ := rec["Dealreg_Id__c"].(string)
			if attrs["type"] != "Opportunity" || id == "" {
				f.fail(w, http.StatusBadRequest, `[{"message":"Each record needs attributes.type and the external ID","errorCode":"INVALID_INPUT"}]`)
				return
			}
			delete(rec, "attributes")
			delete(rec, "Dealreg_Id__c")
			created, errBody := f.upsert(id, rec)
			if errBody != "" {
				results = append(results, `{"success":false,"errors":[`+errBody+`]}`)
				continue
			}
			results = append(results, fmt.Sprintf(`{"id":"006xx%s","success":true,"errors":[],"created":%t}`, id[:8], created))
		}
		f.composite++
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "["+strings.Join(results, ",")+"]")
	})
	f.srv = httptest.NewServer(mux)
	tb.Cleanup(f.srv.Close)
	return f
}

// admit answers a queued failure, or 401 INVALID_SESSION_ID to a token it
// does not honour; it reports whether the request may go on.
func (f *fakeSalesforce) admit(w http.ResponseWriter, r *http.Request) bool {
	if len(f.failures) > 0 {
		x := f.failures[0]
		f.failures = f.failures[1:]
		if x.retryAfter != "" {
			w.Header().Set("Retry-After", x.retryAfter)
		}
		f.fail(w, x.status, x.body)
		return false
	}
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		f.fail(w, http.StatusUnauthorized, `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`)
		return false
	}
	return true
}

func (f *fakeSalesforce) fail(w http.ResponseWriter, status int, body string) {
	f.refused = append(f.refused, status)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// upsert creates or updates record id; a new one must carry the
// Opportunity's required fields.
func (f *fakeSalesforce) upsert(id string, rec map[string]any) (bool, string) {
	cur, ok := f.records[id]
	if !ok {
		for _, req := range []string{"Name", "StageName", "CloseDate"} {
			if _, has := rec[req]; !has {
				return false, fmt.Sprintf(`{"message":"Required fields are missing: [%s]","errorCode":"REQUIRED_FIELD_MISSING","fields":["%s"]}`, req, req)
			}
		}
		cur = map[string]any{}
		f.records[id] = cur
	}
	for k, v := range rec {
		cur[k] = v
	}
	return !ok, ""
}

func (f *fakeSalesforce) record(id string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]any{}
	for k, v := range f.records[id] {
		out[k] = v
	}
	return out
}

func (f *fakeSalesforce) queue(x ...fakeFailure) {
	f.mu.Lock()
	f.failures = append(f.failures, x...)
	f.mu.Unlock()
}

func (f *fakeSalesforce) stats() (tokens, singles, composite int, refused []int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokens, f.singles, f.composite, append([]int(nil), f.refused...)
}

// The Salesforce connector, a delivery target kind of the outbox: an
// approval creates the opportunity (201) with the mapped fields, a close
// updates it (204) after the expired token is refreshed, several due
// deliveries go as one composite request, and 503 / REQUEST_LIMIT_EXCEEDED
// / 429 are retried no earlier than they ask.
func TestSalesforceConnector(t *testing.T) {
	h := newOutboxHarness(t)
	sf := newFakeSalesforce(t)
	var sub app.WebhookView
	h.mustDo(t, "admin", http.MethodPost, "/v1/webhooks", map[string]any{"kind": "salesforce", "url": sf.srv.URL,
		"salesforce": map[string]any{"client_id": sfClientID, "client_secret": sfClientSecret, "batch_size": 10}}, http.StatusCreated, &sub)
	require.Equal(t, "salesforce", sub.Kind)
	require.Empty(t, sub.Secret)
	require.Equal(t, app.DefaultSalesforceEvents, sub.EventTypes)
	raw := h.mustDo(t, "admin", http.MethodGet, "/v1/webhooks/"+sub.ID, nil, http.StatusOK, nil)
	require.NotContains(t, string(raw), sfClientSecret)

	// Approval: created, with the mapped fields.
	a := h.approve(t, "Hospital Central", "hospitalcentral.mx")
	require.Equal(t, 1, h.deliver(t))
	rec := sf.record(a.ID.String())
	require.Equal(t, "Hospital Central (Acme Integradores)", rec["Name"])
	require.Equal(t, "Qualification", rec["StageName"])
	require.Equal(t, 150000.0, rec["Amount"])
	require.Equal(t, "acme", rec["Dealreg_Partner_Id__c"])
	require.Equal(t, "active", rec["Dealreg_Status__c"])
	require.Equal(t, a.ProtectionEnd.UTC().Format(time.DateOnly), rec["Dealreg_Protection_End__c"])
	require.Equal(t, h.clock.Now().Add(60*24*time.Hour).Format(time.DateOnly), rec["CloseDate"])
	require.True(t, strings.HasPrefix(rec[app.DefaultEchoField].(string), "msg_"))
	tokens, singles, _, _ := sf.stats()
	require.Equal(t, 1, tokens)
	require.Equal(t, 1, singles)

	// The token expires: 401 INVALID_SESSION_ID, a new token, the same
	// attempt goes through (updated, 204).
	sf.mu.Lock()
	sf.token = "00Dxx0000001gPL!tok2"
	sf.mu.Unlock()
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations/"+a.ID.String()+"/close", map[string]any{"outcome": "won"}, http.StatusOK, nil)
	require.Equal(t, 1, h.deliver(t))
	require.Equal(t, "Closed Won", sf.record(a.ID.String())["StageName"])
	require.Equal(t, "closed_won", sf.record(a.ID.String())["Dealreg_Status__c"])
	tokens, singles, _, refused := sf.stats()
	require.Equal(t, 2, tokens)
	require.Equal(t, 2, singles)
	require.Equal(t, []int{http.StatusUnauthorized}, refused)
	ds := h.webhookDeliveries(t, sub.ID, "?status=delivered")
	require.Len(t, ds, 2)
	require.Equal(t, 1, ds[1].Attempts)
	require.Equal(t, http.StatusNoContent, ds[1].LastStatus)

	// 503 with Retry-After: nothing is sent again before it; then the
	// two due approvals go in one composite request.
	b := h.approve(t, "Clínica del Norte", "clinicadelnorte.mx")
	c := h.approve(t, "Laboratorios Sur", "laboratoriossur.mx")
	sf.queue(fakeFailure{status: http.StatusServiceUnavailable, retryAfter: "600",
		body: `[{"message":"Service unavailable","errorCode":"SERVER_UNAVAILABLE"}]`})
	require.Equal(t, 0, h.deliver(t))
	pending := h.webhookDeliveries(t, sub.ID, "?status=pending")
	require.Len(t, pending, 2)
	require.False(t, pending[0].NextAt.Before(h.clock.Now().Add(600*time.Second)), "Retry-After honoured")
	h.clock.Advance(300 * time.Second)
	require.Equal(t, 0, h.deliver(t), "not before Retry-After")
	h.clock.Advance(301 * time.Second)
	require.Equal(t, 2, h.deliver(t))
	_, _, composite, _ := sf.stats()
	require.Equal(t, 1, composite)
	require.Equal(t, "Clínica del Norte (Acme Integradores)", sf.record(b.ID.String())["Name"])
	require.Equal(t, "Laboratorios Sur (Acme Integradores)", sf.record(c.ID.String())["Name"])

	// REQUEST_LIMIT_EXCEEDED (403) waits at least 15 minutes; 429 its
	// Retry-After.
	d := h.approve(t, "Farmacias Unidas", "farmaciasunidas.mx")
	sf.queue(fakeFailure{status: http.StatusForbidden, body: `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`},
		fakeFailure{status: http.StatusTooManyRequests, retryAfter: "120", body: `[{"message":"Too many requests","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`})
	require.Equal(t, 0, h.deliver(t))
	h.clock.Advance(14 * time.Minute)
	require.Equal(t, 0, h.deliver(t), "the API limit is waited out")
	h.clock.Advance(time.Minute + time.Second)
	require.Equal(t, 0, h.deliver(t)) // the 429
	h.clock.Advance(15*time.Minute + time.Second)
	require.Equal(t, 1, h.deliver(t))
	require.Equal(t, "Qualification", sf.record(d.ID.String())["StageName"])
	log := h.webhookDeliveries(t, sub.ID, "?status=delivered")
	last := log[len(log)-1]
	require.Equal(t, 3, last.Attempts)
	require.Equal(t, projections.DeliveryDelivered, last.Status)
	require.Contains(t, last.Log[0].Error, "REQUEST_LIMIT_EXCEEDED")
	require.Equal(t, http.StatusTooManyRequests, last.Log[1].StatusCode)
}

// Bad settings are refused with field errors, and a wrong client secret
// is a failed delivery the log explains, retried later.
func TestSalesforceConnector_Refusals(t *testing.T) {
	h := newOutboxHarness(t)
	sf := newFakeSalesforce(t)
	p := h.problem(t, "admin", http.MethodPost, "/v1/webhooks", map[string]any{"kind": "salesforce", "url": sf.srv.URL,
		"salesforce": map[string]any{"client_id": sfClientID, "client_secret": "x", "fields": map[string]string{"Amount": "price"}, "batch_size": 500}},
		http.StatusBadRequest, "invalid")
	var fields []string
	for _, e := range p.Errors {
		fields = append(fields, e.Field)
	}
	require.ElementsMatch(t, []string{"salesforce.fields.Amount", "salesforce.batch_size"}, fields)
	h.problem(t, "admin", http.MethodPost, "/v1/webhooks", map[string]any{"kind": "salesforce", "url": sf.srv.URL, "partner_id": "acme",
		"salesforce": map[string]any{"client_id": sfClientID, "client_secret": "x"}}, http.StatusBadRequest, "invalid")
	h.problem(t, "admin", http.MethodPost, "/v1/webhooks", map[string]any{"kind": "ftp", "url": sf.srv.URL, "event_types": []string{"*"}},
		http.StatusBadRequest, "invalid")

	var sub app.WebhookView
	h.mustDo(t, "admin", http.MethodPost, "/v1/webhooks", map[string]any{"kind": "salesforce", "url": sf.srv.URL,
		"salesforce": map[string]any{"client_id": sfClientID, "client_secret": "wrong"}}, http.StatusCreated, &sub)
	h.approve(t, "Hospital Central", "hospitalcentral.mx")
	require.Equal(t, 0, h.deliver(t))
	pending := h.webhookDeliveries(t, sub.ID, "?status=pending")
	require.Len(t, pending, 1)
	require.Contains(t, pending[0].LastError, "invalid_client")
	require.Equal(t, http.StatusBadRequest, pending[0].LastStatus)
}
