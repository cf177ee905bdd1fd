package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// StatusRevoked is the status of a registration revoked for a violation or
// because its partner was suspended or terminated: its protection ended and
// its account is free for others to register.
const StatusRevoked Status = "revoked"

// Why a registration was revoked.
const (
	RevokedForViolation      = "violation"
	RevokedPartnerSuspended  = "partner_suspended"
	RevokedPartnerTerminated = "partner_terminated"
)

// Limits of a violation report.
const (
	MaxViolationReferences   = 20
	MaxViolationReferenceLen = 500
	MaxViolationDocuments    = 20
)

// ViolationReport is what a reviewer found: the kind of violation (one of
// the policy's penalties), a statement of the evidence, references to it
// (CRM records, e-mails, URLs) and the documents of the registration that
// prove it. Terminate asks to end the membership whatever the policy's
// penalty (a channel director or above).
type ViolationReport struct {
	Kind       string   `json:"kind"`
	Statement  string   `json:"statement"`
	References []string `json:"references,omitempty"`
	Documents  []string `json:"documents,omitempty"` // SHA-256 of documents attached to the registration
	Terminate  bool     `json:"terminate,omitempty"`
}

// ViolationEvidence is the evidence a violation was recorded with.
type ViolationEvidence struct {
	Statement  string       `json:"statement"`
	References []string     `json:"references,omitempty"`
	Documents  []Attachment `json:"documents,omitempty"`
}

// Sanction is the penalty a violation applied, as decided under the policy
// in force when it was recorded.
type Sanction struct {
	// Revoke: the registration was revoked (it was not final yet).
	Revoke bool `json:"revoke"`
	// SuspendedUntil is the end of the partner's suspension, or zero.
	SuspendedUntil time.Time `json:"suspended_until,omitzero"`
	// Terminate: the partner's membership ended.
	Terminate bool `json:"terminate"`
	// Protections is what becomes of the partner's active protections
	// when it is suspended or terminated: ProtectionsKept or
	// ProtectionsEnded (a termination always ends them); "" when the
	// partner keeps its standing.
	Protections string `json:"protections,omitempty"`
}

// RegistrationViolationRecorded records a violation found on a
// registration and the sanction it carried, on the registration's stream.
// The partner's suspension or termination is part of it (PartnerStanding
// folds it), so that the violation and its penalty are one fact.
type RegistrationViolationRecorded struct {
	RegistrationID uuid.UUID         `json:"registration_id"`
	ViolationID    uuid.UUID         `json:"violation_id"`
	PartnerID      string            `json:"partner_id"`
	Kind           string            `json:"kind"`
	Evidence       ViolationEvidence `json:"evidence"`
	Sanction       Sanction          `json:"sanction"`
	PolicyVersion  int               `json:"policy_version"`
	RecordedBy     string            `json:"recorded_by"`
	RecorderRole   Role              `json:"recorder_role"`
	At             time.Time         `json:"at"`
}

// RegistrationRevoked records that a registration's claim ended before its
// time: for a violation, or because its partner was suspended (under a
// policy that ends protections) or terminated. Protection, if it ran, ends
// at At; the account is free.
type RegistrationRevoked struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	Reason         string    `json:"reason"`
	ViolationID    uuid.UUID `json:"violation_id,omitzero"`
	// ProtectionEnd is the end the protection had, when it ran.
	ProtectionEnd time.Time `json:"protection_end,omitzero"`
	PolicyVersion int       `json:"policy_version"`
	RevokedBy     string    `json:"revoked_by"`
	At            time.Time `json:"at"`
}

// PenaltyFor returns the policy's penalty for a kind of violation.
func (p Policy) PenaltyFor(kind string) (Penalty, bool) {
	i := slices.IndexFunc(p.Penalties.Violations, func(x Penalty) bool { return x.Kind == kind })
	if i < 0 {
		return Penalty{}, false
	}
	return p.Penalties.Violations[i], true
}

// DecideSanction applies policy p's penalty for kind, at now, by actor:
// the registration is revoked if the penalty says so and alive says it
// still claims something; the partner is suspended for the penalty's
// period, or terminated when the penalty (or terminate, the reviewer's
// request) says so, which only a channel director or above may decide.
func DecideSanction(actor Actor, p Policy, kind string, terminate, alive bool, now time.Time) (Sanction, error) {
	pen, ok := p.PenaltyFor(kind)
	if !ok {
		kinds := make([]string, len(p.Penalties.Violations))
		for i, x := range p.Penalties.Violations {
			kinds[i] = x.Kind
		}
		return Sanction{}, &Error{Code: EINVALID, Message: "the violation is invalid", Fields: []FieldError{
			{Field: "kind", Code: FieldInvalid, Message: fmt.Sprintf("must be one of the kinds of policy v%d: %s", p.Version, strings.Join(kinds, ", "))}}}
	}
	s := Sanction{Revoke: pen.Revoke && alive, Terminate: pen.Terminate || terminate}
	switch {
	case s.Terminate:
		if !directorOrAbove(actor.Role) {
			return Sanction{}, Errorf(EFORBIDDEN, "a violation that terminates the membership needs a channel director or above; role %q may not", actor.Role)
		}
		s.Protections = ProtectionsEnded
	case pen.Suspend > 0:
		s.SuspendedUntil = canonicalTime(now).Add(pen.Suspend)
		s.Protections = p.Penalties.OnSuspension
	}
	return s, nil
}

