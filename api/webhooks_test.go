package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
	"github.com/dealreg/dealreg/projections"
)

// outboxKey seals the harness's webhook secrets, the same across restarts.
var outboxKey = []byte("0123456789abcdef0123456789abcdef")

// newOutboxHarness is newHarness with a durable state database and an
// outbox that may call loopback receivers and that sends only when the
// test calls DeliverDue.
func newOutboxHarness(tb testing.TB, smtpAddr ...string) *harness {
	tb.Helper()
	h := &harness{clock: domain.NewManualClock(t0), tokens: map[string]string{}}
	if len(smtpAddr) > 0 {
		smtpAddrs.Store(h, smtpAddr[0])
	}
	dir := tb.TempDir()
	store, err := eventstore.OpenSQLite(filepath.Join(dir, "ledger.db"), eventstore.Options{Clock: h.clock})
	require.NoError(tb, err)
	tb.Cleanup(func() { store.Close() })
	h.store = store
	statePaths.Store(h, filepath.Join(dir, "views.db"))
	h.startOutboxApp(tb, h.statePath(tb))
	admin, err := h.app.CreateToken(context.Background(), adminCall, "admin", domain.RoleAdmin, "")
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
		"executive": {"role": "executive"},
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

func (h *harness) startOutboxApp(tb testing.TB, statePath string) {
	tb.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := app.OutboxConfig{SecretKey: outboxKey, AllowPrivateTargets: true, Manual: true}
	if a, ok := smtpAddrs.Load(h); ok {
		cfg.SMTP = app.SMTPConfig{Addr: a.(string), From: "dealreg@vendor.example"}
	}
	svc := app.New(app.Config{Store: h.store, Clock: h.clock, Logger: logger, StatePath: statePath, Outbox: cfg,
		CRM: app.CRMConfig{InboundSecret: crmSecret}})
	require.NoError(tb, svc.Start(context.Background(), false))
	srv := httptest.NewServer(api.NewServer(api.Config{Store: h.store, App: svc, Logger: logger}).Handler())
	h.app, h.srv = svc, srv
	tb.Cleanup(func() { srv.Close(); svc.Stop() })
}

// statePaths holds each outbox harness's state database, smtpAddrs the
// SMTP sink it sends mail to.
var statePaths, smtpAddrs sync.Map

func (h *harness) statePath(tb testing.TB) string {
	p, ok := statePaths.Load(h)
	require.True(tb, ok)
	return p.(string)
}

// restartOutbox stops the service and starts another on the same ledger
// and state database, as a restarted server would.
func (h *harness) restartOutbox(tb testing.TB, statePath string) {
	tb.Helper()
	h.srv.Close()
	h.app.Stop()
	h.startOutboxApp(tb, statePath)
}

// deliver runs the dispatcher until nothing more is due, moving the clock
// past each retry; it returns how many were delivered.
func (h *harness) deliver(tb testing.TB) int {
	tb.Helper()
	n, err := h.app.DeliverDue(context.Background())
	require.NoError(tb, err)
	return n
}

// received is one request a receiver accepted.
type received struct {
	ID       string
	Type     string
	Stream   string
	Position uint64
	Body     string
}

// receiver is a webhook endpoint on loopback that verifies every
// signature with the Standard Webhooks library and answers status while
// it is set (200 otherwise).
type receiver struct {
	srv      *httptest.Server
	mu       sync.Mutex
	secret   string
	status   int
	header   http.Header
	got      []received
	attempts int
	badSigs  int
}

func newReceiver(tb testing.TB) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.attempts++
		if r.status != 0 {
			for k, v := range r.header {
				w.Header()[k] = v
			}
			w.WriteHeader(r.status)
			return
		}
		wh, err := standardwebhooks.NewWebhook(r.secret)
		if err != nil || wh.VerifyIgnoringTimestamp(body, req.Header) != nil {
			r.badSigs++
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var p struct {
			Type string `json:"type"`
			Data struct {
				Stream   string `json:"stream"`
				Position uint64 `json:"position"`
			} `json:"data"`
		}
		if json.Unmarshal(body, &p) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.got = append(r.got, received{ID: req.Header.Get("webhook-id"), Type: p.Type, Stream: p.Data.Stream, Position: p.Data.Position, Body: string(body)})
		w.WriteHeader(http.StatusNoContent)
	}))
	tb.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) set(status int, header ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status, r.header = status, http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		r.header.Set(header[i], header[i+1])
	}
}

