package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The partner program: a partner's profile (tier, regions, verticals), its
// certification and training records, and its standing (active, suspended
// until a time, terminated). Every change is an event of the partner's
// stream with its actor, except the suspensions and terminations a
// violation causes: those are part of RegistrationViolationRecorded, on the
// registration's stream, so that the violation, the registration's
// revocation and the partner's penalty are one atomic append (see
// docs/partners.md).

// PartnerStatus is where a partner stands in the program at an instant.
type PartnerStatus string

// The partner statuses.
const (
	PartnerStatusActive     PartnerStatus = "active"
	PartnerStatusSuspended  PartnerStatus = "suspended"
	PartnerStatusTerminated PartnerStatus = "terminated"
)

// Error codes of the partner program. Both answer 403: the caller is who it
// says, but the program does not let it (or the partner it acts for) do
// this now.
const (
	// ENOTELIGIBLE: the partner's tier or records do not meet the
	// policy's eligibility for what it asked; Fields name every gap.
	ENOTELIGIBLE = "not_eligible"
	// ESUSPENDED: the partner is suspended or terminated; Fields say
	// until when.
	ESUSPENDED = "partner_suspended"
)

// Field codes of eligibility and standing failures.
const (
	FieldTierNotEligible = "tier_not_eligible" // the partner's tier may not register this type
	FieldMissing         = "missing"           // a required record is absent
	FieldExpired         = "expired"           // a required record expired before the decision's time
	FieldNotYetValid     = "not_yet_valid"     // a required record was issued after the decision's time
	FieldSuspended       = "suspended"         // the partner is suspended at the decision's time
	FieldTerminated      = "terminated"        // the partner's membership ended
)

// CredentialKind tells certifications from trainings.
type CredentialKind string

// The kinds of credential.
const (
	CredentialCertification CredentialKind = "certification"
	CredentialTraining      CredentialKind = "training"
)

// Limits of partner program inputs.
const (
	MaxCredentialNameLen = MaxPolicyNameLen
	MaxCredentials       = 200
	MaxStandingReasonLen = MaxReasonLen
	MaxSuspension        = 10 * 365 * Day
)

// Credential is one certification or training record of a partner. A
// record with the same kind and name as an earlier one replaces it (a
// renewal, or a correction).
type Credential struct {
	Kind    CredentialKind `json:"kind"`
	Name    string         `json:"name"`
	Issued  time.Time      `json:"issued"`
	Expires time.Time      `json:"expires,omitzero"` // zero: never expires
}

// ValidAt reports whether the record is in force at t: issued at or before
// t and not expired by then.
func (c Credential) ValidAt(t time.Time) bool {
	return !t.Before(c.Issued) && (c.Expires.IsZero() || t.Before(c.Expires))
}

// Suspension is one period during which the partner may neither submit nor
// be granted anything. Until is when it ends (possibly moved earlier by a
// reinstatement: LiftedAt is then set).
type Suspension struct {
	From        time.Time `json:"from"`
	Until       time.Time `json:"until"`
	Reason      string    `json:"reason"`
	ViolationID string    `json:"violation_id,omitempty"`
	By          string    `json:"by"`
	LiftedAt    time.Time `json:"lifted_at,omitzero"`
}

// ViolationSummary is what a partner's record keeps of a violation: not
// the evidence, which stays on the registration's stream for reviewers.
type ViolationSummary struct {
	ViolationID    string    `json:"violation_id"`
	RegistrationID string    `json:"registration_id"`
	Kind           string    `json:"kind"`
	Sanction       Sanction  `json:"sanction"`
	PolicyVersion  int       `json:"policy_version"`
	RecordedBy     string    `json:"recorded_by"`
	At             time.Time `json:"at"`
}

// PartnerStanding is a partner's records and standing, folded from its
// events in ledger order by Apply. Its status at an instant is StatusAt.
type PartnerStanding struct {
	Credentials  []Credential       `json:"credentials"`
	Suspensions  []Suspension       `json:"suspensions"`
	Violations   []ViolationSummary `json:"violations"`
	TerminatedAt time.Time          `json:"terminated_at,omitzero"`
	// TerminationReason says why the membership ended.
	TerminationReason string `json:"termination_reason,omitempty"`
}

