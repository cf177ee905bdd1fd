package domain_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// autoPolicy is version 1 with auto-approval on: opportunities of gold and
// platinum partners under 100,000 USD, with proof, from a partner with 5
// decisions in a year, 90% approved and 30% won; three review groups.
func autoPolicy() domain.Policy {
	p := domain.DefaultPolicy()
	p.AutoApproval.Enabled = true
	p.ReviewEscalateAfter = 6 * time.Hour
	p.Routing.Groups = []domain.ReviewGroup{
		{Name: "enterprise", MinValue: map[string]decimal.Decimal{"USD": decimal.NewFromInt(250000)}},
		{Name: "northeast-healthcare", Regions: []string{"Northeast"}, Industries: []string{"Healthcare"}},
		{Name: "platinum", Tiers: []domain.PartnerTier{domain.TierPlatinum}},
		{Name: "channel-operations"},
	}
	return p
}

// provenRecord is a track record that meets autoPolicy: 10 decided, 9
// approved (exactly 90%), 10 ended, 3 won (exactly 30%).
func provenRecord() domain.TrackRecord {
	return domain.TrackRecord{From: submitAt.Add(-365 * domain.Day), To: submitAt, Decided: 10, Approved: 9, Ended: 10, Won: 3}
}

// cleanSubmission is an opportunity of 50,000 USD with one proof item in
// the Northeast, in healthcare.
func cleanSubmission() domain.RegistrationSubmitted {
	d := validDetails()
	d.Opportunity.EstimatedValue = domain.Money{Amount: decimal.NewFromInt(50000), Currency: "USD"}
	d.Account.Region, d.Account.Industry = "Northeast", "Healthcare"
	d.Proof = []domain.ProofItem{{Kind: domain.ProofBANT, Answers: []domain.Answer{{Question: "Budget?", Answer: "Approved"}}}}
	return domain.RegistrationSubmitted{RegistrationID: uuid.New(), PartnerID: "partner-1", Type: domain.TypeOpportunity, Attempt: 1, Details: d.Normalize(), PolicyVersion: 1, At: submitAt}
}

