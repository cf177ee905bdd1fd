package app

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
	"github.com/dealreg/dealreg/projections"
)

var stateT0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startService starts a service on store with its state at statePath ("":
// in memory, rebuilt from scratch).
func startService(t require.TestingT, store domain.EventStore, clock domain.Clock, statePath string) *Service {
	svc := New(Config{Store: store, Clock: clock, Logger: quietLogger(), StatePath: statePath})
	// Analytics keeps almost no fact: the others are read back from views.db.
	svc.Analytics.MaxCached = 2
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, svc.Start(ctx, false))
	enrolStatePartners(t, svc)
	return svc
}

// publishAutomation publishes at once a policy that approves automatically
// the submissions of a partner with one approval in its record, and routes
// the others by region: the track records then decide.
func publishAutomation(t require.TestingT, svc *Service) {
	p := domain.DefaultPolicy()
	p.Version, p.Summary = 0, "automation"
	p.AutoApproval = domain.AutoApproval{Enabled: true, Types: []domain.RegistrationType{domain.TypeOpportunity},
		Tiers: []domain.PartnerTier{domain.TierGold}, MaxValue: map[string]decimal.Decimal{"EUR": decimal.NewFromInt(15000)},
		TrackRecordWindow: 365 * domain.Day, MinDecided: 1, MinApprovalRate: decimal.NewFromInt(50)}
	p.Routing.Groups = []domain.ReviewGroup{{Name: "large", MinValue: map[string]decimal.Decimal{"EUR": decimal.NewFromInt(15000)}}, {Name: "rest"}}
	ctx := context.Background()
	admin := Call{Caller: Caller{Actor: domain.Actor{ID: "admin", Role: domain.RoleAdmin}}}
	v, err := svc.ProposePolicy(ctx, admin, p)
	require.NoError(t, err)
	_, err = svc.PublishPolicy(ctx, executive, domain.Publication{Version: v.Policy.Version, EffectiveFrom: svc.Clock().Now(), Emergency: true, Rationale: "test"})
	require.NoError(t, err)
}

// enrolStatePartners enrols the partners the tests register for, once per
// ledger: a partner the directory does not know is eligible for nothing.
func enrolStatePartners(t require.TestingT, svc *Service) {
	admin := Call{Caller: Caller{Actor: domain.Actor{ID: "admin", Role: domain.RoleAdmin}}}
	for _, p := range statePartners {
		if _, ok := svc.Directory.Partner(p); ok {
			continue
		}
		_, err := svc.AddPartner(context.Background(), admin, domain.Partner{ID: p, Name: p, Tier: domain.TierGold})
		require.NoError(t, err)
	}
}

// probeAccounts are checked against the claim book to compare books.
var probeAccounts = []string{"Telefónica", "TELEFONICA S.A.", "Banco Santander", "Repsol", "Inditex", "Iberdrola", "Acme Robotics", "Nueva"}

