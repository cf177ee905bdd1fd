package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// Approval automation (issue 11, bullet 4): a submission whose verdict lets
// it through is either approved at once by actor SystemActorID, when every
// condition of the policy's auto-approval holds, or routed to a group of
// reviewers with a due time from the review SLA. Both are decided by
// PlanReview from the ledger before the submission (the partner's track
// record and standing) and recorded with the verdict, in the same append,
// by the duplicate checker; a review that stays undecided is reminded and
// escalated by the scheduler (Registration.ReviewDue). See
// docs/automation.md.

// SystemActorID is the actor of automatic decisions.
const SystemActorID = "system"

// SystemActor is the identity automatic approvals are decided as.
var SystemActor = Actor{ID: SystemActorID, Role: RoleAdmin}

// AutoApprovalRule names the rule an automatic approval applied: the
// auto-approval section of the policy version it names.
const AutoApprovalRule = "auto_approval"

// The auto-approval conditions, in the order they are checked.
const (
	CondEnabled      = "enabled"
	CondVerdict      = "verdict_clear"
	CondType         = "type"
	CondTier         = "tier"
	CondStanding     = "good_standing"
	CondValue        = "value_under_threshold"
	CondProof        = "proof"
	CondTrackRecord  = "min_decided"
	CondApprovalRate = "approval_rate"
	CondWinRate      = "win_rate"
)

// TrackRecord is a partner's record over a window [From, To): the
// registrations decided (approved, rejected, won or lost in a conflict),
// those approved, those ended after approval (closed won, closed lost,
// expired) and won, and the violations recorded against it.
type TrackRecord struct {
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Decided    int       `json:"decided"`
	Approved   int       `json:"approved"`
	Ended      int       `json:"ended"`
	Won        int       `json:"won"`
	Violations int       `json:"violations"`
}

// ApprovalRate is Approved / Decided in percent, rounded to 2 decimals
// for display (conditions compare the exact fraction); 0 when nothing
// was decided.
func (t TrackRecord) ApprovalRate() decimal.Decimal { return rate(t.Approved, t.Decided) }

// WinRate is Won / Ended in percent, like ApprovalRate.
func (t TrackRecord) WinRate() decimal.Decimal { return rate(t.Won, t.Ended) }

func rate(n, of int) decimal.Decimal {
	if of == 0 {
		return decimal.Zero
	}
	return decimal.NewFromInt(int64(n)).Mul(hundred).DivRound(decimal.NewFromInt(int64(of)), 2)
}

// atLeast reports whether n/of, in percent, is at least min, exactly.
func atLeast(n, of int, min decimal.Decimal) bool {
	if of == 0 {
		return !min.IsPositive()
	}
	return decimal.NewFromInt(int64(n)).Mul(hundred).GreaterThanOrEqual(min.Mul(decimal.NewFromInt(int64(of))))
}

// Condition is one auto-approval condition as it was checked: what the
// policy required, what the submission had, and whether it held.
type Condition struct {
	Name     string `json:"name"`
	Required string `json:"required"`
	Actual   string `json:"actual"`
	Met      bool   `json:"met"`
}

// ReviewPlan is what automation decided for one submission.
type ReviewPlan struct {
	// AutoApprove is set when every condition held.
	AutoApprove bool
	Conditions  []Condition
	Figures     TrackRecord
	// Tier is the partner's tier as of the ledger before the submission:
	// the tier an automatic approval's benefits are computed for.
	Tier PartnerTier
	// The routing of a submission that is not approved automatically.
	Group      string
	Criteria   []string
	DueAt      time.Time
	RemindAt   time.Time
	EscalateAt time.Time
	EscalateTo Role
}