func TestPlanReview_AutoApprovalConditions(t *testing.T) {
	gold := domain.Partner{ID: "partner-1", Name: "P1", Tier: domain.TierGold}
	tests := []struct {
		name    string
		edit    func(p *domain.Policy, s *domain.RegistrationSubmitted, partner *domain.Partner, st *domain.PartnerStanding, tr *domain.TrackRecord, v *domain.Verdict)
		failing []string // the conditions that fail; none: approved
	}{
		{"every condition holds, at the exact minimum rates", func(*domain.Policy, *domain.RegistrationSubmitted, *domain.Partner, *domain.PartnerStanding, *domain.TrackRecord, *domain.Verdict) {
		}, nil},
		{"disabled", func(p *domain.Policy, _ *domain.RegistrationSubmitted, _ *domain.Partner, _ *domain.PartnerStanding, _ *domain.TrackRecord, _ *domain.Verdict) {
			p.AutoApproval.Enabled = false
		}, []string{domain.CondEnabled}},
		{"possible duplicate", func(_ *domain.Policy, _ *domain.RegistrationSubmitted, _ *domain.Partner, _ *domain.PartnerStanding, _ *domain.TrackRecord, v *domain.Verdict) {
			*v = domain.VerdictPossibleDuplicate
		}, []string{domain.CondVerdict}},
		{"a named account", func(_ *domain.Policy, s *domain.RegistrationSubmitted, _ *domain.Partner, _ *domain.PartnerStanding, _ *domain.TrackRecord, _ *domain.Verdict) {
			s.Type = domain.TypeNamedAccount
		}, []string{domain.CondType}},
		{"a silver partner", func(_ *domain.Policy, _ *domain.RegistrationSubmitted, p *domain.Partner, _ *domain.PartnerStanding, _ *domain.TrackRecord, _ *domain.Verdict) {
			p.Tier = domain.TierSilver
		}, []string{domain.CondTier}},
		{"suspended", func(_ *domain.Policy, _ *domain.RegistrationSubmitted, _ *domain.Partner, st *domain.PartnerStanding, _ *domain.TrackRecord, _ *domain.Verdict) {
			st.Apply(domain.PartnerSuspended{PartnerID: "partner-1", Until: submitAt.Add(domain.Day), At: t0})
		}, []string{domain.CondStanding}},
		{"a violation in the window", func(_ *domain.Policy, _ *domain.RegistrationSubmitted, _ *domain.Partner, _ *domain.PartnerStanding, tr *domain.TrackRecord, _ *domain.Verdict) {
			tr.Violations = 1
		}, []string{domain.CondStanding}},
		{"value at the threshold", func(_ *domain.Policy, s *domain.RegistrationSubmitted, _ *domain.Partner, _ *domain.PartnerStanding, _ *domain.TrackRecord, _ *domain.Verdict) {
			s.Details.Opportunity.EstimatedValue.Amount = decimal.NewFromInt(100000)
		}, []string{domain.CondValue}},
		{"a currency without a threshold", func(_ *domain.Policy, s *domain.RegistrationSubmitted, _ *domain.Partner, _ *domain.PartnerStanding, _ *domain.TrackRecord, _ *domain.Verdict) {
			s.Details.Opportunity.EstimatedValue.Currency = "JPY"
		}, []string{domain.CondValue}},
		{"no proof", func(_ *domain.Policy, s *domain.RegistrationSubmitted, _ *domain.Partner, _ *domain.PartnerStanding, _ *domain.TrackRecord, _ *domain.Verdict) {
			s.Details.Proof = nil
		}, []string{domain.CondProof}},
		{"proof not required", func(p *domain.Policy, s *domain.RegistrationSubmitted, _ *domain.Partner, _ *domain.PartnerStanding, _ *domain.TrackRecord, _ *domain.Verdict) {
			p.AutoApproval.RequireProof = false
			s.Details.Proof = nil
		}, nil},
		{"too few decided", func(_ *domain.Policy, _ *domain.RegistrationSubmitted, _ *domain.Partner, _ *domain.PartnerStanding, tr *domain.TrackRecord, _ *domain.Verdict) {
			*tr = domain.TrackRecord{Decided: 4, Approved: 4, Ended: 3, Won: 3}
		}, []string{domain.CondTrackRecord}},
		{"approval rate just under", func(_ *domain.Policy, _ *domain.RegistrationSubmitted, _ *domain.Partner, _ *domain.PartnerStanding, tr *domain.TrackRecord, _ *domain.Verdict) {
			tr.Decided, tr.Approved = 9, 8 // 88.89%
		}, []string{domain.CondApprovalRate}},
		{"win rate just under", func(_ *domain.Policy, _ *domain.RegistrationSubmitted, _ *domain.Partner, _ *domain.PartnerStanding, tr *domain.TrackRecord, _ *domain.Verdict) {
			tr.Ended, tr.Won = 7, 2 // 28.57%
		}, []string{domain.CondWinRate}},
		{"nothing ended yet", func(_ *domain.Policy, _ *domain.RegistrationSubmitted, _ *domain.Partner, _ *domain.PartnerStanding, tr *domain.TrackRecord, _ *domain.Verdict) {
			tr.Ended, tr.Won = 0, 0
		}, []string{domain.CondWinRate}},
		{"a new partner fails several at once", func(_ *domain.Policy, s *domain.RegistrationSubmitted, p *domain.Partner, _ *domain.PartnerStanding, tr *domain.TrackRecord, _ *domain.Verdict) {
			p.Tier = domain.TierRegistered
			*tr = domain.TrackRecord{}
			s.Details.Proof = nil
		}, []string{domain.CondTier, domain.CondProof, domain.CondTrackRecord, domain.CondApprovalRate, domain.CondWinRate}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, sub, partner, standing, track, verdict := autoPolicy(), cleanSubmission(), gold, domain.PartnerStanding{}, provenRecord(), domain.VerdictClear
			tc.edit(&p, &sub, &partner, &standing, &track, &verdict)
			plan, ok := domain.PlanReview(p, sub, verdict, partner, standing, track, submitAt)
			require.True(t, ok)
			var failing []string
			for _, c := range plan.Conditions {
				require.NotEmpty(t, c.Required, c.Name)
				require.NotEmpty(t, c.Actual, c.Name)
				if !c.Met {
					failing = append(failing, c.Name)
				}
			}
			require.Equal(t, tc.failing, failing)
			require.Equal(t, len(tc.failing) == 0, plan.AutoApprove)
			if plan.AutoApprove {
				require.Empty(t, plan.Group)
				return
			}
			require.NotEmpty(t, plan.Group)
			require.Equal(t, submitAt.Add(48*time.Hour), plan.DueAt, "the review SLA from the submission's time")
			require.Equal(t, submitAt.Add(36*time.Hour), plan.RemindAt, "12 hours before")
			require.Equal(t, submitAt.Add(54*time.Hour), plan.EscalateAt, "6 hours after")
			require.Equal(t, domain.RoleChannelDirector, plan.EscalateTo)
		})
	}
	t.Run("a duplicate is not reviewed", func(t *testing.T) {
		_, ok := domain.PlanReview(autoPolicy(), cleanSubmission(), domain.VerdictDuplicate, gold, domain.PartnerStanding{}, provenRecord(), submitAt)
		require.False(t, ok)
	})
	t.Run("the figures are recorded", func(t *testing.T) {
		plan, _ := domain.PlanReview(autoPolicy(), cleanSubmission(), domain.VerdictClear, gold, domain.PartnerStanding{}, provenRecord(), submitAt)
		require.Equal(t, provenRecord(), plan.Figures)
		require.Equal(t, "90", plan.Figures.ApprovalRate().String())
		require.Equal(t, "30", plan.Figures.WinRate().String())
	})
}

