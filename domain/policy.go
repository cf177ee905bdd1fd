package domain

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Day is 24 hours. Policy periods are exact durations, not calendar
// arithmetic, so that "90 days after approval" means the same instant in
// every time zone and on every replay.
const Day = 24 * time.Hour

// Bounds on policy values. Opportunity protection must lie within the
// 90–180 days the program promises partners, the notice of a policy change
// within the 30–60 days it promises, the registration bonus within 5–15%
// and the MDF share within 1–5% of the deal; the others are sanity limits
// that catch unit mistakes (hours given as days and the like).
const (
	MinOpportunityProtection = 90 * Day
	MaxOpportunityProtection = 180 * Day
	MinAccountProtection     = 90 * Day
	MaxAccountProtection     = 3 * 365 * Day
	MaxFirstContactWindow    = 365 * Day
	MaxPolicyExtensions      = 12
	MaxExtensionLength       = 180 * Day
	MinNoticePeriod          = 30 * Day
	MaxNoticePeriod          = 60 * Day
	MaxPolicySummaryLen      = 2000
	MaxPolicyListLen         = 50
	MaxPolicyNameLen         = 100
)

// The benefit ranges of the program, in percent.
var (
	MinRegistrationBonus = decimal.NewFromInt(5)
	MaxRegistrationBonus = decimal.NewFromInt(15)
	MinMDFPercent        = decimal.NewFromInt(1)
	MaxMDFPercent        = decimal.NewFromInt(5)
	MaxTierDiscount      = decimal.NewFromInt(60)
)

// Policy is one version of the program rules that decide what a registration
// needs and what it gets. Policies are versioned and never edited: a change
// is a new version, proposed and then published with a later EffectiveFrom
// (see PolicyBook). The terms a registration was granted are copied into its
// approval event, so a new policy never rewrites what was already granted.
//
// A Policy is written and read as a JSON document with periods in human
// units (see ParsePolicy and docs/policy.md); in Go all periods are exact
// durations, "12 months" of account protection being 365 days.
//
// Some parts are rules dealreg applies already (protection, registration
// standards, review SLA, conflicts, notice of changes, eligibility and
// penalties: see partner_program.go and violation.go); the others
// (auto-approval, routing, benefits) are carried, validated and published
// so that the features that apply them read them from the version in
// force.
type Policy struct {
	// Version identifies the policy; it is embedded in the events of the
	// decisions taken under it.
	Version int
	// EffectiveFrom is when the policy starts to apply, set when it is
	// published. The zero time means "since the beginning" (version 1).
	EffectiveFrom time.Time
	// Summary says, for partners, what the version is about or changes.
	Summary string

	// Eligibility says who may register each type.
	Eligibility Eligibility

	// RequiredFields are the detail fields a submission of each type must
	// fill in (paths such as "account.domain"); they always include
	// BaseRequiredFields.
	RequiredFields map[RegistrationType][]string
	// ProofKinds are the kinds of relationship proof accepted.
	ProofKinds []ProofKind
	// MinProofItems is how many proof items a submission must carry.
	MinProofItems int
	// FirstContactWindow is how long before submission the first contact
	// with the prospect may lie, so that partners cannot claim dormant
	// relationships.
	FirstContactWindow time.Duration
	// MaxCloseHorizon is how far after submission the expected close date
	// may lie.
	MaxCloseHorizon time.Duration

	// OpportunityProtection is the protection an approved opportunity
	// registration gets, between 90 and 180 days.
	OpportunityProtection time.Duration
	// MaxExtensions is how many extensions an opportunity may be granted.
	MaxExtensions int
	// ExtensionLength is how far one granted extension moves the protection
	// end.
	ExtensionLength time.Duration
	// AccountProtection is the protection an approved named-account
	// registration (or a renewal of one) gets.
	AccountProtection time.Duration
	// RenewalWindow is how long before the end of a named-account
	// protection a renewal may be granted.
	RenewalWindow time.Duration
	// RenewalGrace is how long after a named-account protection expired a
	// renewal may still be granted.
	RenewalGrace time.Duration
	// Renewal are the performance conditions of a named-account renewal.
	Renewal RenewalConditions
	// ReminderBefore is how long before the protection end the partner is
	// reminded once. Zero disables reminders.
	ReminderBefore time.Duration

	// ReviewSLA is how long the vendor has to decide after a submission.
	ReviewSLA time.Duration
	// ReviewReminderBefore is how long before the review is due the
	// assigned reviewers are reminded; zero sends no reminder.
	ReviewReminderBefore time.Duration
	// ReviewEscalateAfter is how long after the review is due it is
	// escalated to ReviewEscalateTo.
	ReviewEscalateAfter time.Duration
	// ReviewEscalateTo is the role an overdue review is escalated to.
	ReviewEscalateTo Role

	// ConflictRule is the default rule of conflict resolution; only
	// ConflictRulePartnerFirst exists.
	ConflictRule string
	// ConflictSLA is how long each conflict-resolution level has to decide
	// (or escalate) a conflict: index 0 is level 1 (channel manager), 1 is
	// level 2 (channel director), 2 is level 3 (executive). Empty means
	// DefaultConflictSLA; otherwise it holds exactly ConflictLevels
	// durations.
	ConflictSLA []time.Duration
	// EscalationValue is the conflict value from which a conflict starts at
	// level 2 instead of level 1, for a value in a currency that
	// EscalationValues does not list. Zero disables the rule for those
	// currencies.
	EscalationValue decimal.Decimal
	// EscalationValues sets the threshold per currency (ISO 4217 code →
	// amount in that currency), so that a program selling in several
	// currencies escalates the same deal size in each: the policy carries
	// amounts, not exchange rates, so a replay decides exactly as the
	// first run did. Zero disables the rule for that currency.
	EscalationValues map[string]decimal.Decimal
	// StrategicTiers are the partner tiers whose involvement makes a
	// conflict start at level 2.
	StrategicTiers []PartnerTier

	// AutoApproval are the conditions under which a submission is approved
	// at once, without a reviewer.
	AutoApproval AutoApproval
	// Routing sends the submissions that are not auto-approved to a group
	// of reviewers.
	Routing Routing
	// Benefits are what an approval grants besides protection.
	Benefits Benefits
	// Penalties are what each kind of violation costs the partner.
	Penalties Penalties

	// NoticePeriod is how far ahead of its effective date the next version
	// must be published (30–60 days), unless it is an emergency change.
	NoticePeriod time.Duration
	// ReviewEvery is how often the channel leaders review the policy
	// (quarterly in the program).
	ReviewEvery time.Duration
}

