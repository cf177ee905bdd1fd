package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// MaxPolicyDocument is the largest policy document accepted, in bytes.
const MaxPolicyDocument = 256 << 10

// ParsePolicy reads a policy document (JSON, periods in human units such as
// "90d" and "48h" or in ISO 8601 such as "P90D") and validates it. It
// returns one EINVALID *Error listing every failing field at once: unknown
// members, values of the wrong type, periods and amounts that do not
// parse, and every rule of Policy.Validate, each by its path in the
// document ("protection.opportunity.term").
func ParsePolicy(data []byte) (Policy, error) {
	if len(data) > MaxPolicyDocument {
		return Policy{}, Errorf(ETOOLARGE, "the policy document is over %d bytes", MaxPolicyDocument)
	}
	var doc policyDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		var typeErr *json.UnmarshalTypeError
		if !errors.As(err, &typeErr) {
			return Policy{}, &Error{Code: EINVALID, Message: "the policy document is not a JSON object",
				Fields: []FieldError{{Field: "", Code: FieldInvalid, Message: "must be a JSON object: " + err.Error()}}}
		}
		var v validator
		v.add(typeErr.Field, FieldInvalid, "must be a JSON "+jsonKind(typeErr.Type))
		return Policy{}, v.err("the policy is invalid")
	}
	var v validator
	var generic any
	if err := json.Unmarshal(data, &generic); err == nil {
		unknownMembers(&v, "", generic, reflect.TypeFor[policyDoc]())
	}
	p := doc.policy(&v)
	failed := make(map[string]bool, len(v.fields))
	for _, f := range v.fields {
		failed[f.Field] = true
	}
	var rules validator
	p.validate(&rules)
	for _, f := range rules.fields {
		if f.Field == "version" && p.Version == 0 {
			continue // 0 takes the next number when proposed
		}
		if !failed[f.Field] {
			v.fields = append(v.fields, f)
		}
	}
	if err := v.err("the policy is invalid"); err != nil {
		return Policy{}, err
	}
	return p, nil
}

// MarshalJSON writes p as its policy document: the form ParsePolicy reads,
// periods in human units (FormatPeriod), amounts and percentages as decimal
// strings. EffectiveFrom is not part of the document: publishing sets it.
func (p Policy) MarshalJSON() ([]byte, error) { return json.Marshal(p.document()) }

// UnmarshalJSON reads a policy document without validating its rules (the
// ledger's documents were validated when they were proposed); a value that
// does not parse is an error.
func (p *Policy) UnmarshalJSON(data []byte) error {
	var doc policyDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return err
	}
	var v validator
	got := doc.policy(&v)
	if err := v.err("the policy document does not parse"); err != nil {
		return err
	}
	*p = got
	return nil
}

// docValue is one scalar of a policy document, kept as the JSON it was
// written in so that a value of the wrong type is reported with the others
// instead of ending the decoding.
type docValue struct{ raw json.RawMessage }

func (d *docValue) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		d.raw = nil
		return nil
	}
	d.raw = append(json.RawMessage(nil), b...)
	return nil
}

func (d docValue) MarshalJSON() ([]byte, error) {
	if d.raw == nil {
		return []byte("null"), nil
	}
	return d.raw, nil
}

func docString(s string) docValue {
	b, _ := json.Marshal(s)
	return docValue{b}
}
func docInt(n int) docValue                 { return docValue{[]byte(strconv.Itoa(n))} }
func docBool(b bool) docValue               { return docValue{[]byte(strconv.FormatBool(b))} }
func docPeriod(d time.Duration) docValue    { return docString(FormatPeriod(d)) }
func docDecimal(d decimal.Decimal) docValue { return docString(d.String()) }

func docStrings[S ~string](items []S) []docValue {
	out := make([]docValue, len(items))
	for i, s := range items {
		out[i] = docString(string(s))
	}
	return out
}

func docAmounts[K ~string](m map[K]decimal.Decimal) map[string]docValue {
	out := make(map[string]docValue, len(m))
	for k, a := range m {
		out[string(k)] = docDecimal(a)
	}
	return out
}