func TestRouting_GroupFor(t *testing.T) {
	rt := autoPolicy().Routing
	usd := func(n int64) domain.Money { return domain.Money{Amount: decimal.NewFromInt(n), Currency: "USD"} }
	ne := domain.Account{Region: "northeast", Industry: "healthcare"}
	tests := []struct {
		name  string
		acc   domain.Account
		tier  domain.PartnerTier
		value domain.Money
		group string
	}{
		{"large deals first", ne, domain.TierPlatinum, usd(250000), "enterprise"},
		{"just under the threshold: the region", ne, domain.TierGold, usd(249999), "northeast-healthcare"},
		{"a threshold in another currency does not match", ne, domain.TierGold, domain.Money{Amount: decimal.NewFromInt(900000), Currency: "EUR"}, "northeast-healthcare"},
		{"region without the vertical", domain.Account{Region: "Northeast", Industry: "Retail"}, domain.TierPlatinum, usd(1000), "platinum"},
		{"everything else", domain.Account{Region: "West"}, domain.TierSilver, usd(1000), "channel-operations"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, _ := rt.GroupFor(tc.acc, tc.tier, tc.value)
			require.Equal(t, tc.group, g.Name)
		})
	}
}

func TestRegistration_Automate(t *testing.T) {
	p := autoPolicy()
	gold := domain.Partner{ID: "partner-1", Name: "P1", Tier: domain.TierGold}
	t.Run("approved at once by system, the rule and figures recorded", func(t *testing.T) {
		r := reach(t, domain.StatusCleared)
		plan, _ := domain.PlanReview(p, cleanSubmission(), domain.VerdictClear, gold, domain.PartnerStanding{}, provenRecord(), verdictAt)
		events := must(t)(r.Automate(plan, p, verdictAt))
		require.Len(t, events, 2)
		auto := events[0].(domain.RegistrationAutoApproved)
		require.Equal(t, domain.AutoApprovalRule, auto.Rule)
		require.Equal(t, 1, auto.PolicyVersion)
		require.Len(t, auto.Conditions, 10)
		require.Equal(t, provenRecord(), auto.Figures)
		approved := events[1].(domain.RegistrationApproved)
		require.Equal(t, domain.SystemActorID, approved.ApprovedBy)
		require.Equal(t, verdictAt.Add(90*domain.Day), approved.Terms.ProtectionEnd)
		apply(t, r, events)
		require.Equal(t, domain.StatusActive, r.Status())
		require.True(t, r.Review().AutoApproved)
	})
	t.Run("routed, with the conditions that failed", func(t *testing.T) {
		r := reach(t, domain.StatusCleared)
		plan, _ := domain.PlanReview(p, cleanSubmission(), domain.VerdictClear, domain.Partner{ID: "partner-1", Tier: domain.TierSilver}, domain.PartnerStanding{}, provenRecord(), verdictAt)
		events := must(t)(r.Automate(plan, p, verdictAt))
		routed := events[0].(domain.RegistrationRouted)
		require.Equal(t, "northeast-healthcare", routed.Group)
		require.Equal(t, []string{"region Northeast", "industry Healthcare"}, routed.Criteria)
		require.Len(t, routed.NotAutoApproved, 1)
		require.Equal(t, domain.CondTier, routed.NotAutoApproved[0].Name)
		apply(t, r, events)
		require.Equal(t, domain.StatusCleared, r.Status())
		due, ok := r.ReviewDeadline(p)
		require.True(t, ok)
		require.Equal(t, verdictAt.Add(48*time.Hour), due)
	})
	t.Run("only once a verdict let it through", func(t *testing.T) {
		_, err := reach(t, domain.StatusSubmitted).Automate(domain.ReviewPlan{}, p, verdictAt)
		require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err))
	})
}

