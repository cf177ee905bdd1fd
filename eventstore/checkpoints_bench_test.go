package eventstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
)

// BenchmarkAppendSigning measures appends with checkpoint signing off and on
// in the same run, interleaved (one signed, stored checkpoint per commit
// when on), from 1, 8 and 64 writers, durable and (nosync) without the
// flush, which shows the signature's CPU cost alone.
func BenchmarkAppendSigning(b *testing.B) {
	signer, _ := testKey(b)
	for _, nosync := range []bool{false, true} {
		for _, writers := range []int{1, 8, 64} {
			for _, signing := range []bool{false, true} {
				name := fmt.Sprintf("writers=%d/signing=%v", writers, map[bool]string{false: "off", true: "on"}[signing])
				if nosync {
					name += "/nosync"
				}
				b.Run(name, func(b *testing.B) {
					opts := eventstore.Options{}
					if signing {
						opts.Signer = signer
					}
					if nosync {
						opts = eventstore.WithoutSync(opts)
					}
					s := MustOpenStore(b, opts)
					var n atomic.Int64
					var wg sync.WaitGroup
					b.ResetTimer()
					for w := range writers {
						wg.Add(1)
						go func() {
							defer wg.Done()
							stream := fmt.Sprintf("bench-%d", w)
							for n.Add(1) <= int64(b.N) {
								if _, err := s.Append(context.Background(), stream, domain.Any(), benchEvent()); err != nil {
									b.Error(err)
									return
								}
							}
						}()
					}
					wg.Wait()
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
					if commits, reqs := eventstore.BatchStats(s); commits > 0 {
						b.ReportMetric(float64(reqs)/float64(commits), "appends/commit")
					}
				})
			}
		}
	}
}

// BenchmarkReceipt measures one receipt (the event, its inclusion proof
// from the stored hashes, the latest signed checkpoint) and one consistency
// proof on a ledger of a million events (readAllLedger's, or the ledger.db
// named by DEALREG_BENCH_LEDGER, e.g. one dealreg generate made; it is
// copied, since opening it with a key signs a checkpoint). It reports the
// median and 99th percentile latency.
func BenchmarkReceipt(b *testing.B) {
	src := os.Getenv("DEALREG_BENCH_LEDGER")
	if src == "" {
		src = readAllLedger(b)
	}
	path := filepath.Join(b.TempDir(), "ledger.db")
	raw, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		b.Fatal(err)
	}
	raw = nil
	signer, _ := testKey(b)
	s := MustOpenPath(b, path, eventstore.Options{Signer: signer})
	ctx := context.Background()
	if err := s.SignHead(ctx); err != nil {
		b.Fatal(err)
	}
	size := int64(s.Head())
	rng := rand.New(rand.NewPCG(1, 2))
	percentiles := func(b *testing.B, took []time.Duration) {
		slices.Sort(took)
		b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
		b.ReportMetric(float64(size), "events")
	}
	b.Run("inclusion", func(b *testing.B) {
		var took []time.Duration
		for b.Loop() {
			pos := uint64(rng.Int64N(size))
			start := time.Now()
			rs, err := s.Receipts(ctx, []uint64{pos}, 0)
			took = append(took, time.Since(start))
			if err != nil || len(rs) != 1 {
				b.Fatal(err)
			}
		}
		percentiles(b, took)
	})
	b.Run("consistency", func(b *testing.B) {
		var took []time.Duration
		for b.Loop() {
			from := 1 + rng.Int64N(size)
			start := time.Now()
			_, err := s.Consistency(ctx, from, 0)
			took = append(took, time.Since(start))
			if err != nil {
				b.Fatal(err)
			}
		}
		percentiles(b, took)
	})
}

// BenchmarkVerifyCheckpoints measures verify's check of the stored
// checkpoints: a ledger of 50,000 single-event commits holds 50,000 of them.
func BenchmarkVerifyCheckpoints(b *testing.B) {
	signer, verifier := testKey(b)
	s := MustOpenStore(b, eventstore.WithoutSync(eventstore.Options{Signer: signer}))
	ctx := context.Background()
	const commits = 50_000
	for i := range commits {
		if _, err := s.Append(ctx, fmt.Sprintf("registration-%d", i%100), domain.Any(), benchEvent()); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		n, err := s.VerifyCheckpoints(ctx, verifier)
		if err != nil || n != commits {
			b.Fatal(n, err)
		}
	}
	b.ReportMetric(float64(commits*b.N)/b.Elapsed().Seconds(), "checkpoints/s")
}