// The policy document. Every scalar is a docValue; see docs/policy.md.
type (
	policyDoc struct {
		Version      docValue        `json:"version"`
		Summary      docValue        `json:"summary"`
		Eligibility  eligibilityDoc  `json:"eligibility"`
		Registration registrationDoc `json:"registration"`
		Protection   protectionDoc   `json:"protection"`
		Review       reviewDoc       `json:"review"`
		Conflicts    conflictsDoc    `json:"conflicts"`
		AutoApproval autoApprovalDoc `json:"auto_approval"`
		Routing      routingDoc      `json:"routing"`
		Benefits     benefitsDoc     `json:"benefits"`
		Penalties    penaltiesDoc    `json:"penalties"`
		Changes      changesDoc      `json:"changes"`
	}
	eligibilityDoc struct {
		Opportunity  typeEligibilityDoc `json:"opportunity"`
		NamedAccount typeEligibilityDoc `json:"named_account"`
	}
	typeEligibilityDoc struct {
		Tiers          []docValue `json:"tiers"`
		Certifications []docValue `json:"certifications"`
		Trainings      []docValue `json:"trainings"`
	}
	registrationDoc struct {
		RequiredFields     requiredFieldsDoc `json:"required_fields"`
		ProofKinds         []docValue        `json:"proof_kinds"`
		MinProofItems      docValue          `json:"min_proof_items"`
		FirstContactWindow docValue          `json:"first_contact_window"`
		MaxCloseHorizon    docValue          `json:"max_close_horizon"`
	}
	requiredFieldsDoc struct {
		Opportunity  []docValue `json:"opportunity"`
		NamedAccount []docValue `json:"named_account"`
	}
	protectionDoc struct {
		Opportunity    opportunityTermsDoc `json:"opportunity"`
		NamedAccount   accountTermsDoc     `json:"named_account"`
		ExpiryReminder docValue            `json:"expiry_reminder"`
	}
	opportunityTermsDoc struct {
		Term            docValue `json:"term"`
		MaxExtensions   docValue `json:"max_extensions"`
		ExtensionLength docValue `json:"extension_length"`
	}
	accountTermsDoc struct {
		Term                docValue            `json:"term"`
		RenewalWindow       docValue            `json:"renewal_window"`
		RenewalGrace        docValue            `json:"renewal_grace"`
		RenewalMinClosedWon docValue            `json:"renewal_min_closed_won"`
		RenewalMinWonValue  map[string]docValue `json:"renewal_min_won_value"`
	}
	reviewDoc struct {
		SLA               docValue `json:"sla"`
		ReminderBeforeDue docValue `json:"reminder_before_due"`
		EscalateAfterDue  docValue `json:"escalate_after_due"`
		EscalateTo        docValue `json:"escalate_to"`
	}
	conflictsDoc struct {
		Rule             docValue            `json:"rule"`
		LevelSLA         []docValue          `json:"level_sla"`
		EscalationValue  docValue            `json:"escalation_value"`
		EscalationValues map[string]docValue `json:"escalation_values"`
		StrategicTiers   []docValue          `json:"strategic_tiers"`
	}
	autoApprovalDoc struct {
		Enabled                docValue            `json:"enabled"`
		Types                  []docValue          `json:"types"`
		Tiers                  []docValue          `json:"tiers"`
		MaxValue               map[string]docValue `json:"max_value"`
		TrackRecordWindow      docValue            `json:"track_record_window"`
		MinDecided             docValue            `json:"min_decided"`
		MinApprovalRatePercent docValue            `json:"min_approval_rate_percent"`
		MinWinRatePercent      docValue            `json:"min_win_rate_percent"`
		RequireProof           docValue            `json:"require_proof"`
	}
	routingDoc struct {
		Groups []reviewGroupDoc `json:"groups"`
		// Omitted when empty, so that version 1's document reads as it
		// always did.
		UnassignedManagerMaxValue map[string]docValue `json:"unassigned_manager_max_value,omitempty"`
	}
	reviewGroupDoc struct {
		Name       docValue            `json:"name"`
		Regions    []docValue          `json:"regions"`
		Industries []docValue          `json:"industries"`
		Tiers      []docValue          `json:"tiers"`
		MinValue   map[string]docValue `json:"min_value"`
	}
	benefitsDoc struct {
		Discount discountDoc   `json:"discount"`
		MDF      mdfDoc        `json:"mdf"`
		Presales []presalesDoc `json:"presales"`
	}
	discountDoc struct {
		TierBasePercent          map[string]docValue `json:"tier_base_percent"`
		RegistrationBonusPercent map[string]docValue `json:"registration_bonus_percent"`
	}
	mdfDoc struct {
		Percent docValue            `json:"percent"`
		Caps    map[string]docValue `json:"caps"`
	}
	presalesDoc struct {
		Name        docValue            `json:"name"`
		MinValue    map[string]docValue `json:"min_value"`
		Dedicated   []docValue          `json:"dedicated"`
		PooledHours docValue            `json:"pooled_hours"`
	}
	penaltiesDoc struct {
		Violations   []penaltyDoc `json:"violations"`
		OnSuspension docValue     `json:"on_suspension"`
	}
	penaltyDoc struct {
		Kind      docValue `json:"kind"`
		Revoke    docValue `json:"revoke"`
		Suspend   docValue `json:"suspend"`
		Terminate docValue `json:"terminate"`
	}
	changesDoc struct {
		NoticePeriod docValue `json:"notice_period"`
		ReviewEvery  docValue `json:"review_every"`
	}
)