// ConflictRulePartnerFirst is the program's default conflict rule: the
// partner who registered first with proof wins against direct sales and
// later partners (see Conflict.Recommendation).
const ConflictRulePartnerFirst = "partner_first"

// Eligibility says, per registration type, which partner tiers may register
// it and which certifications and trainings they need.
type Eligibility struct {
	Opportunity  TypeEligibility
	NamedAccount TypeEligibility
}

// For returns the eligibility of registration type t.
func (e Eligibility) For(t RegistrationType) TypeEligibility {
	if t == TypeNamedAccount {
		return e.NamedAccount
	}
	return e.Opportunity
}

// TypeEligibility is who may register one type.
type TypeEligibility struct {
	// Tiers may register the type; a tier not listed may not.
	Tiers []PartnerTier
	// Certifications and Trainings are the names of the records a partner
	// must hold, unexpired at the submission's time.
	Certifications []string
	Trainings      []string
}

// RenewalConditions are what a named account must show to be renewed.
type RenewalConditions struct {
	// MinClosedWon is how many deals of the account the partner must have
	// closed won during the term.
	MinClosedWon int
	// MinWonValue is the total won value required, per currency; a
	// currency not listed has no value condition.
	MinWonValue map[string]decimal.Decimal
}

// AutoApproval are the conditions of an automatic approval. A submission is
// approved at once, by actor "system", only when the duplicate check's
// verdict is clear and every condition holds.
type AutoApproval struct {
	Enabled bool
	// Types and Tiers are the registration types and partner tiers
	// eligible for automatic approval.
	Types []RegistrationType
	Tiers []PartnerTier
	// MaxValue is the estimated value below which a submission may be
	// approved automatically, per currency; a currency not listed never
	// is.
	MaxValue map[string]decimal.Decimal
	// TrackRecordWindow is how far back the partner's track record is
	// computed from the ledger, and MinDecided how many of its
	// registrations must have been decided in it.
	TrackRecordWindow time.Duration
	MinDecided        int
	// MinApprovalRate and MinWinRate are the partner's approval rate and
	// win rate (percent) required over the window.
	MinApprovalRate decimal.Decimal
	MinWinRate      decimal.Decimal
	// RequireProof requires at least one proof item.
	RequireProof bool
}

