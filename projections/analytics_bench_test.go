package projections_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// BenchmarkAnalytics_Registrations measures a whole-period query over the
// registrations of a generated 1,000,000-event ledger (about 131,000),
// 500 partners in 4 tiers and 20 regions, half approved, a third of those
// won: total only, and grouped by partner and tier.
func BenchmarkAnalytics_Registrations(b *testing.B) {
	a := benchAnalytics(b)
	for _, c := range []struct {
		name    string
		groupBy []string
	}{{"Total", nil}, {"ByPartnerTier", []string{"partner", "tier"}}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := a.Registrations(projections.AnalyticsFilter{}, c.groupBy); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
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

func benchAnalytics(b *testing.B) *projections.Analytics {
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
	a := projections.NewAnalytics()
	for _, r := range l.recs {
		if err := a.Apply(r); err != nil {
			b.Fatal(err)
		}
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
		perReg = float64(after.HeapAlloc-before.HeapAlloc) / 131_000
		runtime.KeepAlive(loaded)
	}
	b.ReportMetric(perReg, "heap-B/registration")
}

// storedAnalytics writes benchAnalytics' view to a new state database, as a
// commit of the follower would, and returns the database.
func storedAnalytics(b *testing.B) *projections.State {
	b.Helper()
	a := benchAnalytics(b)
	st, err := projections.OpenState(context.Background(), filepath.Join(b.TempDir(), "views.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
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