// document returns p as its document.
func (p Policy) document() policyDoc {
	sla := p.ConflictSLA
	if len(sla) != ConflictLevels {
		sla = DefaultConflictSLA()
	}
	slaDoc := make([]docValue, len(sla))
	for i, d := range sla {
		slaDoc[i] = docPeriod(d)
	}
	groups := make([]reviewGroupDoc, len(p.Routing.Groups))
	for i, g := range p.Routing.Groups {
		groups[i] = reviewGroupDoc{Name: docString(g.Name), Regions: docStrings(g.Regions), Industries: docStrings(g.Industries),
			Tiers: docStrings(g.Tiers), MinValue: docAmounts(g.MinValue)}
	}
	presales := make([]presalesDoc, len(p.Benefits.Presales))
	for i, l := range p.Benefits.Presales {
		presales[i] = presalesDoc{Name: docString(l.Name), MinValue: docAmounts(l.MinValue), Dedicated: docStrings(l.Dedicated), PooledHours: docInt(l.PooledHours)}
	}
	violations := make([]penaltyDoc, len(p.Penalties.Violations))
	for i, pen := range p.Penalties.Violations {
		violations[i] = penaltyDoc{Kind: docString(pen.Kind), Revoke: docBool(pen.Revoke), Suspend: docPeriod(pen.Suspend), Terminate: docBool(pen.Terminate)}
	}
	elig := func(e TypeEligibility) typeEligibilityDoc {
		return typeEligibilityDoc{Tiers: docStrings(e.Tiers), Certifications: docStrings(e.Certifications), Trainings: docStrings(e.Trainings)}
	}
	a := p.AutoApproval
	return policyDoc{
		Version:     docInt(p.Version),
		Summary:     docString(p.Summary),
		Eligibility: eligibilityDoc{Opportunity: elig(p.Eligibility.Opportunity), NamedAccount: elig(p.Eligibility.NamedAccount)},
		Registration: registrationDoc{
			RequiredFields: requiredFieldsDoc{
				Opportunity:  docStrings(p.RequiredFields[TypeOpportunity]),
				NamedAccount: docStrings(p.RequiredFields[TypeNamedAccount]),
			},
			ProofKinds:         docStrings(p.ProofKinds),
			MinProofItems:      docInt(p.MinProofItems),
			FirstContactWindow: docPeriod(p.FirstContactWindow),
			MaxCloseHorizon:    docPeriod(p.MaxCloseHorizon),
		},
		Protection: protectionDoc{
			Opportunity: opportunityTermsDoc{Term: docPeriod(p.OpportunityProtection), MaxExtensions: docInt(p.MaxExtensions),
				ExtensionLength: docPeriod(p.ExtensionLength)},
			NamedAccount: accountTermsDoc{Term: docPeriod(p.AccountProtection), RenewalWindow: docPeriod(p.RenewalWindow),
				RenewalGrace: docPeriod(p.RenewalGrace), RenewalMinClosedWon: docInt(p.Renewal.MinClosedWon),
				RenewalMinWonValue: docAmounts(p.Renewal.MinWonValue)},
			ExpiryReminder: docPeriod(p.ReminderBefore),
		},
		Review: reviewDoc{SLA: docPeriod(p.ReviewSLA), ReminderBeforeDue: docPeriod(p.ReviewReminderBefore),
			EscalateAfterDue: docPeriod(p.ReviewEscalateAfter), EscalateTo: docString(string(p.ReviewEscalateTo))},
		Conflicts: conflictsDoc{Rule: docString(p.ConflictRule), LevelSLA: slaDoc, EscalationValue: docDecimal(p.EscalationValue),
			EscalationValues: docAmounts(p.EscalationValues), StrategicTiers: docStrings(p.StrategicTiers)},
		AutoApproval: autoApprovalDoc{Enabled: docBool(a.Enabled), Types: docStrings(a.Types), Tiers: docStrings(a.Tiers),
			MaxValue: docAmounts(a.MaxValue), TrackRecordWindow: docPeriod(a.TrackRecordWindow), MinDecided: docInt(a.MinDecided),
			MinApprovalRatePercent: docDecimal(a.MinApprovalRate), MinWinRatePercent: docDecimal(a.MinWinRate), RequireProof: docBool(a.RequireProof)},
		Routing: routingDoc{Groups: groups, UnassignedManagerMaxValue: docAmounts(p.Routing.UnassignedManagerMaxValue)},
		Benefits: benefitsDoc{
			Discount: discountDoc{TierBasePercent: docAmounts(p.Benefits.TierDiscount), RegistrationBonusPercent: docAmounts(p.Benefits.RegistrationBonus)},
			MDF:      mdfDoc{Percent: docDecimal(p.Benefits.MDFPercent), Caps: docAmounts(p.Benefits.MDFCaps)},
			Presales: presales,
		},
		Penalties: penaltiesDoc{Violations: violations, OnSuspension: docString(p.Penalties.OnSuspension)},
		Changes:   changesDoc{NoticePeriod: docPeriod(p.NoticePeriod), ReviewEvery: docPeriod(p.ReviewEvery)},
	}
}