// Clone returns a deep copy of s.
func (s PartnerStanding) Clone() PartnerStanding {
	s.Credentials = slices.Clone(s.Credentials)
	s.Suspensions = slices.Clone(s.Suspensions)
	s.Violations = slices.Clone(s.Violations)
	return s
}

// Apply folds one event of the partner into its standing; other events are
// ignored.
func (s *PartnerStanding) Apply(e Event) {
	switch e := e.(type) {
	case PartnerCredentialRecorded:
		c := e.Credential
		i := slices.IndexFunc(s.Credentials, func(o Credential) bool { return o.Kind == c.Kind && o.Name == c.Name })
		if i >= 0 {
			s.Credentials[i] = c
		} else {
			s.Credentials = append(s.Credentials, c)
		}
	case PartnerSuspended:
		s.Suspensions = append(s.Suspensions, Suspension{From: e.At, Until: e.Until, Reason: e.Reason, By: e.SuspendedBy})
	case PartnerReinstated:
		for i, p := range s.Suspensions {
			if !p.From.After(e.At) && p.Until.After(e.At) {
				s.Suspensions[i].Until, s.Suspensions[i].LiftedAt = e.At, e.At
			}
		}
	case PartnerTerminated:
		if s.TerminatedAt.IsZero() {
			s.TerminatedAt, s.TerminationReason = e.At, e.Reason
		}
	case RegistrationViolationRecorded:
		s.Violations = append(s.Violations, ViolationSummary{
			ViolationID: e.ViolationID.String(), RegistrationID: e.RegistrationID.String(), Kind: e.Kind,
			Sanction: e.Sanction, PolicyVersion: e.PolicyVersion, RecordedBy: e.RecordedBy, At: e.At,
		})
		switch {
		case e.Sanction.Terminate:
			if s.TerminatedAt.IsZero() {
				s.TerminatedAt, s.TerminationReason = e.At, "violation: "+e.Kind
			}
		case !e.Sanction.SuspendedUntil.IsZero():
			s.Suspensions = append(s.Suspensions, Suspension{From: e.At, Until: e.Sanction.SuspendedUntil,
				Reason: "violation: " + e.Kind, ViolationID: e.ViolationID.String(), By: e.RecordedBy})
		}
	}
}

// StatusAt returns the partner's status at t, and, when suspended, until
// when (the latest end of the suspensions in force at t).
func (s PartnerStanding) StatusAt(t time.Time) (PartnerStatus, time.Time) {
	if !s.TerminatedAt.IsZero() && !t.Before(s.TerminatedAt) {
		return PartnerStatusTerminated, time.Time{}
	}
	var until time.Time
	for _, p := range s.Suspensions {
		if !t.Before(p.From) && t.Before(p.Until) && p.Until.After(until) {
			until = p.Until
		}
	}
	if !until.IsZero() {
		return PartnerStatusSuspended, until
	}
	return PartnerStatusActive, time.Time{}
}

// Credential returns the partner's record of kind and name, if any.
func (s PartnerStanding) Credential(kind CredentialKind, name string) (Credential, bool) {
	i := slices.IndexFunc(s.Credentials, func(c Credential) bool { return c.Kind == kind && c.Name == name })
	if i < 0 {
		return Credential{}, false
	}
	return s.Credentials[i], true
}