func (r *receiver) deliveries() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func (h *harness) subscribe(tb testing.TB, r *receiver, body map[string]any) app.WebhookView {
	tb.Helper()
	if body["url"] == nil {
		body["url"] = r.srv.URL + "/hooks"
	}
	var v app.WebhookView
	h.mustDo(tb, "admin", http.MethodPost, "/v1/webhooks", body, http.StatusCreated, &v)
	require.True(tb, strings.HasPrefix(v.Secret, "whsec_"), v.Secret)
	r.mu.Lock()
	r.secret = v.Secret
	r.mu.Unlock()
	return v
}

// deliverable returns the events of the ledger from position from on that
// an admin subscription to every type receives, in ledger order.
func (h *harness) deliverable(tb testing.TB, from uint64) []domain.RecordedEvent {
	tb.Helper()
	all, err := h.store.ReadAll(context.Background(), domain.ReadAllOptions{From: from})
	require.NoError(tb, err)
	var out []domain.RecordedEvent
	for _, e := range all {
		if e.Stream != domain.WebhooksStream && domain.Deliverable(e.Type) {
			out = append(out, e)
		}
	}
	return out
}

func (h *harness) webhookDeliveries(tb testing.TB, id, query string) []app.WebhookDelivery {
	tb.Helper()
	var out struct {
		Items []app.WebhookDelivery `json:"items"`
	}
	h.mustDo(tb, "admin", http.MethodGet, "/v1/webhooks/"+id+"/deliveries"+query, nil, http.StatusOK, &out)
	return out.Items
}

// The spec's published test vector: the signature dealreg sends is the
// one Standard Webhooks defines.
func TestSignWebhook_StandardVector(t *testing.T) {
	sig, err := app.SignWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	require.NoError(t, err)
	require.Equal(t, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", sig)
}

func TestRetryDelay_BackoffWithJitter(t *testing.T) {
	prev := time.Duration(0)
	for n := 1; n <= 12; n++ {
		d := app.RetryDelay("msg_x", n)
		ceiling := min(5*time.Second<<(n-1), time.Hour)
		require.GreaterOrEqual(t, d, ceiling/2, "attempt %d", n)
		require.LessOrEqual(t, d, ceiling, "attempt %d", n)
		require.Equal(t, d, app.RetryDelay("msg_x", n), "the same delivery and attempt wait the same")
		if ceiling < time.Hour {
			require.Greater(t, d, prev/2)
		}
		prev = d
	}
	require.NotEqual(t, app.RetryDelay("msg_a", 3), app.RetryDelay("msg_b", 3), "deliveries failing together spread out")
}

// A receiver that is down for several attempts gets every event once it
// recovers, in ledger order (so in order per registration), each signed
// so that the spec's library verifies it, each with its stable ID; the
// waits honour Retry-After; the log shows every attempt.
func TestWebhooks_ReceiverDownThenRecovers(t *testing.T) {
	h := newOutboxHarness(t)
	r := newReceiver(t)
	sub := h.subscribe(t, r, map[string]any{"event_types": []string{"*"}, "description": "CRM"})
	require.True(t, sub.Enabled)

	r.set(http.StatusServiceUnavailable, "Retry-After", "600")
	a := h.submit(t, "acme", h.details("Hospital Ángeles", "angeles.example"))
	b := h.submit(t, "globex", h.details("Farmacias Unidas", "unidas.example"))
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+a.ID.String()+"/approve", nil, http.StatusOK, nil)
	want := h.deliverable(t, sub.From)
	require.Greater(t, len(want), 5)

	const down = 4
	for i := range down {
		require.Equal(t, 0, h.deliver(t))
		ds := h.webhookDeliveries(t, sub.ID, "?status=pending&limit=1")
		require.Len(t, ds, 1)
		require.Equal(t, i+1, ds[0].Attempts)
		require.Equal(t, http.StatusServiceUnavailable, ds[0].LastStatus)
		// Retry-After (10 minutes) is longer than the first backoffs.
		require.GreaterOrEqual(t, ds[0].NextAt.Sub(h.clock.Now()), 10*time.Minute)
		require.Equal(t, 0, h.deliver(t), "nothing is sent before it is due")
		h.clock.Set(ds[0].NextAt)
	}
	require.Equal(t, down, r.attempts, "one attempt at a time: the later deliveries wait behind the first")

	r.set(0)
	require.Equal(t, len(want), h.deliver(t))
	got := r.deliveries()
	require.Zero(t, r.badSigs)
	require.Len(t, got, len(want))
	seen := map[string]bool{}
	for i, e := range want {
		require.Equal(t, e.Position, got[i].Position, "ledger order")
		require.Equal(t, e.Type, got[i].Type)
		require.Equal(t, projections.DeliveryID(sub.ID, e.ID), got[i].ID, "a stable ID per subscription and event")
		require.False(t, seen[got[i].ID])
		seen[got[i].ID] = true
	}
	for _, id := range []string{a.ID.String(), b.ID.String()} {
		var last uint64
		for _, g := range got {
			if g.Stream == "registration-"+id {
				require.Greater(t, g.Position, last)
				last = g.Position
			}
		}
		require.NotZero(t, last)
	}
	// The log: the first delivery took down+1 attempts.
	ds := h.webhookDeliveries(t, sub.ID, "?limit=1")
	require.Equal(t, projections.DeliveryDelivered, ds[0].Status)
	require.Len(t, ds[0].Log, down+1)
	require.Equal(t, http.StatusServiceUnavailable, ds[0].Log[0].StatusCode)
	require.Equal(t, http.StatusNoContent, ds[0].Log[down].StatusCode)
	require.Empty(t, h.webhookDeliveries(t, sub.ID, "?status=pending"))
	require.Equal(t, 0, h.deliver(t), "nothing is sent twice")
}