// policy converts the document, reporting on v every value that does not
// parse. Missing values are left zero for the rules to report.
func (d policyDoc) policy(v *validator) Policy {
	elig := func(path string, e typeEligibilityDoc) TypeEligibility {
		return TypeEligibility{
			Tiers:          readStrings(v, path+".tiers", e.Tiers, func(s string) PartnerTier { return PartnerTier(s) }),
			Certifications: readStrings(v, path+".certifications", e.Certifications, func(s string) string { return s }),
			Trainings:      readStrings(v, path+".trainings", e.Trainings, func(s string) string { return s }),
		}
	}
	id := func(s string) string { return s }
	tier := func(s string) PartnerTier { return PartnerTier(s) }
	p := Policy{
		Version: v.docInt("version", d.Version, false),
		Summary: v.docString("summary", d.Summary, false),
		Eligibility: Eligibility{
			Opportunity:  elig("eligibility.opportunity", d.Eligibility.Opportunity),
			NamedAccount: elig("eligibility.named_account", d.Eligibility.NamedAccount),
		},
		RequiredFields: map[RegistrationType][]string{
			TypeOpportunity:  readStrings(v, "registration.required_fields.opportunity", d.Registration.RequiredFields.Opportunity, id),
			TypeNamedAccount: readStrings(v, "registration.required_fields.named_account", d.Registration.RequiredFields.NamedAccount, id),
		},
		ProofKinds:            readStrings(v, "registration.proof_kinds", d.Registration.ProofKinds, func(s string) ProofKind { return ProofKind(s) }),
		MinProofItems:         v.docInt("registration.min_proof_items", d.Registration.MinProofItems, false),
		FirstContactWindow:    v.docPeriod("registration.first_contact_window", d.Registration.FirstContactWindow),
		MaxCloseHorizon:       v.docPeriod("registration.max_close_horizon", d.Registration.MaxCloseHorizon),
		OpportunityProtection: v.docPeriod("protection.opportunity.term", d.Protection.Opportunity.Term),
		MaxExtensions:         v.docInt("protection.opportunity.max_extensions", d.Protection.Opportunity.MaxExtensions, true),
		ExtensionLength:       v.docPeriod("protection.opportunity.extension_length", d.Protection.Opportunity.ExtensionLength),
		AccountProtection:     v.docPeriod("protection.named_account.term", d.Protection.NamedAccount.Term),
		RenewalWindow:         v.docPeriod("protection.named_account.renewal_window", d.Protection.NamedAccount.RenewalWindow),
		RenewalGrace:          v.docPeriod("protection.named_account.renewal_grace", d.Protection.NamedAccount.RenewalGrace),
		Renewal: RenewalConditions{
			MinClosedWon: v.docInt("protection.named_account.renewal_min_closed_won", d.Protection.NamedAccount.RenewalMinClosedWon, false),
			MinWonValue:  docAmountMap(v, "protection.named_account.renewal_min_won_value", d.Protection.NamedAccount.RenewalMinWonValue, id),
		},
		ReminderBefore:       v.docPeriod("protection.expiry_reminder", d.Protection.ExpiryReminder),
		ReviewSLA:            v.docPeriod("review.sla", d.Review.SLA),
		ReviewReminderBefore: v.docPeriod("review.reminder_before_due", d.Review.ReminderBeforeDue),
		ReviewEscalateAfter:  v.docPeriod("review.escalate_after_due", d.Review.EscalateAfterDue),
		ReviewEscalateTo:     Role(v.docString("review.escalate_to", d.Review.EscalateTo, true)),
		ConflictRule:         v.docString("conflicts.rule", d.Conflicts.Rule, true),
		EscalationValue:      v.docDecimal("conflicts.escalation_value", d.Conflicts.EscalationValue, true),
		EscalationValues:     docAmountMap(v, "conflicts.escalation_values", d.Conflicts.EscalationValues, id),
		StrategicTiers:       readStrings(v, "conflicts.strategic_tiers", d.Conflicts.StrategicTiers, tier),
		AutoApproval: AutoApproval{
			Enabled:           v.docBool("auto_approval.enabled", d.AutoApproval.Enabled),
			Types:             readStrings(v, "auto_approval.types", d.AutoApproval.Types, func(s string) RegistrationType { return RegistrationType(s) }),
			Tiers:             readStrings(v, "auto_approval.tiers", d.AutoApproval.Tiers, tier),
			MaxValue:          docAmountMap(v, "auto_approval.max_value", d.AutoApproval.MaxValue, id),
			TrackRecordWindow: v.docPeriod("auto_approval.track_record_window", d.AutoApproval.TrackRecordWindow),
			MinDecided:        v.docInt("auto_approval.min_decided", d.AutoApproval.MinDecided, false),
			MinApprovalRate:   v.docDecimal("auto_approval.min_approval_rate_percent", d.AutoApproval.MinApprovalRatePercent, false),
			MinWinRate:        v.docDecimal("auto_approval.min_win_rate_percent", d.AutoApproval.MinWinRatePercent, false),
			RequireProof:      v.docBool("auto_approval.require_proof", d.AutoApproval.RequireProof),
		},
		Benefits: Benefits{
			TierDiscount:      docAmountMap(v, "benefits.discount.tier_base_percent", d.Benefits.Discount.TierBasePercent, tier),
			RegistrationBonus: docAmountMap(v, "benefits.discount.registration_bonus_percent", d.Benefits.Discount.RegistrationBonusPercent, func(s string) RegistrationType { return RegistrationType(s) }),
			MDFPercent:        v.docDecimal("benefits.mdf.percent", d.Benefits.MDF.Percent, true),
			MDFCaps:           docAmountMap(v, "benefits.mdf.caps", d.Benefits.MDF.Caps, id),
		},
		Penalties:    Penalties{OnSuspension: v.docString("penalties.on_suspension", d.Penalties.OnSuspension, true)},
		NoticePeriod: v.docPeriod("changes.notice_period", d.Changes.NoticePeriod),
		ReviewEvery:  v.docPeriod("changes.review_every", d.Changes.ReviewEvery),
	}
	if len(d.Conflicts.LevelSLA) > 0 {
		p.ConflictSLA = make([]time.Duration, len(d.Conflicts.LevelSLA))
		for i, x := range d.Conflicts.LevelSLA {
			p.ConflictSLA[i] = v.docPeriod(fmt.Sprintf("conflicts.level_sla[%d]", i), x)
		}
	}
	for i, g := range d.Routing.Groups {
		path := fmt.Sprintf("routing.groups[%d]", i)
		p.Routing.Groups = append(p.Routing.Groups, ReviewGroup{
			Name:       v.docString(path+".name", g.Name, true),
			Regions:    readStrings(v, path+".regions", g.Regions, id),
			Industries: readStrings(v, path+".industries", g.Industries, id),
			Tiers:      readStrings(v, path+".tiers", g.Tiers, tier),
			MinValue:   docAmountMap(v, path+".min_value", g.MinValue, id),
		})
	}
	p.Routing.UnassignedManagerMaxValue = docAmountMap(v, "routing.unassigned_manager_max_value", d.Routing.UnassignedManagerMaxValue, id)
	for i, l := range d.Benefits.Presales {
		path := fmt.Sprintf("benefits.presales[%d]", i)
		p.Benefits.Presales = append(p.Benefits.Presales, PresalesLevel{
			Name:        v.docString(path+".name", l.Name, true),
			MinValue:    docAmountMap(v, path+".min_value", l.MinValue, id),
			Dedicated:   readStrings(v, path+".dedicated", l.Dedicated, id),
			PooledHours: v.docInt(path+".pooled_hours", l.PooledHours, false),
		})
	}
	for i, pen := range d.Penalties.Violations {
		path := fmt.Sprintf("penalties.violations[%d]", i)
		p.Penalties.Violations = append(p.Penalties.Violations, Penalty{
			Kind:      v.docString(path+".kind", pen.Kind, true),
			Revoke:    v.docBool(path+".revoke", pen.Revoke),
			Suspend:   v.docPeriod(path+".suspend", pen.Suspend),
			Terminate: v.docBool(path+".terminate", pen.Terminate),
		})
	}
	return p
}

