package projections_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// BenchmarkAnalytics_Registrations measures a whole-period query over the
// registrations of a generated 1,000,000-event ledger (about 131,000),
// 500 partners in 4 tiers and 20 regions, half approved, a third of those
// won: total only, and grouped by partner and tier; and the same with
// explain (every fact read from views.db).
func BenchmarkAnalytics_Registrations(b *testing.B) {
	a := benchAnalytics(b)
	for _, c := range []struct {
		name    string
		filter  projections.AnalyticsFilter
		groupBy []string
	}{{"Total", projections.AnalyticsFilter{}, nil}, {"ByPartnerTier", projections.AnalyticsFilter{}, []string{"partner", "tier"}},
		{"ByPartnerTierExplain", projections.AnalyticsFilter{Explain: true}, []string{"partner", "tier"}}} {
		b.Run(c.name, func(b *testing.B) {
			cpu := processCPU()
			for b.Loop() {
				if _, err := a.Registrations(c.filter, c.groupBy); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU is the process's CPU time (user and system) so far: on a
// machine shared with other work, wall time per operation says little.
func processCPU() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// BenchmarkAnalytics_Load measures restoring the same view from the state
// database, as serve does at every start.
func BenchmarkAnalytics_Load(b *testing.B) {
	st := storedAnalytics(b)
	for b.Loop() {
		if err := projections.NewAnalytics().Load(context.Background(), st.DB()); err != nil {
			b.Fatal(err)
		}
	}
}

// benchLedger is the ledger of the benchmarks.
func benchLedger(b *testing.B) *handLedger {
	l := &handLedger{tb: b}
	tiers := []domain.PartnerTier{domain.TierRegistered, domain.TierSilver, domain.TierGold, domain.TierPlatinum}
	for p := range 500 {
		l.add(fmt.Sprintf("partner-p%d", p), t0, domain.PartnerAdded{Partner: domain.Partner{ID: fmt.Sprintf("p%d", p), Tier: tiers[p%4]}})
	}
	for i := range 131_000 {
		id := uuid.New()
		at := t0.Add(time.Duration(i) * time.Minute)
		stream := domain.RegistrationStream(id)
		d := domain.Details{Account: domain.Account{Region: fmt.Sprintf("r%d", i%20)}}
		l.add(stream, at, domain.RegistrationDrafted{RegistrationID: id, PartnerID: fmt.Sprintf("p%d", i%500), Details: d})
		l.add(stream, at, domain.RegistrationSubmitted{RegistrationID: id, PartnerID: fmt.Sprintf("p%d", i%500), Attempt: 1, Details: d})
		if i%2 == 0 {
			l.add(stream, at.Add(time.Duration(i%97)*time.Hour), domain.RegistrationApproved{RegistrationID: id, Terms: domain.ProtectionTerms{ProtectionEnd: at.Add(90 * domain.Day)}})
			if i%3 == 0 {
				l.add(stream, at.Add(30*domain.Day), domain.RegistrationClosedWon{RegistrationID: id, FinalValue: usd("1000")})
			}
		} else {
			l.add(stream, at.Add(time.Hour), domain.RegistrationRejected{RegistrationID: id})
		}
	}
	return l
}

// benchAnalytics is the view of benchLedger, committed to a state database
// on disk and loaded from it, as serve holds it.
func benchAnalytics(b *testing.B) *projections.Analytics {
	st := storedAnalytics(b)
	a := projections.NewAnalytics()
	if err := a.Load(context.Background(), st.DB()); err != nil {
		b.Fatal(err)
	}
	return a
}

// BenchmarkAnalytics_Memory reports the heap the view keeps per
// registration once loaded from the state database, as serve holds it.
func BenchmarkAnalytics_Memory(b *testing.B) {
	st := storedAnalytics(b)
	var perReg float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		loaded := projections.NewAnalytics()
		if err := loaded.Load(context.Background(), st.DB()); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perReg = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / 131_000
		runtime.KeepAlive(loaded)
	}
	b.ReportMetric(perReg, "heap-B/registration")
}

// storedAnalytics folds benchLedger into a new state database on disk and
// commits it, as the follower would, and returns the database.
func storedAnalytics(b *testing.B) *projections.State {
	b.Helper()
	st, err := projections.OpenState(context.Background(), filepath.Join(b.TempDir(), "views.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	a := projections.NewAnalytics()
	if err := a.Load(context.Background(), st.DB()); err != nil {
		b.Fatal(err)
	}
	l := benchLedger(b)
	for _, r := range l.recs {
		if err := a.Apply(r); err != nil {
			b.Fatal(err)
		}
	}
	w, err := a.Flush()
	if err != nil {
		b.Fatal(err)
	}
	tx, err := st.DB().Begin()
	if err != nil {
		b.Fatal(err)
	}
	if err := w(context.Background(), tx); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return st
}
