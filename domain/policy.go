package domain

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// Day is 24 hours. Policy periods are exact durations, not calendar
// arithmetic, so that "90 days after approval" means the same instant in
// every time zone and on every replay.
const Day = 24 * time.Hour

// Bounds on policy values. Opportunity protection must lie within the
// 90–180 days the program promises partners; the others are sanity limits
// that catch unit mistakes (hours given as days and the like).
const (
	MinOpportunityProtection = 90 * Day
	MaxOpportunityProtection = 180 * Day
	MinAccountProtection     = 90 * Day
	MaxAccountProtection     = 3 * 365 * Day
	MaxFirstContactWindow    = 365 * Day
	MaxPolicyExtensions      = 12
	MaxExtensionLength       = 180 * Day
)

// Policy is one version of the program rules that decide what a registration
// needs and what it gets. Policies are versioned and never edited: a change
// is a new version with a later EffectiveFrom. The terms a registration was
// granted are copied into its approval event, so a new policy never rewrites
// what was already granted.
//
// All periods are exact durations; "12 months" of account protection is 365
// days.
type Policy struct {
	// Version identifies the policy; it is embedded in submissions and
	// approvals.
	Version int `json:"version"`
	// EffectiveFrom is when the policy starts to apply. The zero time means
	// "since the beginning".
	EffectiveFrom time.Time `json:"effective_from"`
	// FirstContactWindow is how long before submission the first contact
	// with the prospect may lie, so that partners cannot claim dormant
	// relationships.
	FirstContactWindow time.Duration `json:"first_contact_window_ns"`
	// OpportunityProtection is the protection an approved opportunity
	// registration gets, between 90 and 180 days.
	OpportunityProtection time.Duration `json:"opportunity_protection_ns"`
	// AccountProtection is the protection an approved named-account
	// registration (or a renewal of one) gets.
	AccountProtection time.Duration `json:"account_protection_ns"`
	// MaxExtensions is how many extensions an opportunity may be granted.
	MaxExtensions int `json:"max_extensions"`
	// ExtensionLength is how far one granted extension moves the protection
	// end.
	ExtensionLength time.Duration `json:"extension_length_ns"`
	// ReviewSLA is how long the vendor has to decide after a submission.
	ReviewSLA time.Duration `json:"review_sla_ns"`
	// ReminderBefore is how long before the protection end the partner is
	// reminded once. Zero disables reminders.
	ReminderBefore time.Duration `json:"reminder_before_ns"`
	// RenewalWindow is how long before the end of a named-account
	// protection a renewal may be granted.
	RenewalWindow time.Duration `json:"renewal_window_ns"`
	// RenewalGrace is how long after a named-account protection expired a
	// renewal may still be granted.
	RenewalGrace time.Duration `json:"renewal_grace_ns"`
	// MaxCloseHorizon is how far after submission the expected close date
	// may lie.
	MaxCloseHorizon time.Duration `json:"max_close_horizon_ns"`
	// ConflictSLA is how long each conflict-resolution level has to decide
	// (or escalate) a conflict: index 0 is level 1 (channel manager), 1 is
	// level 2 (channel director), 2 is level 3 (executive). Empty means
	// DefaultConflictSLA, so that policies written before conflicts existed
	// stay valid; otherwise it holds exactly ConflictLevels durations.
	ConflictSLA []time.Duration `json:"conflict_sla_ns"`
	// EscalationValue is the conflict value from which a conflict starts at
	// level 2 instead of level 1, for a value in a currency that
	// EscalationValues does not list. Zero disables the rule for those
	// currencies (like a zero ReminderBefore disables reminders).
	EscalationValue decimal.Decimal `json:"escalation_value"`
	// EscalationValues sets the threshold per currency (ISO 4217 code →
	// amount in that currency), so that a program selling in several
	// currencies escalates the same deal size in each: the policy carries
	// amounts, not exchange rates, so a replay decides exactly as the
	// first run did. Zero disables the rule for that currency.
	EscalationValues map[string]decimal.Decimal `json:"escalation_values,omitempty"`
	// StrategicTiers are the partner tiers whose involvement makes a
	// conflict start at level 2.
	StrategicTiers []PartnerTier `json:"strategic_tiers"`
}