func TestRegistration_ReviewDue(t *testing.T) {
	p := autoPolicy()
	routed := func(t *testing.T) *domain.Registration {
		r := reach(t, domain.StatusCleared)
		plan, _ := domain.PlanReview(p, cleanSubmission(), domain.VerdictClear, domain.Partner{ID: "partner-1", Tier: domain.TierSilver}, domain.PartnerStanding{}, provenRecord(), verdictAt)
		return apply(t, r, must(t)(r.Automate(plan, p, verdictAt)))
	}
	due := verdictAt.Add(48 * time.Hour)
	t.Run("reminded, then escalated, each once", func(t *testing.T) {
		r := routed(t)
		require.Empty(t, r.ReviewDue(due.Add(-12*time.Hour-time.Second), p), "before the reminder time")
		events := r.ReviewDue(due.Add(-12*time.Hour), p)
		require.Len(t, events, 1)
		rem := events[0].(domain.RegistrationReviewReminderSent)
		require.Equal(t, "northeast-healthcare", rem.Group)
		require.Equal(t, due, rem.DueAt)
		apply(t, r, events)
		require.Empty(t, r.ReviewDue(due, p), "reminded; due but not past the escalation time")
		require.Empty(t, r.ReviewDue(due.Add(6*time.Hour), p), "escalated only once past it")
		events = r.ReviewDue(due.Add(6*time.Hour+time.Second), p)
		require.Len(t, events, 1)
		esc := events[0].(domain.RegistrationReviewEscalated)
		require.Equal(t, domain.RoleChannelDirector, esc.To)
		require.Equal(t, "northeast-healthcare", esc.FromGroup)
		apply(t, r, events)
		require.Empty(t, r.ReviewDue(due.Add(30*domain.Day), p))
		_, more := r.NextReviewAction(p)
		require.False(t, more)
	})
	t.Run("a late run escalates without reminding", func(t *testing.T) {
		r := routed(t)
		events := r.ReviewDue(due.Add(domain.Day), p)
		require.Len(t, events, 1)
		require.IsType(t, domain.RegistrationReviewEscalated{}, events[0])
	})
	t.Run("a decided registration is not chased", func(t *testing.T) {
		r := routed(t)
		apply(t, r, must(t)(r.Approve(manager, p, due.Add(-time.Hour))))
		require.Empty(t, r.ReviewDue(due.Add(domain.Day), p))
	})
	t.Run("a resubmission starts over", func(t *testing.T) {
		r := routed(t)
		apply(t, r, r.ReviewDue(due.Add(domain.Day), p))
		apply(t, r, must(t)(r.Return(manager, "Which budget?", nil, due.Add(domain.Day))))
		require.Empty(t, r.ReviewDue(due.Add(2*domain.Day), p), "with the partner")
		require.Equal(t, domain.ReviewState{}, apply(t, r, must(t)(r.Submit(partner, p, due.Add(2*domain.Day)))).Review())
	})
	t.Run("a submission never routed takes the times of its policy", func(t *testing.T) {
		r := reach(t, domain.StatusCleared)
		events := r.ReviewDue(submitAt.Add(48*time.Hour+6*time.Hour+time.Second), p)
		require.Len(t, events, 1)
		require.Equal(t, submitAt.Add(48*time.Hour), events[0].(domain.RegistrationReviewEscalated).DueAt)
	})
}

