package app

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
)

// policyDoc returns the document of the policy in force, as a map to edit.
func policyDoc(t require.TestingT, svc *Service) map[string]any {
	raw, err := json.Marshal(svc.Policy())
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(raw, &doc))
	return doc
}

func section(doc map[string]any, path ...string) map[string]any {
	m := doc
	for _, k := range path {
		m = m[k].(map[string]any)
	}
	return m
}

func simulate(t *testing.T, svc *Service, doc map[string]any, from, to time.Time) Simulation {
	t.Helper()
	raw, err := json.Marshal(doc)
	require.NoError(t, err)
	sim, err := svc.SimulatePolicy(context.Background(), executive.Caller, raw, from, to)
	require.NoError(t, err)
	return sim
}

func eur(v string) domain.Money {
	return domain.Money{Amount: decimal.RequireFromString(v), Currency: "EUR"}
}

// The simulation's ledger: acme (gold) submits three deals worth 10,000,
// 12,000 and 14,000 EUR, each approved an hour after its submission;
// globex's 16,000 EUR deal is rejected; initech submits after the period.
func simulationLedger(t *testing.T) (*Service, *eventstore.SQLite, []uuid.UUID) {
	clock := domain.NewManualClock(stateT0)
	store, err := eventstore.OpenSQLite(filepath.Join(t.TempDir(), "ledger.db"), eventstore.Options{Clock: clock})
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	svc := startService(t, store, clock, "")
	t.Cleanup(svc.Stop)
	ctx := context.Background()
	var ids []uuid.UUID
	for i, c := range []int{0, 2, 4, 6} {
		p := "acme"
		if i == 3 {
			p = "globex"
		}
		id, _, err := svc.Create(ctx, partnerCall(p), domain.TypeOpportunity, stateDetails(clock.Now(), c, "HR"), true)
		require.NoError(t, err)
		ids = append(ids, id)
		clock.Advance(time.Hour)
		if i < 3 {
			_, err = svc.Approve(ctx, reviewer, id)
		} else {
			_, err = svc.Reject(ctx, reviewer, id, domain.RejectOther, "Not a fit.", "Try again later.")
		}
		require.NoError(t, err)
	}
	clock.Advance(10 * domain.Day)
	id, _, err := svc.Create(ctx, partnerCall("initech"), domain.TypeOpportunity, stateDetails(clock.Now(), 8, "HR"), true)
	require.NoError(t, err)
	_, err = svc.Approve(ctx, reviewer, id)
	require.NoError(t, err)
	return svc, store, ids
}