// CheckGoodStanding returns an ESUSPENDED *Error when partner id, of
// standing s, is suspended or terminated at t and so may not do action
// ("submit registrations", "be granted an approval").
func (s PartnerStanding) CheckGoodStanding(id string, t time.Time, action string) error {
	switch status, until := s.StatusAt(t); status {
	case PartnerStatusTerminated:
		return &Error{Code: ESUSPENDED,
			Message: fmt.Sprintf("partner %s's membership of the program ended on %s: it may not %s", id, s.TerminatedAt.UTC().Format(time.RFC3339), action),
			Fields:  []FieldError{{Field: "partner.status", Code: FieldTerminated, Message: "terminated since " + s.TerminatedAt.UTC().Format(time.RFC3339)}}}
	case PartnerStatusSuspended:
		return &Error{Code: ESUSPENDED,
			Message: fmt.Sprintf("partner %s is suspended until %s: it may not %s", id, until.UTC().Format(time.RFC3339), action),
			Fields:  []FieldError{{Field: "partner.status", Code: FieldSuspended, Message: "suspended until " + until.UTC().Format(time.RFC3339)}}}
	}
	return nil
}

// CheckEligibility decides whether partner p, of standing s, may submit a
// registration of type t at time at under policy pol: it must be in good
// standing (an ESUSPENDED error otherwise) and then meet the policy's
// eligibility for the type. An ENOTELIGIBLE *Error names every gap at once:
// the tier ("partner.tier") and each required certification or training
// ("partner.certifications.<name>", "partner.trainings.<name>") that is
// missing, expired before at, or not yet issued at at.
func CheckEligibility(pol Policy, p Partner, s PartnerStanding, t RegistrationType, at time.Time) error {
	if err := s.CheckGoodStanding(p.ID, at, "submit registrations"); err != nil {
		return err
	}
	e := pol.Eligibility.For(t)
	var fields []FieldError
	if !slices.Contains(e.Tiers, p.Tier) {
		tiers := make([]string, len(e.Tiers))
		for i, x := range e.Tiers {
			tiers[i] = string(x)
		}
		allowed := "none"
		if len(tiers) > 0 {
			allowed = strings.Join(tiers, ", ")
		}
		fields = append(fields, FieldError{Field: "partner.tier", Code: FieldTierNotEligible,
			Message: fmt.Sprintf("tier %s may not register %s; eligible tiers: %s", orNone(string(p.Tier)), t, allowed)})
	}
	check := func(kind CredentialKind, path string, names []string) {
		for _, name := range names {
			field := "partner." + path + "." + name
			c, ok := s.Credential(kind, name)
			switch {
			case !ok:
				fields = append(fields, FieldError{Field: field, Code: FieldMissing,
					Message: fmt.Sprintf("the %s %q is required to register %s", kind, name, t)})
			case at.Before(c.Issued):
				fields = append(fields, FieldError{Field: field, Code: FieldNotYetValid,
					Message: fmt.Sprintf("the %s %q is issued from %s, after the submission", kind, name, c.Issued.UTC().Format(time.RFC3339))})
			case !c.ValidAt(at):
				fields = append(fields, FieldError{Field: field, Code: FieldExpired,
					Message: fmt.Sprintf("the %s %q expired on %s, before the submission", kind, name, c.Expires.UTC().Format(time.RFC3339))})
			}
		}
	}
	check(CredentialCertification, "certifications", e.Certifications)
	check(CredentialTraining, "trainings", e.Trainings)
	if len(fields) == 0 {
		return nil
	}
	what := make([]string, len(fields))
	for i, f := range fields {
		what[i] = f.Field + " (" + f.Code + ")"
	}
	return &Error{Code: ENOTELIGIBLE,
		Message: fmt.Sprintf("partner %s is not eligible to register %s under policy v%d: %s", p.ID, t, pol.Version, strings.Join(what, ", ")),
		Fields:  fields}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// Events of the partner program, in the partner's stream.

// PartnerCredentialRecorded records a certification or training of a
// partner.
type PartnerCredentialRecorded struct {
	PartnerID  string     `json:"partner_id"`
	Credential Credential `json:"credential"`
	RecordedBy string     `json:"recorded_by"`
	At         time.Time  `json:"at"`
}

// PartnerSuspended records that a partner was suspended from At until
// Until by a reviewer's decision (violations record their suspensions in
// RegistrationViolationRecorded).
type PartnerSuspended struct {
	PartnerID     string    `json:"partner_id"`
	Until         time.Time `json:"until"`
	Reason        string    `json:"reason"`
	PolicyVersion int       `json:"policy_version"`
	SuspendedBy   string    `json:"suspended_by"`
	At            time.Time `json:"at"`
}

// PartnerReinstated records that the suspensions in force were lifted.
type PartnerReinstated struct {
	PartnerID    string    `json:"partner_id"`
	Reason       string    `json:"reason"`
	ReinstatedBy string    `json:"reinstated_by"`
	At           time.Time `json:"at"`
}

// PartnerTerminated records that a partner's membership ended for good.
type PartnerTerminated struct {
	PartnerID     string    `json:"partner_id"`
	Reason        string    `json:"reason"`
	PolicyVersion int       `json:"policy_version"`
	TerminatedBy  string    `json:"terminated_by"`
	At            time.Time `json:"at"`
}

// directorOrAbove reports whether role may take the program's gravest
// decisions: terminations, and lifting suspensions.
func directorOrAbove(r Role) bool {
	return r == RoleChannelDirector || r == RoleExecutive || r == RoleAdmin
}

// PartnerProfile is a change of a partner's profile: nil fields stay as
// they are.
type PartnerProfile struct {
	Name      *string      `json:"name,omitempty"`
	Tier      *PartnerTier `json:"tier,omitempty"`
	Regions   *[]string    `json:"regions,omitempty"`
	Verticals *[]string    `json:"verticals,omitempty"`
}

// UpdatePartner changes the profile of partner current (exists says
// whether it is enrolled): channel directors, executives and admins.
func UpdatePartner(actor Actor, current Partner, exists bool, change PartnerProfile, now time.Time) ([]Event, error) {
	if err := programAuthority(actor, "change a partner's profile", true); err != nil {
		return nil, err
	}
	if !exists {
		return nil, Errorf(ENOTFOUND, "partner not found")
	}
	if change == (PartnerProfile{}) {
		return nil, &Error{Code: EINVALID, Message: "the change is empty", Fields: []FieldError{
			{Field: "", Code: FieldRequired, Message: "give a name, tier, regions or verticals"}}}
	}
	p := current
	if change.Name != nil {
		p.Name = *change.Name
	}
	if change.Tier != nil {
		p.Tier = *change.Tier
	}
	if change.Regions != nil {
		p.Regions = slices.Clone(*change.Regions)
	}
	if change.Verticals != nil {
		p.Verticals = slices.Clone(*change.Verticals)
	}
	p = p.Normalize()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return []Event{PartnerUpdated{Partner: p, UpdatedBy: actor.ID, At: canonicalTime(now)}}, nil
}

// programAuthority checks that actor may manage partners' program records:
// vendor reviewers, or with directorOnly channel directors and above.
func programAuthority(actor Actor, action string, directorOnly bool) error {
	if err := actor.Validate(); err != nil {
		return err
	}
	if directorOnly && !directorOrAbove(actor.Role) {
		return Errorf(EFORBIDDEN, "role %q may not %s: a channel director or above may", actor.Role, action)
	}
	if !actor.Role.Reviewer() {
		return Errorf(EFORBIDDEN, "role %q may not %s", actor.Role, action)
	}
	return nil
}

// RecordCredential records certification or training c of partner id
// (exists says whether it is enrolled): vendor reviewers and admins.
func RecordCredential(actor Actor, id string, exists bool, c Credential, now time.Time) ([]Event, error) {
	if err := programAuthority(actor, "record certifications", false); err != nil {
		return nil, err
	}
	if !exists {
		return nil, Errorf(ENOTFOUND, "partner not found")
	}
	c.Name = strings.TrimSpace(c.Name)
	c.Issued, c.Expires = canonicalTime(c.Issued), canonicalTime(c.Expires)
	var v validator
	v.oneOf("kind", string(c.Kind), []string{string(CredentialCertification), string(CredentialTraining)})
	v.requiredText("name", c.Name, MaxCredentialNameLen, false)
	if c.Issued.IsZero() {
		v.add("issued", FieldRequired, "is required")
	} else if c.Issued.After(canonicalTime(now)) {
		v.add("issued", FieldOutOfRange, "must not lie in the future")
	}
	if !c.Expires.IsZero() && !c.Issued.IsZero() && !c.Expires.After(c.Issued) {
		v.add("expires", FieldOutOfRange, "must be after issued")
	}
	if err := v.err("the record is invalid"); err != nil {
		return nil, err
	}
	return []Event{PartnerCredentialRecorded{PartnerID: id, Credential: c, RecordedBy: actor.ID, At: canonicalTime(now)}}, nil
}

// SuspendPartner suspends partner id (of standing s; exists says whether it
// is enrolled) until until, with a reason, under policy pol. Reviewers may
// suspend for a period; a terminated partner cannot be suspended.
func SuspendPartner(actor Actor, id string, exists bool, s PartnerStanding, until time.Time, reason string, pol Policy, now time.Time) ([]Event, error) {
	if err := programAuthority(actor, "suspend partners", false); err != nil {
		return nil, err
	}
	if !exists {
		return nil, Errorf(ENOTFOUND, "partner not found")
	}
	now, until = canonicalTime(now), canonicalTime(until)
	if status, _ := s.StatusAt(now); status == PartnerStatusTerminated {
		return nil, Errorf(ECONFLICT, "partner %s is terminated", id)
	}
	var v validator
	switch {
	case until.IsZero():
		v.add("until", FieldRequired, "is required; a permanent suspension is a termination")
	case !until.After(now):
		v.add("until", FieldOutOfRange, "must lie in the future")
	case until.Sub(now) > MaxSuspension:
		v.add("until", FieldOutOfRange, "must be within "+FormatPeriod(MaxSuspension)+"; a permanent suspension is a termination")
	}
	v.requiredText("reason", reason, MaxStandingReasonLen, true)
	if err := v.err("the suspension is invalid"); err != nil {
		return nil, err
	}
	return []Event{PartnerSuspended{PartnerID: id, Until: until, Reason: reason, PolicyVersion: pol.Version, SuspendedBy: actor.ID, At: now}}, nil
}

// ReinstatePartner lifts the suspensions of partner id in force now:
// channel directors and above. A partner not suspended has nothing to lift.
func ReinstatePartner(actor Actor, id string, exists bool, s PartnerStanding, reason string, now time.Time) ([]Event, error) {
	if err := programAuthority(actor, "reinstate partners", true); err != nil {
		return nil, err
	}
	if !exists {
		return nil, Errorf(ENOTFOUND, "partner not found")
	}
	now = canonicalTime(now)
	switch status, _ := s.StatusAt(now); status {
	case PartnerStatusTerminated:
		return nil, Errorf(ECONFLICT, "partner %s is terminated; a termination is not lifted", id)
	case PartnerStatusActive:
		return nil, Errorf(ECONFLICT, "partner %s is not suspended", id)
	}
	var v validator
	v.requiredText("reason", reason, MaxStandingReasonLen, true)
	if err := v.err("the reinstatement is invalid"); err != nil {
		return nil, err
	}
	return []Event{PartnerReinstated{PartnerID: id, Reason: reason, ReinstatedBy: actor.ID, At: now}}, nil
}

// TerminatePartner ends partner id's membership for good: channel
// directors and above.
func TerminatePartner(actor Actor, id string, exists bool, s PartnerStanding, reason string, pol Policy, now time.Time) ([]Event, error) {
	if err := programAuthority(actor, "terminate partners", true); err != nil {
		return nil, err
	}
	if !exists {
		return nil, Errorf(ENOTFOUND, "partner not found")
	}
	now = canonicalTime(now)
	if status, _ := s.StatusAt(now); status == PartnerStatusTerminated {
		return nil, Errorf(ECONFLICT, "partner %s is terminated already", id)
	}
	var v validator
	v.requiredText("reason", reason, MaxStandingReasonLen, true)
	if err := v.err("the termination is invalid"); err != nil {
		return nil, err
	}
	return []Event{PartnerTerminated{PartnerID: id, Reason: reason, PolicyVersion: pol.Version, TerminatedBy: actor.ID, At: now}}, nil
}