// Routing sends each submission that awaits a review to the first group
// whose criteria it meets; the last group takes everything.
type Routing struct {
	Groups []ReviewGroup
	// UnassignedManagerMaxValue is the largest value, per currency, a
	// channel manager assigned to no review group may approve (a currency
	// not listed: none); empty, as in version 1, it is not limited.
	// Directors and above are never limited, so that an escalated review
	// always has someone who may decide it (docs/automation.md).
	UnassignedManagerMaxValue map[string]decimal.Decimal
}

// ReviewGroup is a queue of reviewers with the submissions it takes: an
// empty criterion matches everything.
type ReviewGroup struct {
	Name       string
	Regions    []string
	Industries []string
	Tiers      []PartnerTier
	// MinValue is the estimated value from which the group takes a
	// submission, per currency; a currency not listed does not match
	// when MinValue is not empty.
	MinValue map[string]decimal.Decimal
}

// Benefits are what an approved registration unlocks.
type Benefits struct {
	// TierDiscount is the base discount of each tier and
	// RegistrationBonus the bonus a registration of each type adds
	// (percent, 5–15).
	TierDiscount      map[PartnerTier]decimal.Decimal
	RegistrationBonus map[RegistrationType]decimal.Decimal
	// MDFPercent is the share of the estimated value allocated as
	// marketing development funds (1–5), capped per currency by MDFCaps;
	// a currency without a cap gets no allocation.
	MDFPercent decimal.Decimal
	MDFCaps    map[string]decimal.Decimal
	// Presales are the presales entitlements by deal size, largest first;
	// the last has no threshold.
	Presales []PresalesLevel
}

// PresalesLevel is the presales support a deal of at least MinValue gets.
type PresalesLevel struct {
	Name string
	// MinValue per currency; empty for the last level.
	MinValue map[string]decimal.Decimal
	// Dedicated are the kinds of resource assigned to the deal
	// (PresalesEngineer, SolutionsArchitect, TechnicalSpecialist).
	Dedicated []string
	// PooledHours are hours of pooled presales support.
	PooledHours int
}

// The kinds of presales resource.
const (
	PresalesEngineer    = "presales_engineer"
	SolutionsArchitect  = "solutions_architect"
	TechnicalSpecialist = "technical_specialist"
)

var presalesKinds = []string{PresalesEngineer, SolutionsArchitect, TechnicalSpecialist}

// Penalties are the consequences of each kind of violation.
type Penalties struct {
	// Violations has one entry per kind in ViolationKinds.
	Violations []Penalty
	// OnSuspension says what happens to a suspended partner's active
	// protections: ProtectionsKept or ProtectionsEnded.
	OnSuspension string
}

// Penalty is what one kind of violation costs.
type Penalty struct {
	Kind string
	// Revoke revokes the registration: its protection ends and the
	// account is free.
	Revoke bool
	// Suspend suspends the partner for this long (zero: not at all), or
	// Terminate ends its membership.
	Suspend   time.Duration
	Terminate bool
}

// The kinds of violation and what suspension does to protections.
const (
	ViolationFalseInformation    = "false_information"
	ViolationDormantRelationship = "dormant_relationship"
	ViolationTermsBreach         = "terms_breach"
	ProtectionsKept              = "keep"
	ProtectionsEnded             = "end"
)

// ViolationKinds are the violations the program names.
var ViolationKinds = []string{ViolationFalseInformation, ViolationDormantRelationship, ViolationTermsBreach}

// BaseRequiredFields are the detail fields every submission of a type needs,
// whatever the policy: without them the claim cannot be identified or
// checked for duplicates (see Details.ValidateSubmission).
func BaseRequiredFields(t RegistrationType) []string {
	base := []string{"account.company_name", "account.country", "relationship.how_found", "relationship.first_contact_date"}
	if t == TypeNamedAccount {
		return append(base, "account.domain")
	}
	return append(base, "opportunity.product_lines", "opportunity.estimated_value", "opportunity.expected_close_date")
}