// PlanReview decides what happens to submission sub once its verdict is
// known, under policy p at time at (the submission's recorded time):
// partner is the submitting partner's profile and standing as of the
// ledger before the submission, and track its record over the policy's
// window. It returns false for a duplicate, which nobody reviews.
func PlanReview(p Policy, sub RegistrationSubmitted, verdict Verdict, partner Partner, standing PartnerStanding, track TrackRecord, at time.Time) (ReviewPlan, bool) {
	if verdict != VerdictClear && verdict != VerdictPossibleDuplicate {
		return ReviewPlan{}, false
	}
	at = canonicalTime(at)
	a := p.AutoApproval
	value := sub.Details.Opportunity.EstimatedValue
	var conds []Condition
	add := func(name, required, actual string, met bool) {
		conds = append(conds, Condition{Name: name, Required: required, Actual: actual, Met: met})
	}
	add(CondEnabled, "true", fmt.Sprint(a.Enabled), a.Enabled)
	add(CondVerdict, string(VerdictClear), string(verdict), verdict == VerdictClear)
	add(CondType, joinStrings(a.Types), string(sub.Type), slices.Contains(a.Types, sub.Type))
	add(CondTier, joinStrings(a.Tiers), orNone(string(partner.Tier)), slices.Contains(a.Tiers, partner.Tier))
	status, _ := standing.StatusAt(at)
	add(CondStanding, "active, no violation in the window", fmt.Sprintf("%s, %d violations", status, track.Violations),
		status == PartnerStatusActive && track.Violations == 0)
	limit, listed := a.MaxValue[value.Currency]
	switch {
	case !listed:
		add(CondValue, "a currency with a threshold", value.String(), false)
	default:
		add(CondValue, "under "+Money{Amount: limit, Currency: value.Currency}.String(), value.String(), value.Amount.LessThan(limit))
	}
	need := 0
	if a.RequireProof {
		need = max(1, p.MinProofItems)
	}
	add(CondProof, fmt.Sprintf("at least %d proof items", need), fmt.Sprint(len(sub.Details.Proof)), len(sub.Details.Proof) >= need)
	add(CondTrackRecord, fmt.Sprintf("at least %d decided in %s", a.MinDecided, FormatPeriod(a.TrackRecordWindow)), fmt.Sprint(track.Decided), track.Decided >= a.MinDecided)
	add(CondApprovalRate, "at least "+a.MinApprovalRate.String()+"%", track.ApprovalRate().String()+"%", atLeast(track.Approved, track.Decided, a.MinApprovalRate))
	add(CondWinRate, "at least "+a.MinWinRate.String()+"%", track.WinRate().String()+"%", atLeast(track.Won, track.Ended, a.MinWinRate))
	plan := ReviewPlan{AutoApprove: true, Conditions: conds, Figures: track, Tier: partner.Tier}
	for _, c := range conds {
		plan.AutoApprove = plan.AutoApprove && c.Met
	}
	if plan.AutoApprove {
		return plan, true
	}
	g, criteria := p.Routing.GroupFor(sub.Details.Account, partner.Tier, value)
	plan.Group, plan.Criteria = g.Name, criteria
	plan.DueAt = at.Add(p.ReviewSLA)
	if p.ReviewReminderBefore > 0 {
		plan.RemindAt = plan.DueAt.Add(-p.ReviewReminderBefore)
	}
	plan.EscalateAt = plan.DueAt.Add(p.ReviewEscalateAfter)
	plan.EscalateTo = p.ReviewEscalateTo
	return plan, true
}

func joinStrings[S ~string](items []S) string {
	if len(items) == 0 {
		return "(none)"
	}
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = string(s)
	}
	return strings.Join(out, ", ")
}

// GroupFor returns the first group whose criteria the submission meets
// (account region and industry, partner tier, estimated value at least the
// group's minimum in its currency), with the criteria that matched; the
// last group, which has none, takes everything else.
func (rt Routing) GroupFor(acc Account, tier PartnerTier, value Money) (ReviewGroup, []string) {
	for _, g := range rt.Groups {
		var matched []string
		ok := true
		if len(g.Regions) > 0 {
			ok = ok && slices.ContainsFunc(g.Regions, func(r string) bool { return strings.EqualFold(r, acc.Region) })
			matched = append(matched, "region "+acc.Region)
		}
		if len(g.Industries) > 0 {
			ok = ok && slices.ContainsFunc(g.Industries, func(r string) bool { return strings.EqualFold(r, acc.Industry) })
			matched = append(matched, "industry "+acc.Industry)
		}
		if len(g.Tiers) > 0 {
			ok = ok && slices.Contains(g.Tiers, tier)
			matched = append(matched, "tier "+string(tier))
		}
		if len(g.MinValue) > 0 {
			min, listed := g.MinValue[value.Currency]
			ok = ok && listed && !value.Amount.LessThan(min)
			matched = append(matched, "value "+value.String())
		}
		if ok {
			return g, matched
		}
	}
	if len(rt.Groups) == 0 {
		return ReviewGroup{}, nil
	}
	return rt.Groups[len(rt.Groups)-1], nil
}

