package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
	"github.com/dealreg/dealreg/projections"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func open(tb testing.TB, path string, clock domain.Clock) (*eventstore.SQLite, *app.Service) {
	tb.Helper()
	store, err := eventstore.OpenSQLite(path, eventstore.Options{Clock: clock})
	require.NoError(tb, err)
	svc := app.New(app.Config{Store: store, Clock: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(tb, svc.Start(context.Background(), false))
	enrol(tb, svc, "acme", "globex", "initech")
	return store, svc
}

// enrol adds the partners the tests register for, once per ledger: a
// partner the directory does not know is eligible for nothing.
func enrol(tb testing.TB, svc *app.Service, ids ...string) {
	tb.Helper()
	admin := app.Call{Caller: app.Caller{Actor: domain.Actor{ID: "admin", Role: domain.RoleAdmin}}}
	for _, id := range ids {
		if _, ok := svc.Directory.Partner(id); ok {
			continue
		}
		_, err := svc.AddPartner(context.Background(), admin, domain.Partner{ID: id, Name: id, Tier: domain.TierGold})
		require.NoError(tb, err)
	}
}

func partner(id string) app.Call {
	return app.Call{Caller: app.Caller{Actor: domain.Actor{ID: "u-" + id, Role: domain.RolePartner, PartnerID: id}}}
}

var manager = app.Call{Caller: app.Caller{Actor: domain.Actor{ID: "cm", Role: domain.RoleChannelManager}}}

func details(now time.Time, company, site, product string) domain.Details {
	return domain.Details{
		Account: domain.Account{CompanyName: company, Domain: site, Country: "ES"},
		Opportunity: domain.Opportunity{
			ProductLines:      []string{product},
			EstimatedValue:    domain.Money{Amount: decimal.NewFromInt(50000), Currency: "EUR"},
			ExpectedCloseDate: now.Add(30 * domain.Day),
		},
		Relationship: domain.Relationship{HowFound: domain.SourceInbound, FirstContactDate: now.Add(-domain.Day)},
	}
}

// Every verdict is a pure function of the ledger before its submission:
// replaying the ledger into a fresh claim book decides exactly the findings
// that were recorded, and a restarted service records nothing new.
func TestVerdictsReplay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	clock := domain.NewManualClock(t0)
	store, svc := open(t, path, clock)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	companies := []struct{ name, site string }{
		{"Telefónica S.A.", "telefonica.example"}, {"TELEFONICA", ""}, {"Banco Santander", "santander.example"},
		{"Santander Bank", "santander.example"}, {"Inditex", "inditex.example"}, {"Industria de Diseño Textil", "inditex.example"},
		{"Repsol", "repsol.example"}, {"Iberdrola S.A.", "iberdrola.example"},
	}
	partners := []string{"acme", "globex", "initech"}
	var ids []uuid.UUID
	for range 120 {
		c := companies[rng.IntN(len(companies))]
		p := partners[rng.IntN(len(partners))]
		product := []string{"HR", "Payroll"}[rng.IntN(2)]
		id, _, err := svc.Create(ctx, partner(p), domain.TypeOpportunity, details(clock.Now(), c.name, c.site, product), true)
		require.NoError(t, err)
		ids = append(ids, id)
		v, _ := svc.Registrations.Get(id)
		switch rng.IntN(4) {
		case 0:
			if v.Status == domain.StatusCleared {
				_, err = svc.Approve(ctx, manager, id)
			}
		case 1:
			if !v.Status.Final() {
				_, err = svc.Withdraw(ctx, partner(p), id, "")
			}
		}
		require.NoError(t, err)
		clock.Advance(time.Duration(rng.IntN(72)) * time.Hour)
	}
	svc.Stop()

	// Replay: decide again from the ledger alone.
	events, err := store.ReadAll(ctx, domain.ReadAllOptions{})
	require.NoError(t, err)
	book := domain.NewClaimBook()
	decided := map[string]domain.Finding{}
	recorded := map[string]domain.RegistrationVerdictRecorded{}
	var verdicts = map[domain.Verdict]int{}
	for _, rec := range events {
		ev, err := domain.DecodeEvent(rec.Type, rec.SchemaVersion, rec.Data)
		require.NoError(t, err)
		if s, ok := ev.(domain.RegistrationSubmitted); ok {
			decided[fmt.Sprint(s.RegistrationID, s.Attempt)] = book.Check(s, rec.RecordedAt)
		}
		if v, ok := ev.(domain.RegistrationVerdictRecorded); ok {
			recorded[fmt.Sprint(v.RegistrationID, v.Attempt)] = v
			verdicts[v.Verdict]++
		}
		book.Apply(ev, rec.Position)
	}
	require.Len(t, recorded, len(ids), "every submission got its verdict")
	require.NotZero(t, verdicts[domain.VerdictClear])
	require.NotZero(t, verdicts[domain.VerdictDuplicate])
	for key, v := range recorded {
		f := decided[key]
		require.Equal(t, f.Verdict, v.Verdict, key)
		require.Equal(t, f.Matches, v.Matches, key)
		require.Equal(t, f.OwnClaim, v.OwnClaim, key)
	}

	// A restarted service decides the same and appends nothing.
	head := store.Head()
	svc2 := app.New(app.Config{Store: store, Clock: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, svc2.Start(ctx, false))
	svc2.Stop()
	require.Equal(t, head, store.Head())
	require.NoError(t, store.Close())
}

// A verdict is recorded for a submission made while no service ran (say,
// by another process): the checker catches up when it starts.
func TestCheckerCatchesUp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	clock := domain.NewManualClock(t0)
	store, svc := open(t, path, clock)
	ctx := context.Background()
	id, _, err := svc.Create(ctx, partner("acme"), domain.TypeOpportunity, details(clock.Now(), "Repsol", "repsol.example", "HR"), true)
	require.NoError(t, err)
	svc.Stop()

	// Submit behind the service's back: draft and submit events only.
	other := uuid.New()
	r, events, err := domain.NewRegistration(other, partner("globex").Actor, domain.TypeOpportunity, details(clock.Now(), "REPSOL S.A.", "", "HR"), clock.Now())
	require.NoError(t, err)
	more, err := r.Submit(partner("globex").Actor, domain.DefaultPolicy(), clock.Now())
	require.NoError(t, err)
	var data []domain.EventData
	for _, e := range append(events, more...) {
		typ, v, raw, err := domain.EncodeEvent(e)
		require.NoError(t, err)
		data = append(data, domain.EventData{ID: uuid.New(), Type: typ, SchemaVersion: v, Data: raw})
	}
	_, err = store.Append(ctx, domain.RegistrationStream(other), domain.NoStream(), data...)
	require.NoError(t, err)

	svc2 := app.New(app.Config{Store: store, Clock: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, svc2.Start(ctx, false))
	defer svc2.Stop()
	v, err := svc2.Registrations.WaitUntil(ctx, other, func(v projections.RegistrationView) bool { return v.Status != domain.StatusSubmitted })
	require.NoError(t, err)
	require.Equal(t, domain.StatusDuplicate, v.Status)
	d, ok := svc2.Registrations.Detail(other)
	require.True(t, ok)
	require.Equal(t, []uuid.UUID{id}, d.Finding.Matches)
	require.NoError(t, store.Close())
}