// docString reads a string; a missing one is "" (or, if required, an
// error).
func (v *validator) docString(field string, d docValue, required bool) string {
	if d.raw == nil {
		if required {
			v.add(field, FieldRequired, "is required")
		}
		return ""
	}
	var s string
	if d.raw[0] != '"' || json.Unmarshal(d.raw, &s) != nil {
		v.add(field, FieldInvalid, "must be a string")
		return ""
	}
	return s
}

func (v *validator) docInt(field string, d docValue, required bool) int {
	if d.raw == nil {
		if required {
			v.add(field, FieldRequired, "is required")
		}
		return 0
	}
	n, err := strconv.ParseInt(string(d.raw), 10, 32)
	if err != nil {
		v.add(field, FieldInvalid, "must be a whole number")
		return 0
	}
	return int(n)
}

func (v *validator) docBool(field string, d docValue) bool {
	switch string(d.raw) {
	case "", "false":
		return false
	case "true":
		return true
	}
	v.add(field, FieldInvalid, "must be true or false")
	return false
}

func (v *validator) docPeriod(field string, d docValue) time.Duration {
	if d.raw == nil {
		v.add(field, FieldRequired, `is required: a period such as "90d" or "48h"`)
		return 0
	}
	var s string
	if d.raw[0] != '"' || json.Unmarshal(d.raw, &s) != nil {
		v.add(field, FieldInvalid, `must be a period written as a string, such as "90d", "48h" or "P90D"`)
		return 0
	}
	p, err := ParsePeriod(s)
	if err != nil {
		v.add(field, FieldInvalid, err.Error())
		return 0
	}
	return p
}

