package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
	"github.com/dealreg/dealreg/eventstore/attachments"
)

// t0 is when every harness ledger starts: the clock the store and the
// service share begins here and moves only when a test moves it.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// harnessQuota is the total size of the documents one harness
// registration may carry: three of the largest documents (1 MiB).
const harnessQuota = 3 << 20

// harness is a real server on a real ledger file, over real HTTP.
type harness struct {
	srv    *httptest.Server
	store  *eventstore.SQLite
	app    *app.Service
	clock  *domain.ManualClock
	tokens map[string]string // by name: admin, manager, director, auditor, sales, acme, globex
	docs   string            // the attachment store's directory
}

// adminCall is the console's identity, used to bootstrap the first token.
var adminCall = app.Call{Caller: app.Caller{Actor: domain.Actor{ID: "cli:test", Role: domain.RoleAdmin}, Name: "test"}}

func newHarness(tb testing.TB) *harness {
	tb.Helper()
	clock := domain.NewManualClock(t0)
	dir := tb.TempDir()
	metrics := api.NewMetrics()
	signer, verifierKey := harnessKey(tb)
	if harnessUnsigned {
		signer, verifierKey = nil, ""
	}
	store, err := eventstore.OpenSQLite(filepath.Join(dir, "ledger.db"), eventstore.Options{Clock: clock, OnCommit: metrics.ObserveCommit, Signer: signer})
	require.NoError(tb, err)
	tb.Cleanup(func() { store.Close() })
	var logOut io.Writer = io.Discard
	if os.Getenv("DEALREG_TEST_LOG") != "" {
		logOut = os.Stderr
	}
	logger := slog.New(slog.NewTextHandler(logOut, nil))
	svc := app.New(app.Config{Store: store, Clock: clock, Logger: logger})
	require.NoError(tb, svc.Start(context.Background(), false))
	tb.Cleanup(svc.Stop)
	docs, err := attachments.Open(filepath.Join(dir, "attachments"), attachments.Options{MaxSize: 1 << 20, RegistrationQuota: harnessQuota})
	require.NoError(tb, err)
	srv := httptest.NewServer(api.NewServer(api.Config{Store: store, App: svc, Attachments: docs, Logger: logger, Metrics: metrics, VerifierKey: verifierKey}).Handler())
	tb.Cleanup(srv.Close)
	h := &harness{srv: srv, store: store, app: svc, clock: clock, tokens: map[string]string{}, docs: filepath.Join(dir, "attachments")}

	ctx := context.Background()
	admin, err := svc.CreateToken(ctx, adminCall, "admin", domain.RoleAdmin, "")
	require.NoError(tb, err)
	h.tokens["admin"] = admin.Secret
	for _, p := range []domain.Partner{
		{ID: "acme", Name: "Acme Integradores", Tier: domain.TierGold, Regions: []string{"Northeast"}},
		{ID: "globex", Name: "Globex Partners", Tier: domain.TierSilver},
	} {
		h.mustDo(tb, "admin", http.MethodPost, "/v1/partners", p, http.StatusCreated, nil)
	}
	for name, req := range map[string]map[string]string{
		"manager":   {"role": "channel_manager"},
		"director":  {"role": "channel_director"},
		"executive": {"role": "executive"},
		"auditor":   {"role": "auditor"},
		"sales":     {"role": "direct_sales"},
		"acme":      {"role": "partner", "partner_id": "acme"},
		"globex":    {"role": "partner", "partner_id": "globex"},
	} {
		req["name"] = name
		var tok struct {
			Token string `json:"token"`
		}
		h.mustDo(tb, "admin", http.MethodPost, "/v1/tokens", req, http.StatusCreated, &tok)
		h.tokens[name] = tok.Token
	}
	return h
}

