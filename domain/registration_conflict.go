package domain

import (
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// ConflictResult is what a conflict decision means for one registration.
type ConflictResult string

// The results of a conflict decision for a registration.
const (
	ConflictWon          ConflictResult = "won"
	ConflictCoRegistered ConflictResult = "co_registered"
	ConflictLost         ConflictResult = "lost"
)

// RegistrationConflictDecided records the outcome of a conflict case for
// one of its registrations. A registration that wins (or is co-registered)
// and was not yet protected gets Terms, like an approval; one that loses is
// rejected as a duplicate, even if it was protected.
type RegistrationConflictDecided struct {
	RegistrationID   uuid.UUID        `json:"registration_id"`
	ConflictID       uuid.UUID        `json:"conflict_id"`
	Result           ConflictResult   `json:"result"`
	SharePercent     decimal.Decimal  `json:"share_percent,omitzero"`
	Responsibilities string           `json:"responsibilities,omitempty"`
	Rationale        string           `json:"rationale"`
	PolicyClause     string           `json:"policy_clause"`
	DecidedBy        string           `json:"decided_by"`
	Terms            *ProtectionTerms `json:"terms,omitempty"`
	// PolicyVersion is the policy in force when it was decided (0 in
	// events recorded before decisions named it: version 1).
	PolicyVersion int       `json:"policy_version,omitempty"`
	At            time.Time `json:"at"`
}

// EventType returns "RegistrationConflictDecided".
func (RegistrationConflictDecided) EventType() string { return "RegistrationConflictDecided" }

// AggregateID returns the registration.
func (e RegistrationConflictDecided) AggregateID() uuid.UUID { return e.RegistrationID }

// OccurredAt returns the command time.
func (e RegistrationConflictDecided) OccurredAt() time.Time { return e.At }

// ConflictShare is a registration's part of a co-registration.
type ConflictShare struct {
	Percent          decimal.Decimal
	Responsibilities string
}

// ApplyConflictDecision carries a conflict decision over to the
// registration. It is called by the process that follows decisions, not by
// a user: the decision itself was authorised on the conflict. A final
// registration is left alone (nil events). Winning protects a registration
// not yet protected under policy p from now; losing rejects it as a
// duplicate registration with the decision's rationale.
func (r *Registration) ApplyConflictDecision(decidedBy string, conflictID uuid.UUID, result ConflictResult, share ConflictShare, rationale, clause string, p Policy, now time.Time) ([]Event, error) {
	if r == nil || r.version == 0 {
		return nil, Errorf(ENOTFOUND, "registration not found")
	}
	if r.status.Final() || r.status == StatusDraft {
		return nil, nil
	}
	e := RegistrationConflictDecided{
		RegistrationID: r.id, ConflictID: conflictID, Result: result, Rationale: rationale, PolicyClause: clause,
		DecidedBy: decidedBy, PolicyVersion: p.Version, At: canonicalTime(now),
	}
	switch result {
	case ConflictWon, ConflictCoRegistered:
		if result == ConflictCoRegistered {
			e.SharePercent, e.Responsibilities = share.Percent, share.Responsibilities
		}
		if !r.status.Protected() {
			if err := p.checkUsable(now); err != nil {
				return nil, err
			}
			t := r.newTerms(p, canonicalTime(now))
			e.Terms = &t
		}
	case ConflictLost:
	default:
		return nil, Errorf(EINVALID, "unknown conflict result %q", result)
	}
	return []Event{e}, nil
}

func (r *Registration) applyConflictDecided(e RegistrationConflictDecided) {
	r.conflictResult = e.Result
	switch e.Result {
	case ConflictLost:
		r.status = StatusRejected
		r.rejectReason = RejectDuplicateRegistration
	default:
		if e.Terms != nil {
			if !r.approved {
				r.terms, r.approved = *e.Terms, true
			}
			r.useTerms(*e.Terms)
		}
		r.status = StatusActive
	}
}

// ConflictResult returns the result of the latest conflict decision on the
// registration, if any.
func (r *Registration) ConflictResult() ConflictResult { return r.conflictResult }