// RecordViolation records violation id, found by a reviewer on a submitted
// registration, with its evidence, and applies policy p's penalty (see
// DecideSanction): the RegistrationViolationRecorded event and, when the
// penalty revokes a registration that still claims something,
// RegistrationRevoked.
func (r *Registration) RecordViolation(actor Actor, id uuid.UUID, rep ViolationReport, p Policy, now time.Time) ([]Event, error) {
	if err := r.authorize(actor, byReviewer, "record a violation on"); err != nil {
		return nil, err
	}
	if r.status == StatusDraft {
		return nil, Errorf(ECONFLICT, "cannot record a violation on registration %s: it was never submitted", r.id)
	}
	if err := p.checkUsable(now); err != nil {
		return nil, err
	}
	if id == uuid.Nil {
		return nil, Errorf(EINTERNAL, "record violation: no violation ID")
	}
	now = canonicalTime(now)
	var v validator
	if strings.TrimSpace(rep.Kind) == "" {
		v.add("kind", FieldRequired, "is required")
	}
	v.requiredText("statement", rep.Statement, MaxReasonLen, true)
	if v.listLen("references", len(rep.References), MaxViolationReferences) {
		for i, ref := range rep.References {
			v.requiredText(fmt.Sprintf("references[%d]", i), ref, MaxViolationReferenceLen, false)
		}
	}
	var docs []Attachment
	if v.listLen("documents", len(rep.Documents), MaxViolationDocuments) {
		for i, sha := range rep.Documents {
			j := slices.IndexFunc(r.attachments, func(a Attachment) bool { return a.SHA256 == sha })
			if j < 0 {
				v.add(fmt.Sprintf("documents[%d]", i), FieldInvalid, "names no document attached to this registration")
				continue
			}
			docs = append(docs, r.attachments[j])
		}
	}
	if err := v.err("the violation is invalid"); err != nil {
		return nil, err
	}
	s, err := DecideSanction(actor, p, rep.Kind, rep.Terminate, !r.status.Final(), now)
	if err != nil {
		return nil, err
	}
	events := []Event{RegistrationViolationRecorded{
		RegistrationID: r.id, ViolationID: id, PartnerID: r.partnerID, Kind: rep.Kind,
		Evidence: ViolationEvidence{Statement: rep.Statement, References: slices.Clone(rep.References), Documents: docs},
		Sanction: s, PolicyVersion: p.Version, RecordedBy: actor.ID, RecorderRole: actor.Role, At: now,
	}}
	if s.Revoke {
		events = append(events, r.revoked(RevokedForViolation, id, p, actor.ID, now))
	}
	return events, nil
}

func (r *Registration) revoked(reason string, violation uuid.UUID, p Policy, by string, now time.Time) RegistrationRevoked {
	e := RegistrationRevoked{RegistrationID: r.id, Reason: reason, ViolationID: violation, PolicyVersion: p.Version, RevokedBy: by, At: now}
	if r.status.Protected() {
		e.ProtectionEnd = r.protectionEnd
	}
	return e
}

// StandingDue returns what the partner's standing s at now makes due on
// the registration under policy p: RegistrationRevoked when the partner is
// terminated and the registration still claims something, or when it is
// suspended, the policy ends protections on suspension, and the
// registration is protected. It is pure, like Due: applying its events and
// calling it again returns nothing. by is the system actor that records
// them.
func (r *Registration) StandingDue(s PartnerStanding, p Policy, by string, now time.Time) []Event {
	if r == nil || r.version == 0 || r.status.Final() || r.status == StatusDraft {
		return nil
	}
	now = canonicalTime(now)
	switch status, _ := s.StatusAt(now); status {
	case PartnerStatusTerminated:
		return []Event{r.revoked(RevokedPartnerTerminated, uuid.Nil, p, by, now)}
	case PartnerStatusSuspended:
		if p.Penalties.OnSuspension == ProtectionsEnded && r.status.Protected() {
			return []Event{r.revoked(RevokedPartnerSuspended, uuid.Nil, p, by, now)}
		}
	}
	return nil
}

// CheckGrantable refuses (ESUSPENDED) to grant anything (an approval, an
// extension, a renewal) on a registration whose partner, of standing s, is
// suspended or terminated at now.
func (r *Registration) CheckGrantable(s PartnerStanding, now time.Time, what string) error {
	return s.CheckGoodStanding(r.partnerID, now, "be granted "+what)
}

// SubmitEligible is Submit for a partner whose profile and standing are
// known: after the actor and the status are checked, the partner must be
// eligible under p at now (CheckEligibility), before the details are.
func (r *Registration) SubmitEligible(actor Actor, partner Partner, s PartnerStanding, p Policy, now time.Time) ([]Event, error) {
	if err := r.check(actor, byPartner, "submit", StatusDraft, StatusReturned); err != nil {
		return nil, err
	}
	if partner.ID != r.partnerID {
		return nil, Errorf(EINTERNAL, "submit: the partner given is %q, the registration's is %q", partner.ID, r.partnerID)
	}
	if err := CheckEligibility(p, partner, s, r.typ, canonicalTime(now)); err != nil {
		return nil, err
	}
	return r.Submit(actor, p, now)
}