// requirableFields are the detail fields a policy may require, besides the
// base ones.
var requirableFields = []string{
	"account.company_name", "account.country", "account.domain", "account.tax_id", "account.region",
	"account.industry", "account.employee_band", "account.existing_relationship",
	"opportunity.product_lines", "opportunity.estimated_value", "opportunity.expected_close_date",
	"opportunity.buying_stage", "opportunity.competitors",
	"relationship.how_found", "relationship.first_contact_date", "relationship.activities", "relationship.next_steps",
	"personal.decision_makers",
}

func money(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// DefaultPolicy returns policy version 1: the program's numbers as dealreg
// applied them before policies were data, and the seed's numbers for the
// parts it did not apply yet. See docs/policy.md for each value and where
// it comes from.
func DefaultPolicy() Policy {
	allTiers := []PartnerTier{TierRegistered, TierSilver, TierGold, TierPlatinum}
	kinds := make([]ProofKind, len(proofKinds))
	for i, k := range proofKinds {
		kinds[i] = ProofKind(k)
	}
	return Policy{
		Version: 1,
		Summary: "The program's rules as first published: 90 days of protection for an opportunity, 12 months for a named account, a 48-hour review.",
		Eligibility: Eligibility{
			Opportunity:  TypeEligibility{Tiers: allTiers},
			NamedAccount: TypeEligibility{Tiers: slices.Clone(allTiers)},
		},
		RequiredFields: map[RegistrationType][]string{
			TypeOpportunity:  BaseRequiredFields(TypeOpportunity),
			TypeNamedAccount: BaseRequiredFields(TypeNamedAccount),
		},
		ProofKinds:            kinds,
		FirstContactWindow:    90 * Day,
		MaxCloseHorizon:       3 * 365 * Day,
		OpportunityProtection: 90 * Day,
		MaxExtensions:         2,
		ExtensionLength:       30 * Day,
		AccountProtection:     365 * Day,
		RenewalWindow:         60 * Day,
		RenewalGrace:          30 * Day,
		ReminderBefore:        14 * Day,
		ReviewSLA:             48 * time.Hour,
		ReviewReminderBefore:  12 * time.Hour,
		ReviewEscalateTo:      RoleChannelDirector,
		ConflictRule:          ConflictRulePartnerFirst,
		ConflictSLA:           DefaultConflictSLA(),
		EscalationValue:       money("250000"),
		StrategicTiers:        []PartnerTier{TierPlatinum},
		AutoApproval: AutoApproval{
			Types:             []RegistrationType{TypeOpportunity},
			Tiers:             []PartnerTier{TierGold, TierPlatinum},
			MaxValue:          map[string]decimal.Decimal{"USD": money("100000"), "EUR": money("90000"), "MXN": money("1800000")},
			TrackRecordWindow: 365 * Day,
			MinDecided:        5,
			MinApprovalRate:   money("90"),
			MinWinRate:        money("30"),
			RequireProof:      true,
		},
		Routing: Routing{Groups: []ReviewGroup{{Name: "channel-operations"}}},
		Benefits: Benefits{
			TierDiscount: map[PartnerTier]decimal.Decimal{
				TierRegistered: money("0"), TierSilver: money("5"), TierGold: money("10"), TierPlatinum: money("15"),
			},
			RegistrationBonus: map[RegistrationType]decimal.Decimal{TypeOpportunity: money("10"), TypeNamedAccount: money("5")},
			MDFPercent:        money("2"),
			MDFCaps:           map[string]decimal.Decimal{"USD": money("25000"), "EUR": money("23000"), "MXN": money("450000")},
			Presales: []PresalesLevel{
				{Name: "enterprise", MinValue: map[string]decimal.Decimal{"USD": money("250000"), "EUR": money("230000"), "MXN": money("4500000")},
					Dedicated: []string{PresalesEngineer, SolutionsArchitect}},
				{Name: "standard", PooledHours: 10},
			},
		},
		Penalties: Penalties{
			Violations: []Penalty{
				{Kind: ViolationFalseInformation, Revoke: true, Suspend: 180 * Day},
				{Kind: ViolationDormantRelationship, Revoke: true},
				{Kind: ViolationTermsBreach, Revoke: true, Suspend: 90 * Day},
			},
			OnSuspension: ProtectionsKept,
		},
		NoticePeriod: 30 * Day,
		ReviewEvery:  90 * Day,
	}
}

// Validate checks the policy and returns one EINVALID *Error listing every
// failing field, by its path in the policy document, or nil.
func (p Policy) Validate() error {
	var v validator
	p.validate(&v)
	return v.err("the policy is invalid")
}

func (p Policy) validate(v *validator) {
	if p.Version < 1 {
		v.add("version", FieldOutOfRange, "must be 1 or more")
	}
	v.text("summary", p.Summary, MaxPolicySummaryLen, true)

	for _, t := range []RegistrationType{TypeOpportunity, TypeNamedAccount} {
		e, path := p.Eligibility.For(t), "eligibility."+string(t)
		v.tiers(path+".tiers", e.Tiers)
		v.stringList(path+".certifications", e.Certifications, MaxPolicyListLen, MaxPolicyNameLen)
		v.stringList(path+".trainings", e.Trainings, MaxPolicyListLen, MaxPolicyNameLen)
	}

	for _, t := range []RegistrationType{TypeOpportunity, TypeNamedAccount} {
		path := "registration.required_fields." + string(t)
		fields := p.RequiredFields[t]
		for i, f := range fields {
			if !slices.Contains(requirableFields, f) {
				v.add(fmt.Sprintf("%s[%d]", path, i), FieldInvalid, "must be one of: "+strings.Join(requirableFields, ", "))
			} else if slices.Contains(fields[:i], f) {
				v.add(fmt.Sprintf("%s[%d]", path, i), FieldDuplicate, "appears more than once")
			}
		}
		for _, f := range BaseRequiredFields(t) {
			if !slices.Contains(fields, f) {
				v.add(path, FieldInvalid, "must include "+f+": every submission needs "+strings.Join(BaseRequiredFields(t), ", "))
				break
			}
		}
	}
	if len(p.ProofKinds) == 0 {
		v.add("registration.proof_kinds", FieldRequired, "accept at least one kind of proof")
	}
	for i, k := range p.ProofKinds {
		field := fmt.Sprintf("registration.proof_kinds[%d]", i)
		if !slices.Contains(proofKinds, string(k)) {
			v.add(field, FieldInvalid, "must be one of: "+strings.Join(proofKinds, ", "))
		} else if slices.Contains(p.ProofKinds[:i], k) {
			v.add(field, FieldDuplicate, "appears more than once")
		}
	}
	if p.MinProofItems < 0 || p.MinProofItems > MaxProofItems {
		v.add("registration.min_proof_items", FieldOutOfRange, fmt.Sprintf("must be between 0 and %d", MaxProofItems))
	}
	v.periodIn("registration.first_contact_window", p.FirstContactWindow, Day, MaxFirstContactWindow)
	v.periodIn("registration.max_close_horizon", p.MaxCloseHorizon, 30*Day, 10*365*Day)

	v.periodIn("protection.opportunity.term", p.OpportunityProtection, MinOpportunityProtection, MaxOpportunityProtection)
	if p.MaxExtensions < 0 || p.MaxExtensions > MaxPolicyExtensions {
		v.add("protection.opportunity.max_extensions", FieldOutOfRange, fmt.Sprintf("must be between 0 and %d", MaxPolicyExtensions))
	}
	if p.MaxExtensions > 0 {
		v.periodIn("protection.opportunity.extension_length", p.ExtensionLength, Day, MaxExtensionLength)
	} else if p.ExtensionLength != 0 {
		v.add("protection.opportunity.extension_length", FieldInvalid, "must be 0s when no extensions are allowed")
	}
	v.periodIn("protection.named_account.term", p.AccountProtection, MinAccountProtection, MaxAccountProtection)
	if p.RenewalWindow < 0 || (p.AccountProtection > 0 && p.RenewalWindow >= p.AccountProtection) {
		v.add("protection.named_account.renewal_window", FieldOutOfRange, "must be 0s or more and shorter than the account term")
	}
	v.periodIn("protection.named_account.renewal_grace", p.RenewalGrace, 0, 180*Day)
	if p.Renewal.MinClosedWon < 0 || p.Renewal.MinClosedWon > 1000 {
		v.add("protection.named_account.renewal_min_closed_won", FieldOutOfRange, "must be between 0 and 1000")
	}
	v.amounts("protection.named_account.renewal_min_won_value", p.Renewal.MinWonValue, false)
	if p.ReminderBefore < 0 || (p.ReminderBefore > 0 && p.ReminderBefore >= p.OpportunityProtection) {
		v.add("protection.expiry_reminder", FieldOutOfRange, "must be 0s or shorter than the opportunity term")
	}

	v.periodIn("review.sla", p.ReviewSLA, time.Hour, 30*Day)
	if p.ReviewReminderBefore < 0 || (p.ReviewReminderBefore > 0 && p.ReviewReminderBefore >= p.ReviewSLA) {
		v.add("review.reminder_before_due", FieldOutOfRange, "must be 0s or shorter than the review SLA")
	}
	v.periodIn("review.escalate_after_due", p.ReviewEscalateAfter, 0, 30*Day)
	switch p.ReviewEscalateTo {
	case RoleChannelDirector, RoleExecutive:
	default:
		v.add("review.escalate_to", FieldInvalid, "must be one of: channel_director, executive")
	}

	if p.ConflictRule != ConflictRulePartnerFirst {
		v.add("conflicts.rule", FieldInvalid, "must be "+ConflictRulePartnerFirst)
	}
	p.validateConflicts(v)

	a, path := p.AutoApproval, "auto_approval"
	for i, t := range a.Types {
		field := fmt.Sprintf("%s.types[%d]", path, i)
		if t != TypeOpportunity && t != TypeNamedAccount {
			v.add(field, FieldInvalid, "must be one of: opportunity, named_account")
		} else if slices.Contains(a.Types[:i], t) {
			v.add(field, FieldDuplicate, "appears more than once")
		}
	}
	v.tiers(path+".tiers", a.Tiers)
	v.amounts(path+".max_value", a.MaxValue, true)
	v.periodIn(path+".track_record_window", a.TrackRecordWindow, 30*Day, 3*365*Day)
	if a.MinDecided < 0 || a.MinDecided > 10000 {
		v.add(path+".min_decided", FieldOutOfRange, "must be between 0 and 10000")
	}
	v.percent(path+".min_approval_rate_percent", a.MinApprovalRate, decimal.Zero, hundred)
	v.percent(path+".min_win_rate_percent", a.MinWinRate, decimal.Zero, hundred)
	if a.Enabled && (len(a.Types) == 0 || len(a.Tiers) == 0 || len(a.MaxValue) == 0) {
		v.add(path+".enabled", FieldInvalid, "an enabled auto-approval needs types, tiers and a max_value")
	}

	p.validateRouting(v)
	p.validateBenefits(v)
	p.validatePenalties(v)

	v.periodIn("changes.notice_period", p.NoticePeriod, MinNoticePeriod, MaxNoticePeriod)
	v.periodIn("changes.review_every", p.ReviewEvery, 30*Day, 365*Day)
}

func (p Policy) validateRouting(v *validator) {
	groups := p.Routing.Groups
	if len(groups) == 0 {
		v.add("routing.groups", FieldRequired, "give at least one group; the last takes every submission")
		return
	}
	v.listLen("routing.groups", len(groups), MaxPolicyListLen)
	for i, g := range groups {
		path := fmt.Sprintf("routing.groups[%d]", i)
		v.policyName(path+".name", g.Name)
		if slices.ContainsFunc(groups[:i], func(o ReviewGroup) bool { return o.Name == g.Name }) {
			v.add(path+".name", FieldDuplicate, "another group has this name")
		}
		v.stringList(path+".regions", g.Regions, MaxPolicyListLen, MaxRegionLen)
		v.stringList(path+".industries", g.Industries, MaxPolicyListLen, MaxIndustryLen)
		v.tiers(path+".tiers", g.Tiers)
		v.amounts(path+".min_value", g.MinValue, true)
	}
	if last := groups[len(groups)-1]; len(last.Regions)+len(last.Industries)+len(last.Tiers)+len(last.MinValue) > 0 {
		v.add(fmt.Sprintf("routing.groups[%d]", len(groups)-1), FieldInvalid, "the last group must have no criteria, so that every submission has a group")
	}
	v.amounts("routing.unassigned_manager_max_value", p.Routing.UnassignedManagerMaxValue, true)
}

func (p Policy) validateBenefits(v *validator) {
	b := p.Benefits
	for _, t := range partnerTiers {
		field := "benefits.discount.tier_base_percent." + t
		d, ok := b.TierDiscount[PartnerTier(t)]
		if !ok {
			v.add(field, FieldRequired, "give the base discount of every tier")
			continue
		}
		v.percent(field, d, decimal.Zero, MaxTierDiscount)
	}
	for _, t := range slices.Sorted(maps.Keys(b.TierDiscount)) {
		if !slices.Contains(partnerTiers, string(t)) {
			v.add("benefits.discount.tier_base_percent."+string(t), FieldInvalid, "must be one of: "+strings.Join(partnerTiers, ", "))
		}
	}
	for _, t := range []RegistrationType{TypeOpportunity, TypeNamedAccount} {
		field := "benefits.discount.registration_bonus_percent." + string(t)
		d, ok := b.RegistrationBonus[t]
		if !ok {
			v.add(field, FieldRequired, "give the bonus of every registration type")
			continue
		}
		v.percent(field, d, MinRegistrationBonus, MaxRegistrationBonus)
	}
	for _, t := range slices.Sorted(maps.Keys(b.RegistrationBonus)) {
		if t != TypeOpportunity && t != TypeNamedAccount {
			v.add("benefits.discount.registration_bonus_percent."+string(t), FieldInvalid, "must be one of: opportunity, named_account")
		}
	}
	v.percent("benefits.mdf.percent", b.MDFPercent, MinMDFPercent, MaxMDFPercent)
	v.amounts("benefits.mdf.caps", b.MDFCaps, true)
	for _, c := range slices.Sorted(maps.Keys(b.MDFCaps)) {
		// A cap is an amount paid out: finer than the currency's minor
		// unit it could grant what cannot be paid.
		if a := b.MDFCaps[c]; ValidCurrency(c) && !a.Equal(a.Round(MinorUnits(c))) {
			v.add("benefits.mdf.caps."+c, FieldInvalid, fmt.Sprintf("must be in the currency's minor unit (%d decimals)", MinorUnits(c)))
		}
	}

	if len(b.Presales) == 0 {
		v.add("benefits.presales", FieldRequired, "give at least one level; the last takes every deal")
		return
	}
	v.listLen("benefits.presales", len(b.Presales), MaxPolicyListLen)
	for i, l := range b.Presales {
		path := fmt.Sprintf("benefits.presales[%d]", i)
		v.policyName(path+".name", l.Name)
		if slices.ContainsFunc(b.Presales[:i], func(o PresalesLevel) bool { return o.Name == l.Name }) {
			v.add(path+".name", FieldDuplicate, "another level has this name")
		}
		v.amounts(path+".min_value", l.MinValue, true)
		for j, k := range l.Dedicated {
			field := fmt.Sprintf("%s.dedicated[%d]", path, j)
			if !slices.Contains(presalesKinds, k) {
				v.add(field, FieldInvalid, "must be one of: "+strings.Join(presalesKinds, ", "))
			} else if slices.Contains(l.Dedicated[:j], k) {
				v.add(field, FieldDuplicate, "appears more than once")
			}
		}
		if l.PooledHours < 0 || l.PooledHours > 1000 {
			v.add(path+".pooled_hours", FieldOutOfRange, "must be between 0 and 1000")
		}
		if len(l.Dedicated) == 0 && l.PooledHours == 0 {
			v.add(path, FieldInvalid, "give dedicated resources or pooled hours")
		}
		if i == len(b.Presales)-1 && len(l.MinValue) > 0 {
			v.add(path+".min_value", FieldInvalid, "the last level must have no threshold, so that every deal has a level")
		}
	}
}

func (p Policy) validatePenalties(v *validator) {
	for i, pen := range p.Penalties.Violations {
		path := fmt.Sprintf("penalties.violations[%d]", i)
		if !slices.Contains(ViolationKinds, pen.Kind) {
			v.add(path+".kind", FieldInvalid, "must be one of: "+strings.Join(ViolationKinds, ", "))
		} else if slices.ContainsFunc(p.Penalties.Violations[:i], func(o Penalty) bool { return o.Kind == pen.Kind }) {
			v.add(path+".kind", FieldDuplicate, "appears more than once")
		}
		v.periodIn(path+".suspend", pen.Suspend, 0, 3*365*Day)
		if pen.Terminate && pen.Suspend > 0 {
			v.add(path+".suspend", FieldInvalid, "must be 0s when the violation terminates the membership")
		}
	}
	for _, k := range ViolationKinds {
		if !slices.ContainsFunc(p.Penalties.Violations, func(o Penalty) bool { return o.Kind == k }) {
			v.add("penalties.violations", FieldRequired, "give the penalty of "+k)
		}
	}
	if p.Penalties.OnSuspension != ProtectionsKept && p.Penalties.OnSuspension != ProtectionsEnded {
		v.add("penalties.on_suspension", FieldInvalid, "must be keep or end")
	}
}

// ProtectionFor returns the protection period the policy grants a
// registration of type t.
func (p Policy) ProtectionFor(t RegistrationType) time.Duration {
	if t == TypeNamedAccount {
		return p.AccountProtection
	}
	return p.OpportunityProtection
}

// checkUsable verifies that p is valid and in effect at now. Commands call it
// so that a wiring mistake never produces events under a broken policy.
func (p Policy) checkUsable(now time.Time) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if now.Before(p.EffectiveFrom) {
		return Errorf(EINVALID, "policy version %d is not in effect before %s", p.Version, p.EffectiveFrom.UTC().Format(time.RFC3339))
	}
	return nil
}