// snapshot is everything a service answers from its read side, in the
// JSON the API would serve, plus what its claim book decides on probes.
func snapshot(t require.TestingT, s *Service, at time.Time) string {
	out := map[string]any{}
	var all []projections.RegistrationView
	cursor := ""
	for {
		items, next, err := s.Registrations.List(projections.ListFilter{}, cursor, 7)
		require.NoError(t, err)
		all = append(all, items...)
		if next == "" {
			break
		}
		cursor = next
	}
	out["list"] = all
	details := map[string]any{}
	for _, v := range all {
		d, ok := s.Registrations.Detail(v.ID)
		require.True(t, ok)
		details[v.ID.String()] = map[string]any{"detail": d, "history": s.Registrations.History(v.ID)}
	}
	out["details"] = details
	q, err := s.Registrations.ReviewQueue(0)
	require.NoError(t, err)
	out["queue"] = q
	expiring, err := s.Registrations.ExpiringBefore(at.Add(400 * domain.Day))
	require.NoError(t, err)
	out["expiring"] = expiring
	sum, err := s.Registrations.Summary(projections.ListFilter{}, []string{"partner", "status", "type", "country", "region", "vertical", "stage", "quarter", "product_line"})
	require.NoError(t, err)
	out["summary"] = sum
	stale, _, err := s.Registrations.List(projections.ListFilter{StaleBefore: at.Add(-10 * domain.Day)}, "", projections.MaxListLimit)
	require.NoError(t, err)
	out["stale"] = stale
	owners := map[string]any{}
	for _, c := range companyPool[:4] {
		o, err := s.Registrations.Ownership(context.Background(), c.name, "", projections.Moment{})
		require.NoError(t, err)
		owners[c.name] = o
	}
	out["ownership"] = owners
	out["conflicts"] = s.Conflicts.Queue(projections.QueueFilter{})
	out["pipeline"] = s.Pipeline.List(false)
	out["partners"] = s.Directory.Partners()
	out["mdf_budgets"] = s.MDF.Budgets("", "")
	out["mdf_requests"] = s.MDF.Requests(projections.MDFRequestFilter{})
	out["presales"] = s.Presales.Resources()
	out["policies"] = s.Policies.Versions(at)
	tracks := map[string]domain.TrackRecord{}
	for _, p := range statePartners {
		pv, _ := s.Directory.Partner(p)
		tracks[p] = s.tracks.record(p, pv.Standing, 365*domain.Day, at)
	}
	out["tracks"] = tracks
	everything := projections.AnalyticsFilter{Explain: true}
	analytics, err := s.Analytics.Registrations(everything, []string{"partner", "region", "tier"})
	require.NoError(t, err)
	top, err := s.Analytics.TopPartners(everything, 0, "week")
	require.NoError(t, err)
	consistency, err := s.Analytics.Consistency(everything)
	require.NoError(t, err)
	ratings, err := s.Analytics.Ratings(everything)
	require.NoError(t, err)
	// Without explain, whole months are summed from the cohorts: the whole
	// ledger, and a period cut inside months (edges from the facts).
	summed, err := s.Analytics.Registrations(projections.AnalyticsFilter{}, []string{"partner", "region", "tier"})
	require.NoError(t, err)
	cut := projections.AnalyticsFilter{From: stateT0.Add(15*domain.Day + time.Hour), To: at.Add(-3 * domain.Day)}
	summedCut, err := s.Analytics.Registrations(cut, []string{"tier"})
	require.NoError(t, err)
	out["analytics"] = map[string]any{"registrations": analytics, "conflicts": s.Analytics.Conflicts(everything),
		"consistency": consistency, "top": top, "ratings": ratings, "summed": summed, "summed_cut": summedCut}
	s.checker.mu.Lock()
	probes := map[string]domain.Finding{}
	for i, name := range probeAccounts {
		sub := domain.RegistrationSubmitted{
			RegistrationID: uuid.NewSHA1(uuid.Nil, []byte(name)), PartnerID: fmt.Sprint("probe-", i), Type: domain.TypeOpportunity, Attempt: 1,
			Details: domain.Details{Account: domain.Account{CompanyName: name, Country: "ES"}},
		}
		probes[name] = s.checker.book.Check(sub, at)
	}
	out["book_len"] = s.checker.book.Len()
	s.checker.mu.Unlock()
	out["probes"] = probes
	b, err := json.MarshalIndent(out, "", " ")
	require.NoError(t, err)
	return string(b)
}

// pipelineNow is what the registration list and the pipeline summary
// answer now (before == 0) or as of the moment just before position
// before, as JSON: the whole list in two orders, paged, and a summary
// grouped by every key.
func pipelineNow(t require.TestingT, s *Service, before uint64, sorts ...projections.ListSort) string {
	out := map[string]any{}
	if sorts == nil {
		sorts = []projections.ListSort{{}, {Field: "value", Desc: true}, {Field: "expires"}}
	}
	for _, sort := range sorts {
		var all []projections.RegistrationView
		cursor := ""
		for {
			items, next, err := s.Registrations.List(projections.ListFilter{Before: before, Sort: sort}, cursor, 3)
			require.NoError(t, err)
			all = append(all, items...)
			if next == "" {
				break
			}
			cursor = next
		}
		out["list "+sort.Field] = all
	}
	sum, err := s.Registrations.Summary(projections.ListFilter{Before: before}, []string{"partner", "status", "type", "country", "region", "vertical", "stage", "quarter", "product_line"})
	require.NoError(t, err)
	out["summary"] = sum
	b, err := json.Marshal(out)
	require.NoError(t, err)
	return string(b)
}