// A delivery that fails past the retry window goes to the dead-letter
// list and the subscription is failing; a replay sends everything from a
// position again, and one delivery can be sent again on its own.
func TestWebhooks_DeadLetterAndReplay(t *testing.T) {
	h := newOutboxHarness(t)
	r := newReceiver(t)
	sub := h.subscribe(t, r, map[string]any{"event_types": []string{"RegistrationSubmitted", "RegistrationApproved"}})
	r.set(http.StatusInternalServerError)
	a := h.submit(t, "acme", h.details("Hospital Ángeles", "angeles.example"))
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+a.ID.String()+"/approve", nil, http.StatusOK, nil)

	start := h.clock.Now()
	for range 100 {
		h.deliver(t)
		ds := h.webhookDeliveries(t, sub.ID, "?limit=1")
		if ds[0].Status == projections.DeliveryDead {
			break
		}
		h.clock.Set(ds[0].NextAt)
	}
	dead := h.webhookDeliveries(t, sub.ID, "?status=dead")
	require.Len(t, dead, 1)
	require.GreaterOrEqual(t, dead[0].Attempts, 20, "exponential backoff capped at an hour fills a day")
	require.GreaterOrEqual(t, dead[0].Log[len(dead[0].Log)-1].At.Sub(start), 23*time.Hour, "retried for about a day")
	var v app.WebhookView
	h.mustDo(t, "admin", http.MethodGet, "/v1/webhooks/"+sub.ID, nil, http.StatusOK, &v)
	require.True(t, v.Failing)

	r.set(0)
	require.Equal(t, 0, h.deliver(t), "a failing subscription sends nothing until replayed")
	require.Len(t, h.webhookDeliveries(t, sub.ID, "?status=pending"), 1, "the later delivery waits")

	before := h.eventCount()
	h.mustDo(t, "admin", http.MethodPost, "/v1/webhooks/"+sub.ID+"/replay", map[string]any{"from_position": 0}, http.StatusAccepted, &v)
	require.False(t, v.Failing)
	require.Equal(t, before+1, h.eventCount(), "the replay is an event")
	require.Equal(t, 2, h.deliver(t))
	got := r.deliveries()
	require.Len(t, got, 2)
	require.Equal(t, []string{"RegistrationSubmitted", "RegistrationApproved"}, []string{got[0].Type, got[1].Type})

	// Redeliver one: the same ID again, so the receiver can tell.
	h.mustDo(t, "admin", http.MethodPost, "/v1/webhooks/"+sub.ID+"/deliveries/"+got[0].ID+"/redeliver", nil, http.StatusAccepted, nil)
	require.Equal(t, 1, h.deliver(t))
	got = r.deliveries()
	require.Len(t, got, 3)
	require.Equal(t, got[0].ID, got[2].ID)
	h.problem(t, "admin", http.MethodPost, "/v1/webhooks/"+sub.ID+"/deliveries/msg_nope/redeliver", nil, http.StatusNotFound, "not_found")
}