// RegistrationAutoApproved records that a submission met every condition
// of the auto-approval rule of PolicyVersion, with the figures it used; the
// RegistrationApproved by SystemActorID that follows it grants the terms.
type RegistrationAutoApproved struct {
	RegistrationID uuid.UUID   `json:"registration_id"`
	Attempt        int         `json:"attempt"`
	Rule           string      `json:"rule"`
	Conditions     []Condition `json:"conditions"`
	Figures        TrackRecord `json:"figures"`
	PolicyVersion  int         `json:"policy_version"`
	At             time.Time   `json:"at"`
}

// RegistrationRouted records that a submission awaits a reviewer of Group,
// with the review due at DueAt (the review SLA of PolicyVersion), a
// reminder at RemindAt (zero: none) and an escalation to EscalateTo after
// EscalateAt. NotAutoApproved lists the auto-approval conditions that did
// not hold.
type RegistrationRouted struct {
	RegistrationID  uuid.UUID   `json:"registration_id"`
	Attempt         int         `json:"attempt"`
	Group           string      `json:"group"`
	Criteria        []string    `json:"criteria,omitempty"`
	DueAt           time.Time   `json:"due_at"`
	RemindAt        time.Time   `json:"remind_at,omitzero"`
	EscalateAt      time.Time   `json:"escalate_at"`
	EscalateTo      Role        `json:"escalate_to"`
	NotAutoApproved []Condition `json:"not_auto_approved,omitempty"`
	PolicyVersion   int         `json:"policy_version"`
	At              time.Time   `json:"at"`
}

// RegistrationReviewReminderSent records that the group a submission was
// routed to was reminded that its review is due at DueAt.
type RegistrationReviewReminderSent struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	Attempt        int       `json:"attempt"`
	Group          string    `json:"group"`
	DueAt          time.Time `json:"due_at"`
	PolicyVersion  int       `json:"policy_version"`
	At             time.Time `json:"at"`
}

// RegistrationReviewEscalated records that a review past its due time was
// escalated from its group to role To.
type RegistrationReviewEscalated struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	Attempt        int       `json:"attempt"`
	FromGroup      string    `json:"from_group"`
	To             Role      `json:"to"`
	DueAt          time.Time `json:"due_at"`
	PolicyVersion  int       `json:"policy_version"`
	At             time.Time `json:"at"`
}

// ReviewState is where the review of the latest submission stands.
type ReviewState struct {
	Group        string    `json:"group,omitempty"`
	DueAt        time.Time `json:"due_at,omitzero"`
	RemindAt     time.Time `json:"remind_at,omitzero"`
	EscalateAt   time.Time `json:"escalate_at,omitzero"`
	EscalateTo   Role      `json:"escalate_to,omitempty"`
	RemindedAt   time.Time `json:"reminded_at,omitzero"`
	EscalatedAt  time.Time `json:"escalated_at,omitzero"`
	AutoApproved bool      `json:"auto_approved,omitempty"`
	// PolicyVersion is the policy the routing was decided under.
	PolicyVersion int `json:"policy_version,omitempty"`
}

// Automate records plan on a registration whose verdict was just applied
// (cleared or possibly a duplicate), under policy p at time at: the
// automatic approval (RegistrationAutoApproved, then the approval by
// SystemActor, which grants the policy's terms) or the routing.
func (r *Registration) Automate(plan ReviewPlan, p Policy, at time.Time) ([]Event, error) {
	if err := r.require("automate the review of", StatusCleared, StatusPossibleDuplicate); err != nil {
		return nil, err
	}
	at = canonicalTime(at)
	if plan.AutoApprove {
		tier := plan.Tier
		if tier == "" {
			tier = TierRegistered
		}
		// The same approval, terms and benefits, as a reviewer's.
		approval, err := r.ApproveGranting(SystemActor, p, tier, at)
		if err != nil {
			return nil, err
		}
		return append([]Event{RegistrationAutoApproved{
			RegistrationID: r.id, Attempt: r.attempt, Rule: AutoApprovalRule,
			Conditions: slices.Clone(plan.Conditions), Figures: plan.Figures, PolicyVersion: p.Version, At: at,
		}}, approval...), nil
	}
	var failed []Condition
	for _, c := range plan.Conditions {
		if !c.Met {
			failed = append(failed, c)
		}
	}
	return []Event{RegistrationRouted{
		RegistrationID: r.id, Attempt: r.attempt, Group: plan.Group, Criteria: slices.Clone(plan.Criteria),
		DueAt: plan.DueAt, RemindAt: plan.RemindAt, EscalateAt: plan.EscalateAt, EscalateTo: plan.EscalateTo,
		NotAutoApproved: failed, PolicyVersion: p.Version, At: at,
	}}, nil
}

