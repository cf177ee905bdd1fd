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
// of the outbox and, for the submissions this tool made, the lag from the
// submission's acknowledgement (appended and durable) to the arrival of
// its RegistrationSubmitted delivery. (The payload's timestamp is the
// ledger's recorded time, which on a generated ledger runs ahead of the
// wall clock: no lag can be read from it.) Serve must run with
// --allow-private-webhooks for the outbox to call it.
type receiver struct {
	url         string
	mu          sync.Mutex
	acked       map[string]time.Time // stream → when its submission was acknowledged
	arrived     map[string]time.Time // stream → when its RegistrationSubmitted arrived
	first, last time.Time
	ids         map[string]bool
	n, dups     int
}

// acknowledged notes that registration id's submission was acknowledged at t.
func (r *receiver) acknowledged(id string, t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.acked["registration-"+id] = t
}

func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{url: "http://" + ln.Addr().String() + "/hooks", ids: map[string]bool{}, acked: map[string]time.Time{}, arrived: map[string]time.Time{}}
	go func() {
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			body, _ := io.ReadAll(req.Body)
			now := time.Now()
			var p struct {
				Type string `json:"type"`
				Data struct {
					Stream string `json:"stream"`
				} `json:"data"`
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
				r.n++
				if p.Type == "RegistrationSubmitted" {
					r.arrived[p.Data.Stream] = now
				}
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
	var lags []time.Duration
	for stream, at := range r.acked {
		if arr, ok := r.arrived[stream]; ok {
			lags = append(lags, max(0, arr.Sub(at))) // 0: it arrived before the answer was read
		}
	}
	if r.n == 0 || len(lags) == 0 {
		fmt.Println("webhook deliveries: none of this run's submissions arrived (is serve running with --allow-private-webhooks?)")
		return
	}
	slices.Sort(lags)
	pct := func(p float64) time.Duration {
		return lags[min(len(lags)-1, int(p*float64(len(lags))))].Round(100 * time.Microsecond)
	}
	span := r.last.Sub(r.first).Seconds()
	fmt.Printf("webhook deliveries: %d in %.1f s = %.0f/s; acknowledged submission → its delivery (%d): lag p50 %s, p90 %s, p99 %s, max %s; %d redelivered\n",
		r.n, span, float64(r.n)/max(span, 0.001), len(lags), pct(0.50), pct(0.90), pct(0.99), lags[len(lags)-1].Round(100*time.Microsecond), r.dups)
}