func TestTrackBook(t *testing.T) {
	b := domain.NewTrackBook()
	year := 365 * domain.Day
	sub := func(partner string) uuid.UUID {
		id := uuid.New()
		b.Apply(domain.RegistrationSubmitted{RegistrationID: id, PartnerID: partner, Attempt: 1, At: t0})
		return id
	}
	at := t0.Add(2 * year)
	old := sub("p1")
	b.Apply(domain.RegistrationApproved{RegistrationID: old, At: t0.Add(domain.Day)}) // outside the window
	b.Apply(domain.RegistrationClosedWon{RegistrationID: old, At: t0.Add(2 * domain.Day)})
	for i := range 4 {
		id := sub("p1")
		b.Apply(domain.RegistrationApproved{RegistrationID: id, At: at.Add(-time.Duration(100-i) * domain.Day)})
		if i%2 == 0 {
			b.Apply(domain.RegistrationClosedWon{RegistrationID: id, At: at.Add(-50 * domain.Day)})
		} else {
			b.Apply(domain.RegistrationExpired{RegistrationID: id, At: at.Add(-40 * domain.Day)})
		}
	}
	rejected := sub("p1")
	b.Apply(domain.RegistrationRejected{RegistrationID: rejected, At: at.Add(-10 * domain.Day)})
	b.Apply(domain.RegistrationClosedWon{RegistrationID: rejected, At: at.Add(-9 * domain.Day)}) // forgotten: counts nothing
	lost := sub("p1")
	b.Apply(domain.RegistrationConflictDecided{RegistrationID: lost, Result: domain.ConflictLost, At: at.Add(-5 * domain.Day)})
	dup := sub("p1")
	b.Apply(domain.RegistrationVerdictRecorded{RegistrationID: dup, Attempt: 1, Verdict: domain.VerdictDuplicate, At: at})
	b.Apply(domain.RegistrationApproved{RegistrationID: dup, At: at.Add(-domain.Day)}) // forgotten
	later := sub("p1")
	b.Apply(domain.RegistrationApproved{RegistrationID: later, At: at}) // not before at
	sub("p2")

	standing := standingOf(domain.RegistrationViolationRecorded{PartnerID: "p1", ViolationID: uuid.New(), RegistrationID: old, Kind: domain.ViolationDormantRelationship, At: at.Add(-2 * year)})
	got := b.Record("p1", standing, year, at)
	require.Equal(t, domain.TrackRecord{From: at.Add(-year), To: at, Decided: 6, Approved: 4, Ended: 4, Won: 2}, got)
	require.Equal(t, "66.67", got.ApprovalRate().String())
	require.Equal(t, "50", got.WinRate().String())
	require.Equal(t, 1, b.Record("p1", standing, 3*year, at).Violations)
	require.Equal(t, domain.TrackRecord{From: at.Add(-year), To: at}, b.Record("p2", domain.PartnerStanding{}, year, at))

	// What Changes returns restores the same book.
	partners, regs := b.Changes()
	live := map[uuid.UUID]string{}
	for id, p := range regs {
		if p != "" {
			live[id] = p
		}
	}
	again := domain.NewTrackBook()
	again.Restore(partners, live)
	require.Equal(t, got, again.Record("p1", standing, year, at))
	next := domain.RegistrationClosedLost{RegistrationID: later, At: at.Add(time.Hour)}
	b.Apply(next)
	again.Apply(next)
	require.Equal(t, b.Record("p1", standing, year, at.Add(2*time.Hour)), again.Record("p1", standing, year, at.Add(2*time.Hour)))
}