// periodIn checks a policy period against its bounds, in human units.
func (v *validator) periodIn(field string, d, lo, hi time.Duration) {
	if d < lo || d > hi {
		v.add(field, FieldOutOfRange, fmt.Sprintf("must be between %s and %s", FormatPeriod(lo), FormatPeriod(hi)))
	}
}

// durationIn is periodIn; the conflict checks use it.
func (v *validator) durationIn(field string, d, lo, hi time.Duration) { v.periodIn(field, d, lo, hi) }

func (v *validator) tiers(field string, tiers []PartnerTier) {
	for i, t := range tiers {
		f := fmt.Sprintf("%s[%d]", field, i)
		if !slices.Contains(partnerTiers, string(t)) {
			v.add(f, FieldInvalid, "must be one of: "+strings.Join(partnerTiers, ", "))
		} else if slices.Contains(tiers[:i], t) {
			v.add(f, FieldDuplicate, "appears more than once")
		}
	}
}

// amounts checks per-currency amounts: known currencies, amounts of at most
// MaxMoneyDecimals decimals, positive (or zero unless positive is set).
func (v *validator) amounts(field string, m map[string]decimal.Decimal, positive bool) {
	if len(m) > MaxPolicyListLen {
		v.add(field, FieldTooLong, fmt.Sprintf("must list at most %d currencies", MaxPolicyListLen))
		return
	}
	for _, c := range slices.Sorted(maps.Keys(m)) {
		f, a := field+"."+c, m[c]
		switch {
		case !ValidCurrency(c):
			v.add(f, FieldInvalid, "must be an ISO 4217 currency code in upper case")
		case a.IsNegative() || (positive && !a.IsPositive()):
			v.add(f, FieldOutOfRange, map[bool]string{true: "must be greater than zero", false: "must be 0 or more"}[positive])
		case a.GreaterThan(MaxMoneyAmount):
			v.add(f, FieldOutOfRange, "must be at most "+MaxMoneyAmount.String())
		case !a.Equal(a.Round(MaxMoneyDecimals)):
			v.add(f, FieldInvalid, fmt.Sprintf("must have at most %d decimals", MaxMoneyDecimals))
		}
	}
}

// percent checks a percentage within [lo, hi] with at most 2 decimals.
func (v *validator) percent(field string, d, lo, hi decimal.Decimal) {
	switch {
	case d.LessThan(lo) || d.GreaterThan(hi):
		v.add(field, FieldOutOfRange, fmt.Sprintf("must be between %s and %s (percent)", lo, hi))
	case !d.Equal(d.Round(2)):
		v.add(field, FieldInvalid, "must have at most 2 decimals")
	}
}

var policyNameShape = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

func (v *validator) policyName(field, name string) {
	if !policyNameShape.MatchString(name) {
		v.add(field, FieldInvalid, "must be 1–64 lower-case letters, digits, '-' or '_'")
	}
}