// pipelineHistory is the summary as of every position below head, and
// the list (in creation order) as of every eighth: what
// registration_history holds, compared between states. (An as-of list
// folds each listed registration again from the ledger, so it is sampled
// to keep the property quick.)
func pipelineHistory(t require.TestingT, s *Service, head uint64) []string {
	out := make([]string, 0, head)
	groups := []string{"partner", "status", "type", "country", "region", "vertical", "stage", "quarter", "product_line"}
	for pos := range head {
		if pos%8 == 7 || pos+1 == head {
			out = append(out, pipelineNow(t, s, pos+1, projections.ListSort{}))
			continue
		}
		sum, err := s.Registrations.Summary(projections.ListFilter{Before: pos + 1}, groups)
		require.NoError(t, err)
		b, err := json.Marshal(sum)
		require.NoError(t, err)
		out = append(out, string(b))
	}
	return out
}

// copyState copies a state database with its WAL as it is on disk now, as
// a crash at this instant would leave it.
func copyState(t require.TestingT, from, to string) {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(from + suffix)
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(to+suffix, b, 0o600))
	}
}

var companyPool = []struct{ name, site string }{
	{"Telefónica S.A.", "telefonica.example"}, {"TELEFONICA", ""}, {"Banco Santander", "santander.example"},
	{"Santander Bank", "santander.example"}, {"Inditex", "inditex.example"}, {"Industria de Diseño Textil", "inditex.example"},
	{"Repsol", "repsol.example"}, {"Iberdrola S.A.", "iberdrola.example"}, {"Acme Robotics Iberia", ""}, {"Nueva Pescanova", "pescanova.example"},
}

func stateDetails(now time.Time, c int, product string) domain.Details {
	return domain.Details{
		Account: domain.Account{CompanyName: companyPool[c].name, Domain: companyPool[c].site, Country: "ES"},
		Opportunity: domain.Opportunity{
			ProductLines:      []string{product},
			EstimatedValue:    domain.Money{Amount: decimal.NewFromInt(int64(10000 + c*1000)), Currency: "EUR"},
			ExpectedCloseDate: now.Add(60 * domain.Day),
		},
		Relationship: domain.Relationship{HowFound: domain.SourceInbound, FirstContactDate: now.Add(-domain.Day)},
	}
}

var (
	statePartners = []string{"acme", "globex", "initech"}
	executive     = Call{Caller: Caller{Actor: domain.Actor{ID: "exec", Role: domain.RoleExecutive}}}
	directSales   = Call{Caller: Caller{Actor: domain.Actor{ID: "ds", Role: domain.RoleDirectSales}}}
	reviewer      = Call{Caller: Caller{Actor: domain.Actor{ID: "cm", Role: domain.RoleChannelManager}}}
	mdfMarketing  = Call{Caller: Caller{Actor: domain.Actor{ID: "mkt", Role: domain.RoleChannelMarketing}}}
)

func partnerCall(p string) Call {
	return Call{Caller: Caller{Actor: domain.Actor{ID: "u-" + p, Role: domain.RolePartner, PartnerID: p}}}
}