func TestReviewerAssignment(t *testing.T) {
	p := autoPolicy()
	id := uuid.New()
	usd := map[string]decimal.Decimal{"USD": decimal.NewFromInt(100000)}
	tests := []struct {
		name    string
		actor   domain.Actor
		issued  bool
		role    domain.Role
		revoked bool
		a       domain.ReviewerAssignment
		code    string
		fields  []string
	}{
		{"a director assigns a manager", director, true, domain.RoleChannelManager, false, domain.ReviewerAssignment{Group: "platinum", MaxValue: usd}, "", nil},
		{"no limit", director, true, domain.RoleChannelManager, false, domain.ReviewerAssignment{Group: "platinum"}, "", nil},
		{"not by a manager", manager, true, domain.RoleChannelManager, false, domain.ReviewerAssignment{Group: "platinum"}, domain.EFORBIDDEN, nil},
		{"a revoked token", director, true, domain.RoleChannelManager, true, domain.ReviewerAssignment{Group: "platinum"}, domain.ENOTFOUND, nil},
		{"every failing field", director, true, domain.RoleAuditor, false,
			domain.ReviewerAssignment{Group: "west", MaxValue: map[string]decimal.Decimal{"usd": decimal.NewFromInt(1)}}, domain.EINVALID, []string{"token_id", "group", "max_value.usd"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			events, err := domain.AssignReviewer(tc.actor, id, tc.issued, tc.role, tc.revoked, tc.a, p, cmdAt)
			if tc.code == "" {
				require.NoError(t, err)
				require.Equal(t, tc.a, events[0].(domain.ReviewerAssigned).Assignment)
				return
			}
			require.Equal(t, tc.code, domain.ErrorCode(err), "%v", err)
			if tc.fields != nil {
				require.Equal(t, tc.fields, fieldNames(err))
			}
		})
	}

	r := reach(t, domain.StatusCleared) // 150,000 USD, never routed
	for _, tc := range []struct {
		name string
		a    *domain.ReviewerAssignment
		ok   bool
	}{
		{"not assigned: not limited", nil, true},
		{"within the limit", &domain.ReviewerAssignment{Group: "channel-operations", MaxValue: map[string]decimal.Decimal{"USD": decimal.NewFromInt(150000)}}, true},
		{"over it", &domain.ReviewerAssignment{Group: "channel-operations", MaxValue: usd}, false},
		{"no limit in the currency", &domain.ReviewerAssignment{Group: "channel-operations", MaxValue: map[string]decimal.Decimal{"EUR": decimal.NewFromInt(900000)}}, false},
		{"no limit at all", &domain.ReviewerAssignment{Group: "channel-operations"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := r.CheckApprover(tc.a)
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.Equal(t, domain.EFORBIDDEN, domain.ErrorCode(err))
			}
		})
	}
	t.Run("another group's submission", func(t *testing.T) {
		r := reach(t, domain.StatusCleared)
		plan, _ := domain.PlanReview(p, cleanSubmission(), domain.VerdictClear, domain.Partner{ID: "partner-1", Tier: domain.TierSilver}, domain.PartnerStanding{}, provenRecord(), verdictAt)
		apply(t, r, must(t)(r.Automate(plan, p, verdictAt)))
		err := r.CheckApprover(&domain.ReviewerAssignment{Group: "platinum"})
		require.Equal(t, domain.EFORBIDDEN, domain.ErrorCode(err))
		require.NoError(t, r.CheckApprover(&domain.ReviewerAssignment{Group: "northeast-healthcare"}))
	})
}

// The policy may cap what a channel manager in no review group approves;
// directors and above are never capped, and version 1 caps nobody.
func TestRegistration_CheckUnassignedApprover(t *testing.T) {
	r := reach(t, domain.StatusCleared) // 150,000 USD
	capped := func(m map[string]decimal.Decimal) domain.Policy {
		p := domain.DefaultPolicy()
		p.Routing.UnassignedManagerMaxValue = m
		return p
	}
	usd := func(n int64) map[string]decimal.Decimal {
		return map[string]decimal.Decimal{"USD": decimal.NewFromInt(n)}
	}
	for _, tc := range []struct {
		name string
		role domain.Role
		p    domain.Policy
		ok   bool
	}{
		{"version 1 caps nobody", domain.RoleChannelManager, domain.DefaultPolicy(), true},
		{"a manager within the cap", domain.RoleChannelManager, capped(usd(150000)), true},
		{"a manager over the cap", domain.RoleChannelManager, capped(usd(149999)), false},
		{"a manager, no cap in the currency", domain.RoleChannelManager, capped(map[string]decimal.Decimal{"EUR": decimal.NewFromInt(900000)}), false},
		{"a director is never capped", domain.RoleChannelDirector, capped(usd(1)), true},
		{"an executive is never capped", domain.RoleExecutive, capped(usd(1)), true},
		{"an admin is never capped", domain.RoleAdmin, capped(usd(1)), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := r.CheckUnassignedApprover(tc.role, tc.p)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.Equal(t, domain.EFORBIDDEN, domain.ErrorCode(err))
			require.Equal(t, []string{"opportunity.estimated_value"}, fieldNames(err))
		})
	}
}
