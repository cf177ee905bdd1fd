package api_test

import (
	"math/rand/v2"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// harnessUnsigned makes newHarness open its ledger without a signing key
// (no checkpoints, no receipts): BenchmarkSubmit's baseline.
var harnessUnsigned bool

// BenchmarkSubmit measures POST /v1/registrations with submit over real
// HTTP, with checkpoint signing off and on in the same run: on, the
// submission's commit also signs and stores a checkpoint, and the answer
// carries the receipt. It reports the median and 99th percentile latency.
func BenchmarkSubmit(b *testing.B) {
	for _, signing := range []bool{false, true} {
		name := map[bool]string{false: "signing=off", true: "signing=on"}[signing]
		b.Run(name, func(b *testing.B) {
			harnessUnsigned = !signing
			// Time the server, not the test's OpenAPI check of each
			// exchange (a receipt makes the answer larger).
			check := checkExchange
			checkExchange = nil
			defer func() { harnessUnsigned, checkExchange = false, check }()
			h := newHarness(b)
			rng := rand.New(rand.NewPCG(7, 7))
			word := func() string {
				const letters = "bcdfghjklmnpqrstvwxz"
				const vowels = "aeiou"
				w := make([]byte, 0, 10)
				for range 4 {
					w = append(w, letters[rng.IntN(len(letters))], vowels[rng.IntN(len(vowels))])
				}
				return string(w)
			}
			var took []time.Duration
			for b.Loop() {
				body := map[string]any{"type": "opportunity", "details": h.details(word()+" "+word()+" S.A.", ""), "submit": true}
				start := time.Now()
				status, raw, _ := h.do(b, "acme", http.MethodPost, "/v1/registrations", body)
				took = append(took, time.Since(start))
				require.Equal(b, http.StatusCreated, status, "%s", raw)
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
		})
	}
}