// step runs one random command against svc; domain refusals are part of
// the game (the ledger is what it is either way).
func step(t *rapid.T, ctx context.Context, svc *Service, clock *domain.ManualClock, regs *[]uuid.UUID) {
	pick := func(label string) (uuid.UUID, bool) {
		if len(*regs) == 0 {
			return uuid.Nil, false
		}
		return (*regs)[rapid.IntRange(0, len(*regs)-1).Draw(t, label)], true
	}
	ownerOf := func(id uuid.UUID) Call {
		v, _ := svc.Registrations.Get(id)
		return partnerCall(v.PartnerID)
	}
	switch rapid.IntRange(0, 16).Draw(t, "op") {
	case 0, 1, 2:
		p := statePartners[rapid.IntRange(0, len(statePartners)-1).Draw(t, "partner")]
		c := rapid.IntRange(0, len(companyPool)-1).Draw(t, "company")
		product := rapid.SampledFrom([]string{"HR", "Payroll"}).Draw(t, "product")
		submit := rapid.IntRange(0, 5).Draw(t, "draft") > 0
		id, _, err := svc.Create(ctx, partnerCall(p), domain.TypeOpportunity, stateDetails(clock.Now(), c, product), submit)
		if err == nil {
			*regs = append(*regs, id)
		}
	case 3:
		if id, ok := pick("approve"); ok {
			_, _ = svc.Approve(ctx, reviewer, id)
		}
	case 4:
		if id, ok := pick("withdraw"); ok {
			_, _ = svc.Withdraw(ctx, ownerOf(id), id, "")
		}
	case 5:
		if id, ok := pick("reject"); ok {
			_, _ = svc.Reject(ctx, reviewer, id, domain.RejectOther, "Not a fit.", "Try again later.")
		}
	case 6:
		if id, ok := pick("return"); ok {
			if _, err := svc.Return(ctx, reviewer, id, "More please", nil); err == nil {
				_, _ = svc.Submit(ctx, ownerOf(id), id)
			}
		}
	case 7:
		if id, ok := pick("extend"); ok {
			if _, err := svc.RequestExtension(ctx, ownerOf(id), id, "long cycle"); err == nil && rapid.Bool().Draw(t, "grant") {
				v, _ := svc.Registrations.Get(id)
				_, _ = svc.GrantExtension(ctx, reviewer, id, v.ExtensionsGranted+1)
			}
		}
	case 8:
		clock.Advance(time.Duration(rapid.IntRange(1, 24*40).Draw(t, "hours")) * time.Hour)
		_, _ = svc.RunDue(ctx, clock.Now())
	case 9:
		c := rapid.IntRange(0, len(companyPool)-1).Draw(t, "direct")
		_, _ = svc.RecordDirect(ctx, directSales, domain.DirectOpportunity{
			Account: domain.Account{CompanyName: companyPool[c].name, Country: "ES"}, Owner: "rep-1",
			EstimatedValue: domain.Money{Amount: decimal.NewFromInt(5000), Currency: "EUR"}, FirstContactDate: clock.Now().Add(-2 * domain.Day),
		})
	case 10:
		a := rapid.IntRange(0, len(companyPool)-1).Draw(t, "a")
		b := rapid.IntRange(0, len(companyPool)-1).Draw(t, "b")
		if a != b {
			_ = svc.DecideAccountMatch(ctx, reviewer, companyPool[a].name, companyPool[b].name, rapid.Bool().Draw(t, "same"), "reviewed")
		}
	case 14:
		if id, ok := pick("mdf"); ok {
			_, _ = svc.Approve(ctx, reviewer, id) // most picks are not approved yet
			day := domain.Date(clock.Now().Format(time.DateOnly))
			in := domain.MDFRequestInput{Activity: domain.MDFCustomDemo, StartDate: day, EndDate: day,
				Amount: domain.Money{Amount: decimal.NewFromInt(int64(rapid.IntRange(1, 400).Draw(t, "mdf amount"))), Currency: "EUR"}}
			if n, err := svc.RequestMDF(ctx, ownerOf(id), id, in); err == nil {
				if rapid.Bool().Draw(t, "mdf approve") {
					_, _ = svc.ApproveMDF(ctx, mdfMarketing, id, n, domain.Money{}, "")
				} else {
					_, _ = svc.RejectMDF(ctx, mdfMarketing, id, n, "not now")
				}
			}
		}
	case 15:
		_, _ = svc.AddPresalesResource(ctx, reviewer, domain.PresalesResource{ID: "ana", Name: "Ana", Kind: domain.SolutionsArchitect, CapacityHours: 20})
		if id, ok := pick("presales"); ok {
			if _, err := svc.AssignPresales(ctx, reviewer, id, "ana", rapid.IntRange(1, 10).Draw(t, "hours")); err != nil {
				_, _ = svc.UnassignPresales(ctx, reviewer, id, "ana", "")
			}
		}
	case 16:
		if id, ok := pick("rate"); ok {
			_, _ = svc.RateRegistration(ctx, ownerOf(id), id, rapid.IntRange(1, 5).Draw(t, "score"), "ok")
		}
	case 11:
		open := svc.Conflicts.Queue(projections.QueueFilter{Status: "open"})
		if len(open) > 0 {
			c := open[0]
			_ = svc.DecideConflict(ctx, executive, c.ID, domain.ConflictDecision{
				Outcome: domain.OutcomeAward, Winner: c.Parties[0].Key, Rationale: "first with proof", PolicyClause: "partner-first 4.2",
			})
		}
	case 12:
		if id, ok := pick("violation"); ok {
			kind := rapid.SampledFrom(domain.ViolationKinds).Draw(t, "kind")
			_, _ = svc.RecordViolation(ctx, reviewer, id, domain.ViolationReport{Kind: kind, Statement: "found out"})
		}
	case 13:
		p := statePartners[rapid.IntRange(0, len(statePartners)-1).Draw(t, "suspend")]
		switch rapid.IntRange(0, 2).Draw(t, "standing") {
		case 0:
			_, _ = svc.SuspendPartner(ctx, reviewer, p, clock.Now().Add(time.Duration(rapid.IntRange(1, 60).Draw(t, "days"))*domain.Day), "audit")
		case 1:
			_, _ = svc.ReinstatePartner(ctx, executive, p, "appeal")
		case 2:
			_, _ = svc.RecordCredential(ctx, reviewer, p, domain.Credential{Kind: domain.CredentialTraining, Name: "101", Issued: clock.Now()})
		}
	}
}