// A partner-facing subscription carries that partner's registrations
// only, and nothing the partner may not see.
func TestWebhooks_PartnerScoped(t *testing.T) {
	h := newOutboxHarness(t)
	r := newReceiver(t)
	sub := h.subscribe(t, r, map[string]any{"event_types": []string{"*"}, "partner_id": "acme"})
	h.submit(t, "globex", h.details("Hospital Ángeles", "angeles.example"))
	a := h.submit(t, "acme", h.details("Hospital Angeles", "angeles.example")) // a duplicate of globex's
	h.submit(t, "globex", h.details("Farmacias Unidas", "unidas.example"))
	h.deliver(t)
	got := r.deliveries()
	require.NotEmpty(t, got)
	types := map[string]bool{}
	for _, g := range got {
		require.Equal(t, "registration-"+a.ID.String(), g.Stream, "only acme's registration")
		require.NotContains(t, g.Body, "globex")
		types[g.Type] = true
		if g.Type == "RegistrationVerdictRecorded" {
			require.NotContains(t, g.Body, "matches", "what the duplicate check found of others stays hidden")
		}
	}
	require.True(t, types["RegistrationSubmitted"])
	require.True(t, types["RegistrationVerdictRecorded"])
	require.Less(t, len(got), len(h.deliverable(t, sub.From)))
}

// Deliveries and their state survive a restart: a receiver down across
// a restart gets everything once afterwards.
func TestWebhooks_SurviveRestart(t *testing.T) {
	h := newOutboxHarness(t)
	r := newReceiver(t)
	sub := h.subscribe(t, r, map[string]any{"event_types": []string{"*"}})
	h.submit(t, "acme", h.details("Hospital Ángeles", "angeles.example"))
	r.set(http.StatusBadGateway)
	h.deliver(t)
	h.restartOutbox(t, h.statePath(t))
	r.set(0)
	h.clock.Advance(time.Hour)
	want := h.deliverable(t, sub.From)
	require.Equal(t, len(want), h.deliver(t))
	h.restartOutbox(t, h.statePath(t))
	h.clock.Advance(time.Hour)
	require.Equal(t, 0, h.deliver(t), "nothing sent twice after a restart")
	require.Len(t, r.deliveries(), len(want))
	require.Zero(t, r.badSigs, "the secret still signs after a restart")
}

