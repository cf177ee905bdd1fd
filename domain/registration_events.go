package domain

import (
	"time"

	"github.com/google/uuid"
)

// RegistrationEvent is an event of one registration's stream. Every such
// event names its registration and the time of the command that caused it
// (the store's recorded time is separate and authoritative for ordering).
type RegistrationEvent interface {
	Event
	// AggregateID is the registration the event belongs to.
	AggregateID() uuid.UUID
	// OccurredAt is the command time the event was decided at.
	OccurredAt() time.Time
}

// RegistrationStream returns the name of the event stream of registration
// id, "registration-<uuid>".
func RegistrationStream(id uuid.UUID) string { return "registration-" + id.String() }

// ProtectionTerms are the terms a registration was granted, copied from the
// policy in force when it was approved or renewed, so that later policy
// changes never rewrite them.
type ProtectionTerms struct {
	PolicyVersion   int              `json:"policy_version"`
	Type            RegistrationType `json:"type"`
	ProtectionStart time.Time        `json:"protection_start"`
	ProtectionEnd   time.Time        `json:"protection_end"`
	MaxExtensions   int              `json:"max_extensions"`
	ExtensionLength time.Duration    `json:"extension_length_ns"`
}

// RegistrationDrafted records that a partner started a registration. It is
// the first event of every registration stream.
type RegistrationDrafted struct {
	RegistrationID uuid.UUID        `json:"registration_id"`
	PartnerID      string           `json:"partner_id"`
	Type           RegistrationType `json:"type"`
	Details        Details          `json:"details"`
	DraftedBy      string           `json:"drafted_by"`
	At             time.Time        `json:"at"`
}

// RegistrationAmended records that the partner replaced the details of a
// draft or of a registration returned for more information.
type RegistrationAmended struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	Details        Details   `json:"details"`
	AmendedBy      string    `json:"amended_by"`
	At             time.Time `json:"at"`
}

// RegistrationSubmitted records a submission. Its global position in the
// ledger decides who registered first. It carries a snapshot of the details
// so that the duplicate check reads only this event. Attempt counts
// submissions: a resubmission after a return has Attempt 2 and so on.
type RegistrationSubmitted struct {
	RegistrationID uuid.UUID        `json:"registration_id"`
	PartnerID      string           `json:"partner_id"`
	Type           RegistrationType `json:"type"`
	Attempt        int              `json:"attempt"`
	Details        Details          `json:"details"`
	PolicyVersion  int              `json:"policy_version"`
	SubmittedBy    string           `json:"submitted_by"`
	At             time.Time        `json:"at"`
}

// RegistrationVerdictRecorded records the duplicate check's verdict on one
// submission attempt. Matches lists the earlier registrations found; it is
// for reviewers and auditors and must never be shown to the partner.
type RegistrationVerdictRecorded struct {
	RegistrationID uuid.UUID   `json:"registration_id"`
	Attempt        int         `json:"attempt"`
	Verdict        Verdict     `json:"verdict"`
	Matches        []uuid.UUID `json:"matches,omitempty"`
	Reason         string      `json:"reason,omitempty"`
	// OwnClaim is set on a duplicate of the same partner's earlier claim:
	// the partner may be told it registered this already.
	OwnClaim bool `json:"own_claim,omitempty"`
	// CoveredByGrant is the submitting partner's territory grant that
	// covers the account, if any; GrantConflicts are other partners'
	// grants that do.
	CoveredByGrant uuid.UUID   `json:"covered_by_grant,omitzero"`
	GrantConflicts []uuid.UUID `json:"grant_conflicts,omitempty"`
	// DirectMatches are open direct-sales opportunities on the account.
	DirectMatches []uuid.UUID `json:"direct_matches,omitempty"`
	// Explanations say why each match matched, for reviewers.
	Explanations []MatchExplanation `json:"explanations,omitempty"`
	// PolicyVersion is the policy in force when it was decided (0 in
	// events recorded before decisions named it: version 1).
	PolicyVersion int `json:"policy_version,omitempty"`
	// Model is the version of the matching model that decided (absent on
	// verdicts recorded before models were versioned). A verdict is never
	// decided again: replay folds the recorded one, whatever model runs.
	Model string    `json:"model,omitempty"`
	At    time.Time `json:"at"`
}

// RegistrationReviewStarted records that a reviewer took the registration.
type RegistrationReviewStarted struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	ReviewerID     string    `json:"reviewer_id"`
	At             time.Time `json:"at"`
}

// RegistrationApproved records an approval and the exact terms granted;
// protection starts at the approval time.
type RegistrationApproved struct {
	RegistrationID uuid.UUID       `json:"registration_id"`
	ApprovedBy     string          `json:"approved_by"`
	Terms          ProtectionTerms `json:"terms"`
	// Benefits are the discount, MDF allocation and presales entitlement
	// granted (benefits.go); nil in approvals recorded before approvals
	// granted benefits, which granted none.
	Benefits *GrantedBenefits `json:"benefits,omitempty"`
	// Checklist names the approval criteria the reviewer confirmed
	// (ApprovalCriteria), when the approval was made from the console;
	// empty for the API's and automatic approvals.
	Checklist []string  `json:"checklist,omitempty"`
	At        time.Time `json:"at"`
}