// do sends a request as the token named who ("" for none) and returns the
// status and the body. body is sent as JSON unless it is a []byte.
func (h *harness) do(tb testing.TB, who, method, path string, body any, header ...string) (int, []byte, http.Header) {
	tb.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(tb, err)
		r = bytes.NewReader(raw)
	}
	var sent []byte
	if r != nil {
		sent, _ = io.ReadAll(r)
		r = bytes.NewReader(sent)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, r)
	require.NoError(tb, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+h.tokens[who])
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(tb, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(tb, err)
	if checkExchange != nil {
		checkExchange(tb, req, sent, res, raw)
	}
	requireHumanDurations(tb, req, res, raw)
	return res.StatusCode, raw, res.Header
}

// requireHumanDurations fails if a JSON answer names a member "…_ns": the
// API shows durations in ISO 8601, never as nanoseconds. The raw ledger
// (GET /v1/ledger/events) is exempt: it serves the stored events as they
// are, byte for byte, for auditors to check against their proofs.
func requireHumanDurations(tb testing.TB, req *http.Request, res *http.Response, raw []byte) {
	tb.Helper()
	if req.URL.Path == "/v1/ledger/events" || !strings.Contains(res.Header.Get("Content-Type"), "json") {
		return
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if strings.HasSuffix(k, "_ns") {
					tb.Errorf("%s %s: the answer names %s%s, a duration in nanoseconds", req.Method, req.URL.Path, path, k)
				}
				walk(path+k+".", x)
			}
		case []any:
			for _, x := range v {
				walk(path, x)
			}
		}
	}
	walk("", v)
}

// checkExchange, when set (see openapi_test.go), checks every request the
// harness sends and every response it gets against the OpenAPI document.
var checkExchange func(tb testing.TB, req *http.Request, reqBody []byte, res *http.Response, resBody []byte)

// mustDo is do that requires status and decodes the body into out.
func (h *harness) mustDo(tb testing.TB, who, method, path string, body any, status int, out any, header ...string) []byte {
	tb.Helper()
	got, raw, _ := h.do(tb, who, method, path, body, header...)
	require.Equal(tb, status, got, "%s %s: %s", method, path, raw)
	if out != nil {
		require.NoError(tb, json.Unmarshal(raw, out), "%s", raw)
	}
	return raw
}

// problem decodes a problem+json answer and checks its status and code.
func (h *harness) problem(tb testing.TB, who, method, path string, body any, status int, code string, header ...string) api.Problem {
	tb.Helper()
	got, raw, hdr := h.do(tb, who, method, path, body, header...)
	require.Equal(tb, status, got, "%s %s: %s", method, path, raw)
	require.Equal(tb, "application/problem+json", hdr.Get("Content-Type"))
	var p api.Problem
	require.NoError(tb, json.Unmarshal(raw, &p))
	require.Equal(tb, code, p.Code, "%s", raw)
	return p
}

// details returns the details of an opportunity at company/domain that
// pass submission at the harness clock.
func (h *harness) details(company, domainName string) map[string]any {
	now := h.clock.Now()
	return map[string]any{
		"account": map[string]any{
			"company_name": company, "domain": domainName, "country": "MX",
			"region": "Northeast", "industry": "Healthcare", "employee_band": "501-1000",
		},
		"opportunity": map[string]any{
			"product_lines":       []string{"HR Management"},
			"estimated_value":     map[string]any{"amount": "150000.00", "currency": "USD"},
			"expected_close_date": now.Add(60 * domain.Day).Format(time.RFC3339),
			"buying_stage":        "evaluation",
		},
		"relationship": map[string]any{
			"how_found":          "referral",
			"first_contact_date": now.Add(-10 * domain.Day).Format(time.RFC3339),
			"activities":         []map[string]any{{"kind": "discovery_call", "date": now.Add(-5 * domain.Day).Format(time.RFC3339)}},
			"next_steps":         "Demo with the CFO",
		},
		"personal": map[string]any{"decision_makers": []map[string]any{{"name": "Ana Pérez", "title": "CFO"}}},
	}
}

// eventCount returns how many events the ledger holds.
func (h *harness) eventCount() uint64 { return h.store.Head() }

func jsonUnmarshal(raw []byte, v any) error { return json.Unmarshal(raw, v) }
