package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// receiver is a webhook endpoint on loopback that counts the deliveries
// of the outbox and the lag of each from the event's append (the
// payload's timestamp, the ledger's recorded time) to its arrival. Serve
// must run with --allow-private-webhooks for the outbox to call it.
type receiver struct {
	url         string
	mu          sync.Mutex
	lags        []time.Duration
	first, last time.Time
	ids         map[string]bool
	dups        int
}

func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{url: "http://" + ln.Addr().String() + "/hooks", ids: map[string]bool{}}
	go func() {
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			body, _ := io.ReadAll(req.Body)
			now := time.Now()
			var p struct {
				Timestamp time.Time `json:"timestamp"`
			}
			if json.Unmarshal(body, &p) != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			r.mu.Lock()
			id := req.Header.Get("webhook-id")
			if r.ids[id] {
				r.dups++
			} else {
				r.ids[id] = true
				r.lags = append(r.lags, now.Sub(p.Timestamp))
				if r.first.IsZero() {
					r.first = now
				}
				r.last = now
			}
			r.mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		}))
	}()
	return r, nil
}

// subscribe registers the receiver for every deliverable event.
func (l *load) subscribe(r *receiver) error {
	return l.do(http.MethodPost, "/v1/webhooks", l.admin, map[string]any{"url": r.url, "event_types": []string{"*"},
		"description": "dealreg-load receiver"}, nil)
}

// report waits until no delivery has arrived for quiet, then prints the
// deliveries, their rate from first to last arrival and the lag
// percentiles.
func (r *receiver) report(quiet, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		last := r.last
		r.mu.Unlock()
		if !last.IsZero() && time.Since(last) > quiet {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.lags) == 0 {
		fmt.Println("webhook deliveries: none arrived (is serve running with --allow-private-webhooks?)")
		return
	}
	lags := slices.Clone(r.lags)
	slices.Sort(lags)
	pct := func(p float64) time.Duration {
		return lags[min(len(lags)-1, int(p*float64(len(lags))))].Round(100 * time.Microsecond)
	}
	span := r.last.Sub(r.first).Seconds()
	fmt.Printf("webhook deliveries: %d in %.1f s = %.0f/s; append→delivery lag p50 %s, p90 %s, p99 %s, max %s; %d redelivered\n",
		len(lags), span, float64(len(lags))/max(span, 0.001), pct(0.50), pct(0.90), pct(0.99), lags[len(lags)-1].Round(100*time.Microsecond), r.dups)
}
