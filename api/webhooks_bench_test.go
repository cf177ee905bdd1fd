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
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
)

// BenchmarkOutbox_WebhookDeliveries measures the outbox on the wall
// clock: b.N submissions over HTTP by 8 clients while the background
// dispatcher delivers every event to a receiver on loopback. It reports
// deliveries per second and the lag from an event's commit to its
// arrival (p50, p99); then, with the receiver down for another b.N
// submissions, how fast the backlog drains once it is back.
//
//	go test -run '^$' -bench OutboxWebhook -benchtime 400x ./api/
func BenchmarkOutbox_WebhookDeliveries(b *testing.B) {
	dir := b.TempDir()
	store, err := eventstore.OpenSQLite(filepath.Join(dir, "ledger.db"), eventstore.Options{})
	require.NoError(b, err)
	defer store.Close()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := app.New(app.Config{Store: store, Logger: logger, StatePath: filepath.Join(dir, "views.db"),
		Outbox: app.OutboxConfig{SecretKey: outboxKey, AllowPrivateTargets: true}})
	require.NoError(b, svc.Start(context.Background(), false))
	defer svc.Stop()
	srv := httptest.NewServer(api.NewServer(api.Config{Store: store, App: svc, Logger: logger}).Handler())
	defer srv.Close()
	h := &harness{srv: srv, store: store, app: svc, clock: domain.NewManualClock(time.Now()), tokens: map[string]string{}}
	admin, err := svc.CreateToken(context.Background(), adminCall, "admin", domain.RoleAdmin, "")
	require.NoError(b, err)
	h.tokens["admin"] = admin.Secret
	h.mustDo(b, "admin", http.MethodPost, "/v1/partners", domain.Partner{ID: "acme", Name: "Acme", Tier: domain.TierGold}, http.StatusCreated, nil)
	var tok struct {
		Token string `json:"token"`
	}
	h.mustDo(b, "admin", http.MethodPost, "/v1/tokens", map[string]string{"name": "acme", "role": "partner", "partner_id": "acme"}, http.StatusCreated, &tok)
	h.tokens["acme"] = tok.Token

	var mu sync.Mutex
	var lags []time.Duration
	down := false
	arrived := make(chan struct{}, 1<<20)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p struct {
			Timestamp time.Time `json:"timestamp"`
		}
		body, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(body, &p)
		mu.Lock()
		if down {
			mu.Unlock()
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		lags = append(lags, time.Since(p.Timestamp))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		arrived <- struct{}{}
	}))
	defer recv.Close()
	var sub app.WebhookView
	h.mustDo(b, "admin", http.MethodPost, "/v1/webhooks", map[string]any{"url": recv.URL, "event_types": []string{"*"}}, http.StatusCreated, &sub)
	from := store.Head()

	b.ResetTimer()
	start := time.Now()
	submit := func(first, n int) {
		var wg sync.WaitGroup
		next := make(chan int)
		for range 8 {
			wg.Go(func() {
				for i := range next {
					d := h.details(fmt.Sprintf("Empresa %d SA", i), fmt.Sprintf("e%d.example", i))
					h.mustDo(b, "acme", http.MethodPost, "/v1/registrations", map[string]any{"type": "opportunity", "details": d, "submit": true}, http.StatusCreated, nil)
				}
			})
		}
		for i := range n {
			next <- first + i
		}
		close(next)
		wg.Wait()
	}
	submit(0, b.N)
	want := int(store.Head() - from)
	for range want {
		select {
		case <-arrived:
		case <-time.After(time.Minute):
			b.Fatalf("deliveries stopped arriving")
		}
	}
	took := time.Since(start)
	b.StopTimer()

	// A backlog: the receiver is down while b.N more are submitted, then
	// returns; a replay from the backlog's start sends it as fast as the
	// dispatcher goes.
	mu.Lock()
	down = true
	live := slices.Clone(lags)
	mu.Unlock()
	backlogFrom := store.Head()
	submit(b.N, b.N)
	backlog := int(store.Head() - backlogFrom)
	mu.Lock()
	down = false
	mu.Unlock()
	drainStart := time.Now()
	h.mustDo(b, "admin", http.MethodPost, "/v1/webhooks/"+sub.ID+"/replay", map[string]any{"from_position": backlogFrom}, http.StatusAccepted, nil)
	for range backlog {
		select {
		case <-arrived:
		case <-time.After(time.Minute):
			b.Fatalf("the backlog stopped arriving")
		}
	}
	b.ReportMetric(float64(backlog)/time.Since(drainStart).Seconds(), "backlog-deliveries/s")
	slices.Sort(live)
	b.ReportMetric(float64(want)/took.Seconds(), "deliveries/s")
	b.ReportMetric(float64(live[len(live)/2].Microseconds())/1000, "p50-lag-ms")
	b.ReportMetric(float64(live[len(live)*99/100].Microseconds())/1000, "p99-lag-ms")
}