// DefaultPolicy returns policy version 1 with the program's published
// numbers: first contact within 90 days, 90 days of protection for an
// opportunity and 12 months for a named account, at most 2 extensions of 30
// days, a 48-hour review SLA and a reminder 14 days before expiry. The
// renewal window (60 days before, 30 days after the end) and the 3-year close
// horizon are dealreg's own choices. Conflicts: 48 hours at level 1, 5 days
// at level 2 and 10 days at level 3; a conflict worth 250000 or more, or
// involving a platinum partner, starts at level 2.
func DefaultPolicy() Policy {
	return Policy{
		Version:               1,
		FirstContactWindow:    90 * Day,
		OpportunityProtection: 90 * Day,
		AccountProtection:     365 * Day,
		MaxExtensions:         2,
		ExtensionLength:       30 * Day,
		ReviewSLA:             48 * time.Hour,
		ReminderBefore:        14 * Day,
		RenewalWindow:         60 * Day,
		RenewalGrace:          30 * Day,
		MaxCloseHorizon:       3 * 365 * Day,
		ConflictSLA:           DefaultConflictSLA(),
		EscalationValue:       decimal.NewFromInt(250000),
		StrategicTiers:        []PartnerTier{TierPlatinum},
	}
}

// Validate checks the policy and returns one EINVALID *Error listing every
// failing field, or nil.
func (p Policy) Validate() error {
	var v validator
	if p.Version < 1 {
		v.add("policy.version", FieldOutOfRange, "must be 1 or more")
	}
	v.durationIn("policy.first_contact_window_ns", p.FirstContactWindow, Day, MaxFirstContactWindow)
	v.durationIn("policy.opportunity_protection_ns", p.OpportunityProtection, MinOpportunityProtection, MaxOpportunityProtection)
	v.durationIn("policy.account_protection_ns", p.AccountProtection, MinAccountProtection, MaxAccountProtection)
	if p.MaxExtensions < 0 || p.MaxExtensions > MaxPolicyExtensions {
		v.add("policy.max_extensions", FieldOutOfRange, fmt.Sprintf("must be between 0 and %d", MaxPolicyExtensions))
	}
	if p.MaxExtensions > 0 {
		v.durationIn("policy.extension_length_ns", p.ExtensionLength, Day, MaxExtensionLength)
	} else if p.ExtensionLength != 0 {
		v.add("policy.extension_length_ns", FieldInvalid, "must be 0 when no extensions are allowed")
	}
	v.durationIn("policy.review_sla_ns", p.ReviewSLA, time.Hour, 30*Day)
	if p.ReminderBefore < 0 || (p.ReminderBefore > 0 && p.ReminderBefore >= p.OpportunityProtection) {
		v.add("policy.reminder_before_ns", FieldOutOfRange, "must be 0 or shorter than the opportunity protection")
	}
	if p.RenewalWindow < 0 || (p.AccountProtection > 0 && p.RenewalWindow >= p.AccountProtection) {
		v.add("policy.renewal_window_ns", FieldOutOfRange, "must be 0 or more and shorter than the account protection")
	}
	if p.RenewalGrace < 0 || p.RenewalGrace > 180*Day {
		v.add("policy.renewal_grace_ns", FieldOutOfRange, "must be between 0 and 180 days")
	}
	v.durationIn("policy.max_close_horizon_ns", p.MaxCloseHorizon, 30*Day, 10*365*Day)
	p.validateConflicts(&v)
	return v.err("the policy is invalid")
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

func (v *validator) durationIn(field string, d, lo, hi time.Duration) {
	if d < lo || d > hi {
		v.add(field, FieldOutOfRange, fmt.Sprintf("must be between %s and %s", lo, hi))
	}
}