// 410 Gone disables the subscription, as an event; a redirect is never
// followed and counts as a failure.
func TestWebhooks_GoneAndRedirect(t *testing.T) {
	h := newOutboxHarness(t)
	r := newReceiver(t)
	other := newReceiver(t)
	sub := h.subscribe(t, r, map[string]any{"event_types": []string{"RegistrationSubmitted"}})
	r.set(http.StatusFound, "Location", other.srv.URL+"/elsewhere")
	h.submit(t, "acme", h.details("Hospital Ángeles", "angeles.example"))
	require.Equal(t, 0, h.deliver(t))
	require.Zero(t, other.attempts, "the redirect is not followed")
	ds := h.webhookDeliveries(t, sub.ID, "")
	require.Equal(t, http.StatusFound, ds[0].LastStatus)
	require.Equal(t, projections.DeliveryPending, ds[0].Status)

	r.set(http.StatusGone)
	h.clock.Set(ds[0].NextAt)
	before := h.eventCount()
	require.Equal(t, 0, h.deliver(t))
	var v app.WebhookView
	h.mustDo(t, "admin", http.MethodGet, "/v1/webhooks/"+sub.ID, nil, http.StatusOK, &v)
	require.False(t, v.Enabled)
	require.Contains(t, v.DisabledReason, "410")
	require.Equal(t, before+1, h.eventCount(), "WebhookDisabled is recorded")

	// Re-enabled by an admin, the delivery goes out after a redeliver.
	r.set(0)
	h.mustDo(t, "admin", http.MethodPatch, "/v1/webhooks/"+sub.ID, map[string]any{"enabled": true}, http.StatusOK, &v)
	require.True(t, v.Enabled)
	h.mustDo(t, "admin", http.MethodPost, "/v1/webhooks/"+sub.ID+"/deliveries/"+ds[0].ID+"/redeliver", nil, http.StatusAccepted, nil)
	require.Equal(t, 1, h.deliver(t))
}

// Only admins manage webhooks; the secret is never shown again; loopback
// and private targets are refused without the admin flag; refusals append
// nothing.
func TestWebhooks_Rules(t *testing.T) {
	h := newHarness(t) // the default service: private targets refused
	before := h.eventCount()
	for _, u := range []string{"http://127.0.0.1:9/x", "http://localhost/x", "http://10.1.2.3/x", "http://[::1]/x", "http://169.254.169.254/latest", "http://[::ffff:192.168.0.1]/"} {
		p := h.problem(t, "admin", http.MethodPost, "/v1/webhooks", map[string]any{"url": u, "event_types": []string{"*"}}, http.StatusBadRequest, "invalid")
		require.Equal(t, "url", p.Errors[0].Field, u)
	}
	h.problem(t, "admin", http.MethodPost, "/v1/webhooks", map[string]any{"url": "ftp://crm.example/x", "event_types": []string{"*"}}, http.StatusBadRequest, "invalid")
	h.problem(t, "admin", http.MethodPost, "/v1/webhooks", map[string]any{"url": "https://crm.example/x", "event_types": []string{"TokenIssued"}}, http.StatusBadRequest, "invalid")
	h.problem(t, "admin", http.MethodPost, "/v1/webhooks", map[string]any{"url": "https://crm.example/x", "event_types": []string{"*"}, "partner_id": "initech"}, http.StatusBadRequest, "invalid")
	for _, who := range []string{"manager", "acme", "auditor", "sales"} {
		h.problem(t, who, http.MethodPost, "/v1/webhooks", map[string]any{"url": "https://crm.example/x", "event_types": []string{"*"}}, http.StatusForbidden, "forbidden")
		h.problem(t, who, http.MethodGet, "/v1/webhooks", nil, http.StatusForbidden, "forbidden")
	}
	require.Equal(t, before, h.eventCount())

	var v app.WebhookView
	h.mustDo(t, "admin", http.MethodPost, "/v1/webhooks", map[string]any{"url": "https://crm.example/x", "event_types": []string{"RegistrationApproved"}}, http.StatusCreated, &v)
	require.True(t, strings.HasPrefix(v.Secret, "whsec_"))
	raw := h.mustDo(t, "admin", http.MethodGet, "/v1/webhooks/"+v.ID, nil, http.StatusOK, nil)
	require.NotContains(t, string(raw), v.Secret[6:])
	raw = h.mustDo(t, "admin", http.MethodGet, "/v1/webhooks", nil, http.StatusOK, nil)
	require.NotContains(t, string(raw), "secret")
	// Nor is it in the ledger in the clear.
	all, err := h.store.ReadAll(context.Background(), domain.ReadAllOptions{})
	require.NoError(t, err)
	for _, e := range all {
		require.NotContains(t, string(e.Data), v.Secret[6:])
	}
	h.problem(t, "admin", http.MethodGet, "/v1/webhooks/wh_nope", nil, http.StatusNotFound, "not_found")
	h.problem(t, "admin", http.MethodGet, "/v1/webhooks/"+v.ID+"/deliveries?limit=0", nil, http.StatusBadRequest, "invalid")
}