func TestSimulatePolicy(t *testing.T) {
	svc, store, ids := simulationLedger(t)
	from, to := stateT0, stateT0.Add(5*domain.Day)
	head := store.Head()

	for _, c := range []struct {
		name  string
		edit  func(doc map[string]any)
		check func(t *testing.T, s Simulation)
	}{
		{"Unchanged", func(map[string]any) {}, func(t *testing.T, s Simulation) {
			require.Equal(t, SimulationSummary{Registrations: 4, Submissions: 4, Approvals: 3, DiscountDelta: []domain.Money{}, MDFDelta: []domain.Money{}}, s.Summary)
			require.Empty(t, s.Changes)
		}},
		{"LongerProtection", func(doc map[string]any) { section(doc, "protection", "opportunity")["term"] = "120d" }, func(t *testing.T, s Simulation) {
			require.Equal(t, 3, s.Summary.ProtectionLonger)
			require.Equal(t, 90*domain.Day, s.Summary.ProtectionDelta)
			require.Len(t, s.Changes, 3)
			for i, ch := range s.Changes {
				require.Equal(t, ids[i], ch.RegistrationID)
				require.Equal(t, 30*domain.Day, ch.Protection.Delta)
				require.Equal(t, ch.Protection.RecordedEnd.Add(30*domain.Day), ch.Protection.SimulatedEnd)
			}
		}},
		{"RicherBenefits", func(doc map[string]any) {
			section(doc, "benefits", "mdf")["percent"] = "3"
			section(doc, "benefits", "discount", "tier_base_percent")["gold"] = "12"
		}, func(t *testing.T, s Simulation) {
			// MDF 1% more of 36,000; discount 2 points more of 36,000.
			require.Equal(t, 3, s.Summary.BenefitsChanged)
			require.Equal(t, 0, s.Summary.PresalesChanged)
			require.Len(t, s.Summary.MDFDelta, 1)
			require.True(t, eur("360").Amount.Equal(s.Summary.MDFDelta[0].Amount), "%s", s.Summary.MDFDelta[0])
			require.True(t, eur("720").Amount.Equal(s.Summary.DiscountDelta[0].Amount), "%s", s.Summary.DiscountDelta[0])
			require.True(t, eur("100").Amount.Equal(s.Changes[0].Benefits.MDFDelta.Amount))
			require.True(t, decimal.RequireFromString("22").Equal(s.Changes[0].Benefits.Simulated.Discount.Percent))
			require.Zero(t, s.Summary.ProtectionLonger)
		}},
		{"PlatinumOnly", func(doc map[string]any) {
			section(doc, "eligibility", "opportunity")["tiers"] = []string{"platinum"}
		}, func(t *testing.T, s Simulation) {
			require.Equal(t, 4, s.Summary.Refused)
			require.Equal(t, 4, s.Summary.Changed)
			require.Equal(t, domain.ENOTELIGIBLE, s.Changes[0].Refused.Code)
		}},
		{"AnotherDesk", func(doc map[string]any) {
			section(doc, "routing")["groups"] = []map[string]any{{"name": "gold-desk", "tiers": []string{"gold"}}, {"name": "channel-operations"}}
		}, func(t *testing.T, s Simulation) {
			require.Equal(t, 4, s.Summary.OtherGroup)
			require.Equal(t, []ReviewChange{{Attempt: 1, RecordedGroup: "channel-operations", SimulatedGroup: "gold-desk",
				NotMet: []string{"enabled", "proof", "min_decided", "approval_rate", "win_rate"}}}, s.Changes[0].Reviews)
		}},
		{"AutomaticApproval", func(doc map[string]any) {
			a := section(doc, "auto_approval")
			a["enabled"], a["min_decided"], a["require_proof"] = true, 0, false
			a["min_approval_rate_percent"], a["min_win_rate_percent"] = "0", "0"
		}, func(t *testing.T, s Simulation) {
			// All four at once; the three approved an hour later would
			// have been protected from the verdict, an hour earlier.
			require.Equal(t, 4, s.Summary.NowAutomatic)
			require.Equal(t, 3, s.Summary.ProtectionShorter)
			require.Equal(t, -3*time.Hour, s.Summary.ProtectionDelta)
			require.True(t, s.Changes[3].Reviews[0].SimulatedAuto)
			require.Nil(t, s.Changes[3].Protection, "the rejected one has no approval to move")
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := policyDoc(t, svc)
			c.edit(doc)
			s := simulate(t, svc, doc, from, to)
			require.Equal(t, from, s.From)
			c.check(t, s)
		})
	}
	require.Equal(t, head, store.Head(), "a simulation writes nothing")

	t.Run("WholeLedger", func(t *testing.T) {
		doc := policyDoc(t, svc)
		section(doc, "protection", "opportunity")["term"] = "100d"
		s := simulate(t, svc, doc, time.Time{}, time.Time{})
		require.Equal(t, 5, s.Summary.Registrations)
		require.Equal(t, 4, s.Summary.ProtectionLonger)
		require.Equal(t, 40*domain.Day, s.Summary.ProtectionDelta)
		require.Nil(t, s.To)
	})
	t.Run("Refusals", func(t *testing.T) {
		_, err := svc.SimulatePolicy(context.Background(), partnerCall("acme").Caller, []byte(`{}`), from, to)
		require.Equal(t, domain.EFORBIDDEN, domain.ErrorCode(err))
		_, err = svc.SimulatePolicy(context.Background(), executive.Caller, []byte(`{"protection": 5}`), from, to)
		require.Equal(t, domain.EINVALID, domain.ErrorCode(err))
	})
}

// Over random ledgers (the state property test's commands), the policy in
// force, simulated unchanged, reports no difference: the simulation
// decides every submission from exactly what the service decided it from.
func TestSimulatePolicy_UnchangedFindsNothing(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		clock := domain.NewManualClock(stateT0)
		store, err := eventstore.OpenSQLite(filepath.Join(t.TempDir(), "ledger.db"), eventstore.Options{Clock: clock})
		require.NoError(rt, err)
		defer store.Close()
		svc := startService(rt, store, clock, "")
		defer svc.Stop()
		ctx := context.Background()
		if rapid.Bool().Draw(rt, "automation") {
			// Approval automation from the start, with thresholds the
			// random ledgers reach, so that track records decide.
			p := domain.DefaultPolicy()
			p.Version = 0
			a := &p.AutoApproval
			a.Enabled, a.RequireProof, a.MinDecided = true, false, rapid.IntRange(1, 2).Draw(rt, "min decided")
			a.MinApprovalRate, a.MinWinRate = decimal.Zero, decimal.Zero
			v, err := svc.ProposePolicy(ctx, Call{Caller: Caller{Actor: domain.Actor{ID: "admin", Role: domain.RoleAdmin}}}, p)
			require.NoError(rt, err)
			_, err = svc.PublishPolicy(ctx, executive, domain.Publication{Version: v.Policy.Version, EffectiveFrom: clock.Now(), Emergency: true, Rationale: "automation"})
			require.NoError(rt, err)
			// Each partner's first registration approved: a record
			// to decide the later ones by.
			for i, partner := range statePartners {
				id, _, err := svc.Create(ctx, partnerCall(partner), domain.TypeOpportunity, stateDetails(clock.Now(), 3*i, "HR"), true)
				require.NoError(rt, err)
				_, _ = svc.Approve(ctx, reviewer, id)
			}
		}
		var regs []uuid.UUID
		for range rapid.IntRange(4, 40).Draw(rt, "steps") {
			step(rt, ctx, svc, clock, &regs)
		}
		raw, err := json.Marshal(svc.Policy())
		require.NoError(rt, err)
		head := store.Head()
		sim, err := svc.SimulatePolicy(ctx, executive.Caller, raw, time.Time{}, time.Time{})
		require.NoError(rt, err)
		require.Empty(rt, sim.Changes)
		require.Equal(rt, head, store.Head())
	})
}