// awaitingReview reports whether the registration waits for a reviewer.
func (r *Registration) awaitingReview() bool {
	return r.status == StatusCleared || r.status == StatusPossibleDuplicate || r.status == StatusUnderReview
}

// reviewPlanFor returns the review's due, reminder and escalation times:
// those of its routing, or, for a submission recorded before routing
// existed, those policy p (the one it was submitted under) gives.
func (r *Registration) reviewPlanFor(p Policy) ReviewState {
	if !r.review.DueAt.IsZero() {
		return r.review
	}
	s := r.review
	s.DueAt = r.submittedAt.Add(p.ReviewSLA)
	if p.ReviewReminderBefore > 0 {
		s.RemindAt = s.DueAt.Add(-p.ReviewReminderBefore)
	}
	s.EscalateAt = s.DueAt.Add(p.ReviewEscalateAfter)
	s.EscalateTo = p.ReviewEscalateTo
	s.PolicyVersion = p.Version
	return s
}

// ReviewDue returns what time alone makes due at now on a registration
// awaiting a review: the escalation once now is past EscalateAt, else the
// reminder once now has reached RemindAt, each at most once per
// submission. p is the policy the registration was submitted under, used
// only when it was never routed. It is pure, like Due.
func (r *Registration) ReviewDue(now time.Time, p Policy) []Event {
	if r == nil || !r.awaitingReview() {
		return nil
	}
	now = canonicalTime(now)
	s := r.reviewPlanFor(p)
	version := s.PolicyVersion
	switch {
	case s.EscalatedAt.IsZero() && now.After(s.EscalateAt):
		return []Event{RegistrationReviewEscalated{RegistrationID: r.id, Attempt: r.attempt, FromGroup: s.Group, To: s.EscalateTo,
			DueAt: s.DueAt, PolicyVersion: version, At: now}}
	case s.RemindedAt.IsZero() && s.EscalatedAt.IsZero() && !s.RemindAt.IsZero() && !now.Before(s.RemindAt):
		return []Event{RegistrationReviewReminderSent{RegistrationID: r.id, Attempt: r.attempt, Group: s.Group, DueAt: s.DueAt,
			PolicyVersion: version, At: now}}
	}
	return nil
}

// Review returns where the review of the latest submission stands.
func (r *Registration) Review() ReviewState { return r.review }

// NextReviewAction returns when ReviewDue may next return something, and
// false when nothing will: the scheduler looks only at those due.
func (r *Registration) NextReviewAction(p Policy) (time.Time, bool) {
	if r == nil || !r.awaitingReview() {
		return time.Time{}, false
	}
	s := r.reviewPlanFor(p)
	switch {
	case !s.EscalatedAt.IsZero():
		return time.Time{}, false
	case s.RemindedAt.IsZero() && !s.RemindAt.IsZero():
		return s.RemindAt, true
	}
	return s.EscalateAt.Add(time.Nanosecond), true
}

// applyReview folds the automation events into the registration.
func (r *Registration) applyReview(e Event) {
	switch e := e.(type) {
	case RegistrationAutoApproved:
		r.review.AutoApproved = true
		r.review.PolicyVersion = e.PolicyVersion
	case RegistrationRouted:
		r.review = ReviewState{Group: e.Group, DueAt: e.DueAt, RemindAt: e.RemindAt, EscalateAt: e.EscalateAt,
			EscalateTo: e.EscalateTo, PolicyVersion: e.PolicyVersion}
	case RegistrationReviewReminderSent:
		r.review.RemindedAt = e.At
	case RegistrationReviewEscalated:
		r.review.EscalatedAt = e.At
	}
}