func init() {
	// Each case starts four services on real files: fewer cases than
	// rapid's default keep the suite quick; -rapid.checks overrides.
	if f := flag.Lookup("rapid.checks"); f != nil && f.Value.String() == f.DefValue {
		_ = f.Value.Set("30")
	}
}

// TestState_IncrementalResumedRebuiltAgree is the read side's property:
// over random command sequences, the views, the claim book and the
// verdicts built incrementally (with a stop and a resume from the state
// database in the middle), resumed from a crash image of the state
// database plus the tail, and rebuilt from scratch are identical; and the
// restarts append nothing.
func TestState_IncrementalResumedRebuiltAgree(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		dir := t.TempDir()
		clock := domain.NewManualClock(stateT0)
		store, err := eventstore.OpenSQLite(filepath.Join(dir, "ledger.db"), eventstore.Options{Clock: clock})
		require.NoError(rt, err)
		defer store.Close()
		ctx := context.Background()
		statePath := filepath.Join(dir, "views.db")
		crashPath := filepath.Join(dir, "crash.db")

		n := rapid.IntRange(4, 40).Draw(rt, "steps")
		split := rapid.IntRange(0, n).Draw(rt, "split")
		svc := startService(rt, store, clock, statePath)
		if rapid.Bool().Draw(rt, "automation") {
			publishAutomation(rt, svc)
		}
		var regs []uuid.UUID
		captured := map[uint64]string{} // position -> the list and summary then
		for i := range n {
			if i == split {
				copyState(rt, statePath, crashPath)
				svc.Stop()
				svc = startService(rt, store, clock, statePath) // resumed
			}
			step(rt, ctx, svc, clock, &regs)
			// Capture the list and summary when the read side has applied
			// the whole ledger and nothing is in flight (the head and the
			// checkpoint agree before and after).
			if h := store.Head(); h > 0 {
				require.NoError(rt, svc.WaitFor(ctx, h-1))
				if svc.Registrations.Checkpoint() == h {
					now := pipelineNow(rt, svc, 0)
					if store.Head() == h && svc.Registrations.Checkpoint() == h {
						captured[h-1] = now
					}
				}
			}
		}
		if store.Head() > 0 {
			require.NoError(rt, svc.WaitFor(ctx, store.Head()-1))
		}
		if split == n {
			copyState(rt, statePath, crashPath)
		}
		live := snapshot(rt, svc, clock.Now())
		head := store.Head()
		// As of each captured moment, the list and summary are what they
		// were then.
		for pos, then := range captured {
			require.Equal(rt, then, pipelineNow(rt, svc, pos+1), "as of position %d", pos)
		}
		liveHistory := pipelineHistory(rt, svc, head)
		svc.Stop()

		resumed := startService(rt, store, clock, crashPath)
		require.Equal(rt, live, snapshot(rt, resumed, clock.Now()), "resumed from a crash image plus the tail")
		require.Equal(rt, liveHistory, pipelineHistory(rt, resumed, head), "history resumed from a crash image plus the tail")
		resumed.Stop()
		again := startService(rt, store, clock, statePath)
		require.Equal(rt, live, snapshot(rt, again, clock.Now()), "restarted on its own state")
		again.Stop()
		rebuilt := startService(rt, store, clock, "")
		require.Equal(rt, live, snapshot(rt, rebuilt, clock.Now()), "rebuilt from scratch")
		require.Equal(rt, liveHistory, pipelineHistory(rt, rebuilt, head), "history rebuilt from scratch")
		rebuilt.Stop()
		require.Equal(rt, head, store.Head(), "restarts re-decide and re-append nothing")

		// Every verdict is what a fresh book decides from the ledger before
		// its submission.
		events, err := store.ReadAll(ctx, domain.ReadAllOptions{})
		require.NoError(rt, err)
		book := domain.NewClaimBook()
		decided := map[string]domain.Finding{}
		for _, rec := range events {
			ev, err := domain.DecodeEvent(rec.Type, rec.SchemaVersion, rec.Data)
			require.NoError(rt, err)
			switch e := ev.(type) {
			case domain.RegistrationSubmitted:
				decided[fmt.Sprint(e.RegistrationID, e.Attempt)] = book.Check(e, rec.RecordedAt)
			case domain.RegistrationVerdictRecorded:
				f := decided[fmt.Sprint(e.RegistrationID, e.Attempt)]
				require.Equal(rt, f.Verdict, e.Verdict)
				require.Equal(rt, f.Matches, e.Matches)
				require.Equal(rt, f.OwnClaim, e.OwnClaim)
			}
			book.ApplyAt(ev, rec.Position, rec.RecordedAt)
		}
		// Every automatic approval, routing and benefit is what the rules
		// decide from the ledger before it (replay_decisions_test.go).
		requireDecisionsReplay(rt, events)
	})
}