// RegistrationRejected records a rejection with a reason code, an
// explanation and guidance for the partner.
type RegistrationRejected struct {
	RegistrationID uuid.UUID    `json:"registration_id"`
	RejectedBy     string       `json:"rejected_by"`
	Reason         RejectReason `json:"reason"`
	Explanation    string       `json:"explanation"`
	Guidance       string       `json:"guidance"`
	// PolicyVersion is the policy in force when it was decided (0 in
	// events recorded before decisions named it: version 1).
	PolicyVersion int       `json:"policy_version,omitempty"`
	At            time.Time `json:"at"`
}

// RegistrationReturned records that a reviewer sent the registration back to
// the partner for more information.
type RegistrationReturned struct {
	RegistrationID  uuid.UUID `json:"registration_id"`
	ReturnedBy      string    `json:"returned_by"`
	Message         string    `json:"message"`
	RequestedFields []string  `json:"requested_fields,omitempty"`
	// PolicyVersion is the policy in force when it was decided (0 in
	// events recorded before decisions named it: version 1).
	PolicyVersion int       `json:"policy_version,omitempty"`
	At            time.Time `json:"at"`
}

// RegistrationProgressed records a progress update on a protected
// registration. Empty fields were not changed.
type RegistrationProgressed struct {
	RegistrationID uuid.UUID   `json:"registration_id"`
	ProgressedBy   string      `json:"progressed_by"`
	BuyingStage    BuyingStage `json:"buying_stage,omitempty"`
	NextSteps      string      `json:"next_steps,omitempty"`
	Note           string      `json:"note,omitempty"`
	// CRM is set when the update came from the vendor's CRM (the signed
	// inbound endpoint, docs/crm.md): what the CRM's opportunity now says.
	CRM *CRMProgress `json:"crm,omitempty"`
	At  time.Time    `json:"at"`
}

// RegistrationExtensionRequested records the partner's request to extend
// protection.
type RegistrationExtensionRequested struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	RequestedBy    string    `json:"requested_by"`
	Reason         string    `json:"reason"`
	At             time.Time `json:"at"`
}

// RegistrationExtensionGranted records a granted extension: the protection
// end moves from PreviousEnd to NewEnd by ExtensionLength, the length fixed
// by the approval terms of PolicyVersion. Number is 1 for the first
// extension.
type RegistrationExtensionGranted struct {
	RegistrationID  uuid.UUID     `json:"registration_id"`
	GrantedBy       string        `json:"granted_by"`
	Number          int           `json:"number"`
	ExtensionLength time.Duration `json:"extension_length_ns"`
	PreviousEnd     time.Time     `json:"previous_end"`
	NewEnd          time.Time     `json:"new_end"`
	PolicyVersion   int           `json:"policy_version"`
	At              time.Time     `json:"at"`
}

// RegistrationExtensionDenied records a denied extension request.
type RegistrationExtensionDenied struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	DeniedBy       string    `json:"denied_by"`
	Reason         string    `json:"reason"`
	// PolicyVersion is the policy in force when it was decided (0 in
	// events recorded before decisions named it: version 1).
	PolicyVersion int       `json:"policy_version,omitempty"`
	At            time.Time `json:"at"`
}

// RegistrationRenewed records the renewal of a named-account registration
// with new terms. Renewal is 1 for the first renewal.
type RegistrationRenewed struct {
	RegistrationID uuid.UUID       `json:"registration_id"`
	RenewedBy      string          `json:"renewed_by"`
	Renewal        int             `json:"renewal"`
	PreviousEnd    time.Time       `json:"previous_end"`
	Terms          ProtectionTerms `json:"terms"`
	// Figures are what the partner won on the account in the term renewed,
	// the renewal conditions of the policy were checked against; nil when
	// the policy had none (renewal.go).
	Figures *RenewalFigures `json:"figures,omitempty"`
	At      time.Time       `json:"at"`
}

// RegistrationExpiryReminderSent records that the partner was reminded that
// protection ends at ProtectionEnd. At most one is recorded per protection
// end.
type RegistrationExpiryReminderSent struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	ProtectionEnd  time.Time `json:"protection_end"`
	DaysLeft       int       `json:"days_left"`
	// PolicyVersion is the policy in force when it was decided (0 in
	// events recorded before decisions named it: version 1).
	PolicyVersion int       `json:"policy_version,omitempty"`
	At            time.Time `json:"at"`
}

// RegistrationExpired records that protection ended without a close or an
// extension; the opportunity is open to others again.
type RegistrationExpired struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	ProtectionEnd  time.Time `json:"protection_end"`
	// PolicyVersion is the policy in force when it was decided (0 in
	// events recorded before decisions named it: version 1).
	PolicyVersion int       `json:"policy_version,omitempty"`
	At            time.Time `json:"at"`
}

// RegistrationClosedWon records that the partner won the deal. FinalValue is
// optional.
type RegistrationClosedWon struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	ClosedBy       string    `json:"closed_by"`
	FinalValue     Money     `json:"final_value,omitzero"`
	Note           string    `json:"note,omitempty"`
	At             time.Time `json:"at"`
}

// RegistrationClosedLost records that the deal was lost.
type RegistrationClosedLost struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	ClosedBy       string    `json:"closed_by"`
	Reason         string    `json:"reason"`
	At             time.Time `json:"at"`
}

// RegistrationWithdrawn records that the partner withdrew the registration.
type RegistrationWithdrawn struct {
	RegistrationID uuid.UUID `json:"registration_id"`
	WithdrawnBy    string    `json:"withdrawn_by"`
	Reason         string    `json:"reason,omitempty"`
	At             time.Time `json:"at"`
}