// docDecimal reads an amount or a percentage: a decimal string ("10",
// "2.5") or a JSON number.
func (v *validator) docDecimal(field string, d docValue, required bool) decimal.Decimal {
	if d.raw == nil {
		if required {
			v.add(field, FieldRequired, "is required")
		}
		return decimal.Zero
	}
	s := string(d.raw)
	if d.raw[0] == '"' {
		if json.Unmarshal(d.raw, &s) != nil {
			s = ""
		}
	}
	x, err := decimal.NewFromString(s)
	if err != nil || strings.ContainsAny(s, "eE") {
		v.add(field, FieldInvalid, `must be a decimal number such as "10" or "2.5"`)
		return decimal.Zero
	}
	return x
}

// readStrings reads a list of strings; a missing list is nil.
func readStrings[T ~string](v *validator, field string, items []docValue, conv func(string) T) []T {
	if len(items) == 0 {
		return nil
	}
	out := make([]T, 0, len(items))
	for i, d := range items {
		f := fmt.Sprintf("%s[%d]", field, i)
		out = append(out, conv(v.docString(f, d, true)))
	}
	return out
}

func docAmountMap[K ~string](v *validator, field string, m map[string]docValue, conv func(string) K) map[K]decimal.Decimal {
	if len(m) == 0 {
		return nil
	}
	out := make(map[K]decimal.Decimal, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out[conv(k)] = v.docDecimal(field+"."+k, m[k], true)
	}
	return out
}