// A possible duplicate of more claims than a case may hold opens a case
// with the submission and its best matches, not none.
func TestAutoConflict_CapsParties(t *testing.T) {
	s := New(Config{Logger: quietLogger()})
	c := s.checker
	f := domain.Finding{Attempt: 1, Verdict: domain.VerdictPossibleDuplicate, Reason: "many alike"}
	var self domain.RegistrationSubmitted
	var rec domain.RecordedEvent
	for i := range domain.MaxConflictParties + 5 {
		sub := domain.RegistrationSubmitted{RegistrationID: uuid.New(), PartnerID: fmt.Sprint("p", i), Type: domain.TypeOpportunity,
			Attempt: 1, Details: stateDetails(stateT0, 0, "HR")}
		c.book.ApplyAt(sub, uint64(i), stateT0)
		self, rec = sub, domain.RecordedEvent{Position: uint64(i), RecordedAt: stateT0}
		if i < domain.MaxConflictParties+4 {
			f.Matches = append(f.Matches, sub.RegistrationID)
		}
	}
	opening := c.autoConflict(rec, self, f)
	require.NotNil(t, opening, "a case opens")
	ev, err := domain.DecodeEvent(opening.Type, opening.SchemaVersion, opening.Data)
	require.NoError(t, err)
	require.Len(t, ev.(domain.ConflictOpened).Parties, domain.MaxConflictParties)
}