// unknownMembers reports every member of the JSON value got that type t
// (a document struct) does not have, by its path.
func unknownMembers(v *validator, path string, got any, t reflect.Type) {
	switch t.Kind() {
	case reflect.Struct:
		if t == reflect.TypeFor[docValue]() {
			return
		}
		obj, ok := got.(map[string]any)
		if !ok {
			return // a type error, reported when converting
		}
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			fields[name] = f.Type
		}
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			ft, ok := fields[k]
			if !ok {
				v.add(joinPath(path, k), FieldInvalid, "is not a member of the policy document")
				continue
			}
			unknownMembers(v, joinPath(path, k), obj[k], ft)
		}
	case reflect.Slice:
		list, _ := got.([]any)
		for i, x := range list {
			unknownMembers(v, fmt.Sprintf("%s[%d]", path, i), x, t.Elem())
		}
	}
}

func joinPath(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	}
	return t.Kind().String()
}

// PolicyChange is one field that differs between two policy versions, with
// both values as the document writes them ("" when absent).
type PolicyChange struct {
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// DiffPolicies compares two policies field by field, by their documents, in
// document order; the version number and the summary are compared too.
func DiffPolicies(a, b Policy) []PolicyChange {
	fa, fb := flattenDoc(a), flattenDoc(b)
	var out []PolicyChange
	seen := map[string]bool{}
	for _, list := range [][]flatField{fa, fb} {
		for _, f := range list {
			if seen[f.path] {
				continue
			}
			seen[f.path] = true
			from, to := lookupFlat(fa, f.path), lookupFlat(fb, f.path)
			if from != to {
				out = append(out, PolicyChange{Field: f.path, From: from, To: to})
			}
		}
	}
	return out
}

type flatField struct{ path, value string }

func lookupFlat(list []flatField, path string) string {
	for _, f := range list {
		if f.path == path {
			return f.value
		}
	}
	return ""
}

// flattenDoc lists the document's leaves in order: scalars, and lists of
// scalars as one comma-separated value; lists of objects by index.
func flattenDoc(p Policy) []flatField {
	raw, _ := json.Marshal(p)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out []flatField
	var walk func(path string, dec *json.Decoder)
	walk = func(path string, dec *json.Decoder) {
		tok, err := dec.Token()
		if err != nil {
			return
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				for dec.More() {
					k, _ := dec.Token()
					walk(joinPath(path, fmt.Sprint(k)), dec)
				}
				_, _ = dec.Token()
			case '[':
				var scalars []string
				objects := false
				for i := 0; dec.More(); i++ {
					var x json.RawMessage
					_ = dec.Decode(&x)
					if len(x) > 0 && (x[0] == '{' || x[0] == '[') {
						objects = true
						sub := json.NewDecoder(bytes.NewReader(x))
						sub.UseNumber()
						walk(fmt.Sprintf("%s[%d]", path, i), sub)
						continue
					}
					scalars = append(scalars, scalarText(x))
				}
				_, _ = dec.Token()
				if !objects {
					out = append(out, flatField{path, strings.Join(scalars, ", ")})
				}
			}
		default:
			out = append(out, flatField{path, fmt.Sprint(t)})
		}
	}
	walk("", dec)
	return out
}

func scalarText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}
