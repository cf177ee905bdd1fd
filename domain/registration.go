package domain

import (
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
)

// RegistrationType is the protection model a registration asks for.
type RegistrationType string

// The registration types. Territory and vertical rights are not
// registrations but TerritoryGrants.
const (
	// TypeOpportunity protects one specific deal, for the policy's
	// opportunity protection (90–180 days), extendable.
	TypeOpportunity RegistrationType = "opportunity"
	// TypeNamedAccount protects every opportunity within one account for
	// the policy's account protection (12 months), renewable.
	TypeNamedAccount RegistrationType = "named_account"
)

// Valid reports whether t is a known registration type.
func (t RegistrationType) Valid() bool { return t == TypeOpportunity || t == TypeNamedAccount }

// Status is where a registration is in its lifecycle.
//
//	draft ──submit──▶ submitted ──verdict──▶ cleared | possible_duplicate | duplicate(end)
//	cleared ──approve──▶ active            cleared | possible_duplicate ──start review──▶ under_review
//	cleared | possible_duplicate | under_review ──reject──▶ rejected(end)
//	cleared | possible_duplicate | under_review ──return──▶ returned ──amend/submit──▶ submitted
//	under_review ──approve──▶ active ──request extension──▶ extension_requested ──grant/deny──▶ active
//	active | extension_requested ──▶ expired | closed_won | closed_lost
//	any non-final status ──withdraw──▶ withdrawn(end)
//	named account: active (near end) | expired (within grace) ──renew──▶ active
//	any submitted, non-final status ──violation or partner standing──▶ revoked(end)
type Status string

// The registration statuses.
const (
	StatusDraft              Status = "draft"
	StatusSubmitted          Status = "submitted"          // waiting for the duplicate check's verdict
	StatusCleared            Status = "cleared"            // verdict clear; may be approved directly
	StatusPossibleDuplicate  Status = "possible_duplicate" // verdict unsure; a reviewer must look
	StatusUnderReview        Status = "under_review"
	StatusReturned           Status = "returned" // back with the partner for more information
	StatusActive             Status = "active"   // approved; protection runs
	StatusExtensionRequested Status = "extension_requested"
	StatusRejected           Status = "rejected"
	StatusDuplicate          Status = "duplicate"
	StatusExpired            Status = "expired"
	StatusClosedWon          Status = "closed_won"
	StatusClosedLost         Status = "closed_lost"
	StatusWithdrawn          Status = "withdrawn"
)

// Final reports whether no command but a named-account renewal (from
// expired) can change a registration in status s.
func (s Status) Final() bool {
	switch s {
	case StatusRejected, StatusDuplicate, StatusExpired, StatusClosedWon, StatusClosedLost, StatusWithdrawn, StatusRevoked:
		return true
	}
	return false
}

// Protected reports whether a registration in status s holds protection
// (subject to its protection end).
func (s Status) Protected() bool { return s == StatusActive || s == StatusExtensionRequested }

// Verdict is the duplicate check's finding on a submission, computed from
// the ledger before it.
type Verdict string

// The verdicts.
const (
	VerdictClear             Verdict = "clear"
	VerdictDuplicate         Verdict = "duplicate"
	VerdictPossibleDuplicate Verdict = "possible_duplicate"
)

// RejectReason is the fixed list of reasons a reviewer may give, one per
// approval criterion of the program.
type RejectReason string

// The rejection reasons.
const (
	RejectRelationshipNotProven   RejectReason = "relationship_not_proven"
	RejectNotQualified            RejectReason = "opportunity_not_qualified"
	RejectTerritoryNotAuthorized  RejectReason = "territory_not_authorized"
	RejectPoorSolutionFit         RejectReason = "poor_solution_fit"
	RejectExistingVendorRelation  RejectReason = "existing_vendor_relationship"
	RejectDuplicateRegistration   RejectReason = "duplicate_registration"
	RejectFirstContactOutOfWindow RejectReason = "first_contact_outside_window"
	RejectOther                   RejectReason = "other"
)

// RejectReasons lists every valid RejectReason.
var RejectReasons = []RejectReason{
	RejectRelationshipNotProven, RejectNotQualified, RejectTerritoryNotAuthorized,
	RejectPoorSolutionFit, RejectExistingVendorRelation, RejectDuplicateRegistration,
	RejectFirstContactOutOfWindow, RejectOther,
}

// Limits of command inputs other than Details.
const (
	MaxReasonLen         = 2000
	MaxRequestedFields   = 30
	MaxRequestedFieldLen = 100
	MaxVerdictMatches    = 50
	MaxVerdictReasonLen  = 500
)

// Registration is the aggregate of one deal registration. Its fields are
// unexported: it is built only by replaying its events through Apply, and
// it decides with command methods that return new events (or a *Error) and
// never change it. The caller appends the events to the registration's
// stream and applies them.
type Registration struct {
	id               uuid.UUID
	partnerID        string
	typ              RegistrationType
	status           Status
	details          Details
	attempt          int
	policyVersion    int // of the latest submission
	firstSubmittedAt time.Time
	submittedAt      time.Time
	verdict          Verdict
	reviewerID       string
	terms            ProtectionTerms  // as first approved
	benefits         *GrantedBenefits // granted at the first approval, if any
	approved         bool
	protectionStart  time.Time
	protectionEnd    time.Time
	extensions       int
	maxExtensions    int
	extensionLength  time.Duration
	termsVersion     int // policy version of the terms now in force
	renewals         int
	reminderSentFor  time.Time
	rejectReason     RejectReason
	attachments      []Attachment
	conflictResult   ConflictResult
	review           ReviewState // of the latest submission (automation.go)
	createdAt        time.Time
	updatedAt        time.Time
	version          int
}

// Draft starts a registration of type t for the calling partner, with
// details that may be incomplete but must be well-formed. It returns the
// RegistrationDrafted event; apply it (or use NewRegistration) to get the
// aggregate.
func Draft(id uuid.UUID, actor Actor, t RegistrationType, d Details, now time.Time) ([]Event, error) {
	if err := actor.Validate(); err != nil {
		return nil, err
	}
	if actor.Role != RolePartner {
		return nil, Errorf(EFORBIDDEN, "only a partner may register a deal")
	}
	var v validator
	if id == uuid.Nil {
		v.add("registration_id", FieldRequired, "is required")
	}
	if !t.Valid() {
		v.add("type", FieldInvalid, "must be one of: opportunity, named_account")
	}
	d = d.Normalize()
	d.validateShape(&v)
	if err := v.err("the registration is invalid"); err != nil {
		return nil, err
	}
	return []Event{RegistrationDrafted{
		RegistrationID: id,
		PartnerID:      actor.PartnerID,
		Type:           t,
		Details:        d,
		DraftedBy:      actor.ID,
		At:             canonicalTime(now),
	}}, nil
}

// NewRegistration drafts a registration like Draft and also returns the
// aggregate with the draft applied.
func NewRegistration(id uuid.UUID, actor Actor, t RegistrationType, d Details, now time.Time) (*Registration, []Event, error) {
	events, err := Draft(id, actor, t, d, now)
	if err != nil {
		return nil, nil, err
	}
	r, err := Rebuild(events...)
	if err != nil {
		return nil, nil, err
	}
	return r, events, nil
}

// Rebuild replays events, oldest first, into a new Registration.
func Rebuild(events ...Event) (*Registration, error) {
	r := &Registration{}
	for _, e := range events {
		if err := r.Apply(e); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Apply changes the registration by one of its events. Events are facts, so
// Apply does not re-check business rules; it only refuses events that
// cannot belong to this stream (an EINTERNAL *Error): an unknown event, an
// event of another registration, or anything before RegistrationDrafted.
func (r *Registration) Apply(e Event) error {
	re, ok := e.(RegistrationEvent)
	if !ok {
		return Errorf(EINTERNAL, "apply: %T is not a registration event", e)
	}
	if _, first := e.(RegistrationDrafted); first != (r.version == 0) {
		return Errorf(EINTERNAL, "apply %s: a registration stream starts with exactly one RegistrationDrafted", e.EventType())
	}
	if r.version > 0 && re.AggregateID() != r.id {
		return Errorf(EINTERNAL, "apply %s: event of registration %s applied to %s", e.EventType(), re.AggregateID(), r.id)
	}
	switch e := e.(type) {
	case RegistrationDrafted:
		r.id, r.partnerID, r.typ = e.RegistrationID, e.PartnerID, e.Type
		r.details = e.Details.Clone()
		r.status = StatusDraft
		r.createdAt = e.At
	case RegistrationAmended:
		r.details = e.Details.Clone()
	case RegistrationSubmitted:
		r.details = e.Details.Clone()
		r.attempt = e.Attempt
		r.policyVersion = e.PolicyVersion
		if r.firstSubmittedAt.IsZero() {
			r.firstSubmittedAt = e.At
		}
		r.submittedAt = e.At
		r.verdict = ""
		r.reviewerID = ""
		r.review = ReviewState{}
		r.status = StatusSubmitted
	case RegistrationVerdictRecorded:
		r.verdict = e.Verdict
		switch e.Verdict {
		case VerdictClear:
			r.status = StatusCleared
		case VerdictPossibleDuplicate:
			r.status = StatusPossibleDuplicate
		default:
			r.status = StatusDuplicate
		}
	case RegistrationReviewStarted:
		r.reviewerID = e.ReviewerID
		r.status = StatusUnderReview
	case RegistrationApproved:
		r.terms = e.Terms
		r.benefits = e.Benefits
		r.approved = true
		r.useTerms(e.Terms)
		r.status = StatusActive
	case RegistrationRejected:
		r.rejectReason = e.Reason
		r.status = StatusRejected
	case RegistrationReturned:
		r.status = StatusReturned
	case RegistrationProgressed:
		if e.BuyingStage != "" {
			r.details.Opportunity.BuyingStage = e.BuyingStage
		}
		if e.NextSteps != "" {
			r.details.Relationship.NextSteps = e.NextSteps
		}
		if c := e.CRM; c != nil {
			if !c.Amount.IsZero() {
				r.details.Opportunity.EstimatedValue = c.Amount
			}
			if !c.CloseDate.IsZero() {
				r.details.Opportunity.ExpectedCloseDate = c.CloseDate
			}
		}
	case RegistrationExtensionRequested:
		r.status = StatusExtensionRequested
	case RegistrationExtensionGranted:
		r.extensions = e.Number
		r.protectionEnd = e.NewEnd
		r.status = StatusActive
	case RegistrationExtensionDenied:
		r.status = StatusActive
	case RegistrationRenewed:
		r.renewals = e.Renewal
		r.useTerms(e.Terms)
		r.status = StatusActive
	case RegistrationExpiryReminderSent:
		r.reminderSentFor = e.ProtectionEnd
	case RegistrationExpired:
		r.status = StatusExpired
	case RegistrationClosedWon:
		r.status = StatusClosedWon
	case RegistrationClosedLost:
		r.status = StatusClosedLost
	case RegistrationWithdrawn:
		r.status = StatusWithdrawn
	case RegistrationAttachmentAdded:
		r.attachments = append(r.attachments, e.Attachment)
	case RegistrationConflictDecided:
		r.applyConflictDecided(e)
	case RegistrationViolationRecorded:
		// A fact for reviewers and the partner's standing; a revocation
		// that follows from it is its own event.
	case RegistrationAutoApproved, RegistrationRouted, RegistrationReviewReminderSent, RegistrationReviewEscalated:
		r.applyReview(e)
	case RegistrationRevoked:
		r.status = StatusRevoked
		if r.protectionEnd.After(e.At) {
			r.protectionEnd = e.At
		}
	default:
		return Errorf(EINTERNAL, "apply: unknown registration event %s", e.EventType())
	}
	r.updatedAt = re.OccurredAt()
	r.version++
	return nil
}

func (r *Registration) useTerms(t ProtectionTerms) {
	r.protectionStart = t.ProtectionStart
	r.protectionEnd = t.ProtectionEnd
	r.maxExtensions = t.MaxExtensions
	r.extensionLength = t.ExtensionLength
	r.termsVersion = t.PolicyVersion
}

// Commands. Each checks, in this order: the actor (a partner sees only its
// own registrations: anyone else's is ENOTFOUND; a wrong role is
// EFORBIDDEN), the status (an illegal transition is ECONFLICT naming the
// status), then the input (EINVALID listing every failing field).

type audience int

const (
	byPartner audience = iota
	byReviewer
)

func (r *Registration) authorize(a Actor, who audience, action string) error {
	if err := a.Validate(); err != nil {
		return err
	}
	// Another partner's registration is not found, in the same words as
	// one that does not exist, so that a partner cannot probe IDs.
	if r == nil || r.version == 0 || (a.Role == RolePartner && a.PartnerID != r.partnerID) {
		return Errorf(ENOTFOUND, "registration not found")
	}
	switch who {
	case byPartner:
		if a.Role != RolePartner {
			return Errorf(EFORBIDDEN, "only the registering partner may %s", action)
		}
	case byReviewer:
		if !a.Role.Reviewer() {
			return Errorf(EFORBIDDEN, "role %q may not %s", a.Role, action)
		}
	}
	return nil
}

// require returns an ECONFLICT *Error naming the current status unless it is
// one of allowed.
func (r *Registration) require(action string, allowed ...Status) error {
	if slices.Contains(allowed, r.status) {
		return nil
	}
	return &Error{Code: ECONFLICT, Message: fmt.Sprintf("cannot %s registration %s: it is %s", action, r.id, r.status)}
}

func (r *Registration) check(a Actor, who audience, action string, allowed ...Status) error {
	if err := r.authorize(a, who, action); err != nil {
		return err
	}
	return r.require(action, allowed...)
}

// Amend replaces the details of a draft or of a returned registration. The
// new details may be incomplete but must be well-formed.
func (r *Registration) Amend(actor Actor, d Details, now time.Time) ([]Event, error) {
	if err := r.check(actor, byPartner, "amend", StatusDraft, StatusReturned); err != nil {
		return nil, err
	}
	d = d.Normalize()
	if err := d.ValidateDraft(); err != nil {
		return nil, err
	}
	return []Event{RegistrationAmended{RegistrationID: r.id, Details: d, AmendedBy: actor.ID, At: canonicalTime(now)}}, nil
}

// Submit submits a draft, or resubmits a returned registration, under
// policy p. The details must hold the minimum listed at
// Details.ValidateSubmission. The registration then waits for the duplicate
// check's verdict.
func (r *Registration) Submit(actor Actor, p Policy, now time.Time) ([]Event, error) {
	if err := r.check(actor, byPartner, "submit", StatusDraft, StatusReturned); err != nil {
		return nil, err
	}
	if err := p.checkUsable(now); err != nil {
		return nil, err
	}
	if err := r.details.ValidateSubmission(r.typ, now, p); err != nil {
		return nil, err
	}
	if err := r.checkProofDocuments(); err != nil {
		return nil, err
	}
	return []Event{RegistrationSubmitted{
		RegistrationID: r.id,
		PartnerID:      r.partnerID,
		Type:           r.typ,
		Attempt:        r.attempt + 1,
		Details:        r.details.Clone(),
		PolicyVersion:  p.Version,
		SubmittedBy:    actor.ID,
		At:             canonicalTime(now),
	}}, nil
}

// checkProofDocuments refuses proof that cites a document the partner did
// not upload to this registration: a hash alone proves nothing, and proof
// weighs in a conflict's recommendation.
func (r *Registration) checkProofDocuments() error {
	var v validator
	for i, p := range r.details.Proof {
		if p.AttachmentSHA256 == "" {
			continue
		}
		found := false
		for _, a := range r.attachments {
			if a.SHA256 == p.AttachmentSHA256 {
				found = true
				break
			}
		}
		if !found {
			v.add(fmt.Sprintf("proof[%d].attachment_sha256", i), FieldInvalid, "names no document uploaded to this registration; upload it first")
		}
	}
	return v.err("the proof cites documents that were not uploaded")
}

// Finding is what the duplicate check found on one submission attempt.
type Finding struct {
	Attempt int
	Verdict Verdict
	// Matches are the earlier registrations matched, best first.
	Matches []uuid.UUID
	Reason  string
	// OwnClaim: the (first) match is the same partner's own registration.
	OwnClaim bool
	// CoveredByGrant is the submitter's territory grant covering the
	// account; GrantConflicts are other partners' grants covering it.
	CoveredByGrant uuid.UUID
	GrantConflicts []uuid.UUID
	// DirectMatches are open direct-sales opportunities matched.
	DirectMatches []uuid.UUID
	// Explanations say, per match, which signals made it.
	Explanations []MatchExplanation
	// Model is the version of the matching model that decided.
	Model string
}

// RecordVerdict records the duplicate check's verdict on submission attempt
// attempt. It is RecordFinding with matches and a reason only.
func (r *Registration) RecordVerdict(attempt int, verdict Verdict, matches []uuid.UUID, reason string, now time.Time) ([]Event, error) {
	return r.RecordFinding(Finding{Attempt: attempt, Verdict: verdict, Matches: matches, Reason: reason}, now)
}

// RecordFinding records the duplicate check's finding on one submission
// attempt. It is called by the duplicate checker, never by a user, so it
// takes no actor. A finding for another attempt than the current one is
// stale and refused with ECONFLICT. A duplicate must name the earlier
// registrations it matched; a possible duplicate must name them or the
// other partners' grants; a clear verdict names none.
func (r *Registration) RecordFinding(f Finding, now time.Time) ([]Event, error) {
	if r == nil || r.version == 0 {
		return nil, Errorf(ENOTFOUND, "registration not found")
	}
	if err := r.require("record a verdict on", StatusSubmitted); err != nil {
		return nil, err
	}
	if f.Attempt != r.attempt {
		return nil, Errorf(ECONFLICT, "the verdict is for submission %d but registration %s is at submission %d", f.Attempt, r.id, r.attempt)
	}
	var v validator
	switch f.Verdict {
	case VerdictClear:
		if len(f.Matches) > 0 || len(f.GrantConflicts) > 0 || len(f.DirectMatches) > 0 {
			v.add("matches", FieldInvalid, "a clear verdict has no matches")
		}
	case VerdictDuplicate:
		if len(f.Matches) == 0 {
			v.add("matches", FieldRequired, "name the earlier registrations matched")
		}
	case VerdictPossibleDuplicate:
		if len(f.Matches) == 0 && len(f.GrantConflicts) == 0 && len(f.DirectMatches) == 0 {
			v.add("matches", FieldRequired, "name the earlier registrations or the grants matched")
		}
	default:
		v.add("verdict", FieldInvalid, "must be one of: clear, duplicate, possible_duplicate")
	}
	if v.listLen("matches", len(f.Matches), MaxVerdictMatches) {
		for i, m := range f.Matches {
			if m == uuid.Nil || m == r.id {
				v.add(fmt.Sprintf("matches[%d]", i), FieldInvalid, "must be another registration's ID")
			}
		}
	}
	if v.listLen("grant_conflicts", len(f.GrantConflicts), MaxVerdictMatches) {
		for i, g := range f.GrantConflicts {
			if g == uuid.Nil {
				v.add(fmt.Sprintf("grant_conflicts[%d]", i), FieldInvalid, "must be a grant ID")
			}
		}
	}
	if f.OwnClaim && f.Verdict != VerdictDuplicate {
		v.add("own_claim", FieldInvalid, "only a duplicate can be of the partner's own claim")
	}
	v.text("reason", f.Reason, MaxVerdictReasonLen, false)
	if err := v.err("the verdict is invalid"); err != nil {
		return nil, err
	}
	return []Event{RegistrationVerdictRecorded{
		RegistrationID: r.id,
		Attempt:        f.Attempt,
		Verdict:        f.Verdict,
		Matches:        slices.Clone(f.Matches),
		Reason:         f.Reason,
		OwnClaim:       f.OwnClaim,
		CoveredByGrant: f.CoveredByGrant,
		GrantConflicts: slices.Clone(f.GrantConflicts),
		DirectMatches:  slices.Clone(f.DirectMatches),
		Explanations:   slices.Clone(f.Explanations),
		Model:          f.Model,
		At:             canonicalTime(now),
	}}, nil
}

// StartReview assigns the registration to the reviewer. It is optional after
// a clear verdict and required after a possible-duplicate verdict.
func (r *Registration) StartReview(actor Actor, now time.Time) ([]Event, error) {
	if err := r.check(actor, byReviewer, "start review of", StatusCleared, StatusPossibleDuplicate); err != nil {
		return nil, err
	}
	return []Event{RegistrationReviewStarted{RegistrationID: r.id, ReviewerID: actor.ID, At: canonicalTime(now)}}, nil
}

// Approve approves a cleared or reviewed registration under policy p.
// Protection starts now and lasts the policy's protection for the
// registration's type; the approval event embeds those terms and the
// policy version. Named accounts get no extensions (they are renewed).
func (r *Registration) Approve(actor Actor, p Policy, now time.Time) ([]Event, error) {
	if err := r.check(actor, byReviewer, "approve", StatusCleared, StatusUnderReview); err != nil {
		return nil, err
	}
	if err := p.checkUsable(now); err != nil {
		return nil, err
	}
	return []Event{RegistrationApproved{
		RegistrationID: r.id,
		ApprovedBy:     actor.ID,
		Terms:          r.newTerms(p, canonicalTime(now)),
		At:             canonicalTime(now),
	}}, nil
}

// ApproveGranting approves like Approve and grants the benefits policy p
// computes for a partner of tier (see Policy.BenefitsFor): the approval
// event embeds them. Every approval the service records goes through it.
func (r *Registration) ApproveGranting(actor Actor, p Policy, tier PartnerTier, now time.Time) ([]Event, error) {
	events, err := r.Approve(actor, p, now)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(partnerTiers, string(tier)) {
		return nil, Errorf(EINTERNAL, "approve %s: partner %s has no known tier (%q)", r.id, r.partnerID, tier)
	}
	a := events[0].(RegistrationApproved)
	b := p.BenefitsFor(r.partnerID, tier, r.typ, r.details.Opportunity.EstimatedValue)
	a.Benefits = &b
	events[0] = a
	return events, nil
}

func (r *Registration) newTerms(p Policy, start time.Time) ProtectionTerms {
	t := ProtectionTerms{
		PolicyVersion:   p.Version,
		Type:            r.typ,
		ProtectionStart: start,
		ProtectionEnd:   start.Add(p.ProtectionFor(r.typ)),
	}
	if r.typ == TypeOpportunity {
		t.MaxExtensions = p.MaxExtensions
		t.ExtensionLength = p.ExtensionLength
	}
	return t
}

// Reject rejects a registration awaiting a decision, with a reason from
// RejectReasons, an explanation and guidance for the partner, both required.
func (r *Registration) Reject(actor Actor, reason RejectReason, explanation, guidance string, now time.Time) ([]Event, error) {
	if err := r.check(actor, byReviewer, "reject", StatusCleared, StatusPossibleDuplicate, StatusUnderReview); err != nil {
		return nil, err
	}
	var v validator
	if reason == "" {
		v.add("reason", FieldRequired, "is required")
	} else if !slices.Contains(RejectReasons, reason) {
		v.add("reason", FieldInvalid, "is not a known rejection reason")
	}
	v.requiredText("explanation", explanation, MaxReasonLen, true)
	v.requiredText("guidance", guidance, MaxReasonLen, true)
	if err := v.err("the rejection is invalid"); err != nil {
		return nil, err
	}
	return []Event{RegistrationRejected{
		RegistrationID: r.id, RejectedBy: actor.ID, Reason: reason,
		Explanation: explanation, Guidance: guidance, At: canonicalTime(now),
	}}, nil
}

// Return sends a registration awaiting a decision back to the partner with
// a message saying what is missing and, optionally, the detail fields
// (paths such as "relationship.activities") to complete.
func (r *Registration) Return(actor Actor, message string, requestedFields []string, now time.Time) ([]Event, error) {
	if err := r.check(actor, byReviewer, "return", StatusCleared, StatusPossibleDuplicate, StatusUnderReview); err != nil {
		return nil, err
	}
	var v validator
	v.requiredText("message", message, MaxReasonLen, true)
	v.stringList("requested_fields", requestedFields, MaxRequestedFields, MaxRequestedFieldLen)
	if err := v.err("the return is invalid"); err != nil {
		return nil, err
	}
	return []Event{RegistrationReturned{
		RegistrationID: r.id, ReturnedBy: actor.ID, Message: message,
		RequestedFields: slices.Clone(requestedFields), At: canonicalTime(now),
	}}, nil
}

// ProgressUpdate is a partner's update on a protected deal. At least one
// field must be set; empty fields stay as they were.
type ProgressUpdate struct {
	BuyingStage BuyingStage `json:"buying_stage,omitempty"`
	NextSteps   string      `json:"next_steps,omitempty"`
	Note        string      `json:"note,omitempty"`
}

// Progress records a progress update on a protected registration. It does
// not move the protection end: only an extension or a renewal does.
func (r *Registration) Progress(actor Actor, u ProgressUpdate, now time.Time) ([]Event, error) {
	if err := r.check(actor, byPartner, "update progress of", StatusActive, StatusExtensionRequested); err != nil {
		return nil, err
	}
	var v validator
	if u.BuyingStage == "" && u.NextSteps == "" && u.Note == "" {
		v.add("buying_stage", FieldRequired, "give a buying stage, next steps or a note")
	}
	if u.BuyingStage != "" {
		v.oneOf("buying_stage", string(u.BuyingStage), buyingStages)
	}
	v.text("next_steps", u.NextSteps, MaxNextStepsLen, true)
	v.text("note", u.Note, MaxNoteLen, true)
	if err := v.err("the progress update is invalid"); err != nil {
		return nil, err
	}
	return []Event{RegistrationProgressed{
		RegistrationID: r.id, ProgressedBy: actor.ID, BuyingStage: u.BuyingStage,
		NextSteps: u.NextSteps, Note: u.Note, At: canonicalTime(now),
	}}, nil
}

// RequestExtension asks for more protection time on an active opportunity
// before its protection ends, while extensions are left under its approval
// terms. Named accounts are renewed instead.
func (r *Registration) RequestExtension(actor Actor, reason string, now time.Time) ([]Event, error) {
	if err := r.check(actor, byPartner, "request an extension of", StatusActive); err != nil {
		return nil, err
	}
	if r.typ != TypeOpportunity {
		return nil, Errorf(ECONFLICT, "registration %s is a %s: it is renewed, not extended", r.id, r.typ)
	}
	if r.extensions >= r.maxExtensions {
		return nil, Errorf(ECONFLICT, "registration %s has used all %d extensions its terms allow", r.id, r.maxExtensions)
	}
	if !now.Before(r.protectionEnd) {
		return nil, Errorf(ECONFLICT, "the protection of registration %s has ended", r.id)
	}
	var v validator
	v.requiredText("reason", reason, MaxReasonLen, true)
	if err := v.err("the extension request is invalid"); err != nil {
		return nil, err
	}
	return []Event{RegistrationExtensionRequested{RegistrationID: r.id, RequestedBy: actor.ID, Reason: reason, At: canonicalTime(now)}}, nil
}

// GrantExtension grants the pending extension request: the protection end
// moves by the extension length of the approval terms (not of the current
// policy), counted from the previous end, not from now, so a late decision
// neither costs nor gains the partner time.
func (r *Registration) GrantExtension(actor Actor, now time.Time) ([]Event, error) {
	if err := r.check(actor, byReviewer, "grant an extension of", StatusExtensionRequested); err != nil {
		return nil, err
	}
	if r.extensions >= r.maxExtensions {
		return nil, Errorf(ECONFLICT, "registration %s has used all %d extensions its terms allow", r.id, r.maxExtensions)
	}
	if !now.Before(r.lapsesAt()) {
		return nil, Errorf(ECONFLICT, "the protection of registration %s has lapsed", r.id)
	}
	return []Event{RegistrationExtensionGranted{
		RegistrationID:  r.id,
		GrantedBy:       actor.ID,
		Number:          r.extensions + 1,
		ExtensionLength: r.extensionLength,
		PreviousEnd:     r.protectionEnd,
		NewEnd:          r.protectionEnd.Add(r.extensionLength),
		PolicyVersion:   r.termsVersion,
		At:              canonicalTime(now),
	}}, nil
}

// DenyExtension denies the pending extension request with a reason; the
// protection end stays where it was.
func (r *Registration) DenyExtension(actor Actor, reason string, now time.Time) ([]Event, error) {
	if err := r.check(actor, byReviewer, "deny an extension of", StatusExtensionRequested); err != nil {
		return nil, err
	}
	var v validator
	v.requiredText("reason", reason, MaxReasonLen, true)
	if err := v.err("the denial is invalid"); err != nil {
		return nil, err
	}
	return []Event{RegistrationExtensionDenied{RegistrationID: r.id, DeniedBy: actor.ID, Reason: reason, At: canonicalTime(now)}}, nil
}

// Renew renews a named-account registration under policy p, a reviewer's
// decision based on performance. It is allowed from p.RenewalWindow before
// the protection end until p.RenewalGrace after it (even once expired).
// Renewed before the end, the new term follows the old one without a gap;
// renewed after, it starts now. When p has renewal conditions, f (what the
// partner won on the account in the term, RenewalFigures) must meet them,
// and the renewal records it.
func (r *Registration) Renew(actor Actor, p Policy, f RenewalFigures, now time.Time) ([]Event, error) {
	if err := r.check(actor, byReviewer, "renew", StatusActive, StatusExpired); err != nil {
		return nil, err
	}
	if r.typ != TypeNamedAccount {
		return nil, Errorf(ECONFLICT, "registration %s is an %s: only named accounts are renewed", r.id, r.typ)
	}
	if err := p.checkUsable(now); err != nil {
		return nil, err
	}
	now = canonicalTime(now)
	opens, closes := r.protectionEnd.Add(-p.RenewalWindow), r.protectionEnd.Add(p.RenewalGrace)
	if now.Before(opens) {
		return nil, Errorf(ECONFLICT, "registration %s can be renewed from %s", r.id, opens.Format(time.RFC3339))
	}
	if !now.Before(closes) {
		return nil, Errorf(ECONFLICT, "the renewal period of registration %s ended at %s", r.id, closes.Format(time.RFC3339))
	}
	var figures *RenewalFigures
	if p.Renewal.Any() {
		if unmet := p.Renewal.Unmet(f); len(unmet) > 0 {
			return nil, &Error{Code: ECONFLICT, Fields: unmet,
				Message: fmt.Sprintf("registration %s does not meet the renewal conditions of policy version %d", r.id, p.Version)}
		}
		figures = &f
	}
	start := r.protectionEnd
	if now.After(start) {
		start = now
	}
	return []Event{RegistrationRenewed{
		RegistrationID: r.id,
		RenewedBy:      actor.ID,
		Renewal:        r.renewals + 1,
		PreviousEnd:    r.protectionEnd,
		Terms:          r.newTerms(p, start),
		Figures:        figures,
		At:             now,
	}}, nil
}

// CloseWon records that the partner won the deal, with the final value if
// known (a zero Money means unknown).
func (r *Registration) CloseWon(actor Actor, finalValue Money, note string, now time.Time) ([]Event, error) {
	if err := r.check(actor, byPartner, "close", StatusActive, StatusExtensionRequested); err != nil {
		return nil, err
	}
	finalValue = finalValue.normalize()
	var v validator
	if !finalValue.IsZero() {
		validateMoney(&v, "final_value", finalValue)
	}
	v.text("note", note, MaxNoteLen, true)
	if err := v.err("the close is invalid"); err != nil {
		return nil, err
	}
	return []Event{RegistrationClosedWon{RegistrationID: r.id, ClosedBy: actor.ID, FinalValue: finalValue, Note: note, At: canonicalTime(now)}}, nil
}

// CloseLost records that the deal was lost, with a required reason.
func (r *Registration) CloseLost(actor Actor, reason string, now time.Time) ([]Event, error) {
	if err := r.check(actor, byPartner, "close", StatusActive, StatusExtensionRequested); err != nil {
		return nil, err
	}
	var v validator
	v.requiredText("reason", reason, MaxReasonLen, true)
	if err := v.err("the close is invalid"); err != nil {
		return nil, err
	}
	return []Event{RegistrationClosedLost{RegistrationID: r.id, ClosedBy: actor.ID, Reason: reason, At: canonicalTime(now)}}, nil
}

// Withdraw withdraws a registration that is not final yet, with an optional
// reason.
func (r *Registration) Withdraw(actor Actor, reason string, now time.Time) ([]Event, error) {
	if err := r.check(actor, byPartner, "withdraw", StatusDraft, StatusSubmitted, StatusCleared,
		StatusPossibleDuplicate, StatusUnderReview, StatusReturned, StatusActive, StatusExtensionRequested); err != nil {
		return nil, err
	}
	var v validator
	v.text("reason", reason, MaxReasonLen, true)
	if err := v.err("the withdrawal is invalid"); err != nil {
		return nil, err
	}
	return []Event{RegistrationWithdrawn{RegistrationID: r.id, WithdrawnBy: actor.ID, Reason: reason, At: canonicalTime(now)}}, nil
}

// lapsesAt is when protection really ends: the protection end, or, while an
// extension request is pending, the end plus the extension length, the most
// a grant could give. A pending request holds off expiry (the program lets a
// deal expire only if the partner neither closed it nor asked for more time)
// but never for longer than the extension itself.
func (r *Registration) lapsesAt() time.Time {
	if r.status == StatusExtensionRequested {
		return r.protectionEnd.Add(r.extensionLength)
	}
	return r.protectionEnd
}

// Due returns the events that time alone makes due at now, under policy p
// (for the reminder lead time):
//
//   - RegistrationExpired once protection has lapsed (see ProtectionLapsesAt)
//     without a close;
//   - otherwise RegistrationExpiryReminderSent when now is within
//     p.ReminderBefore of the protection end, at most once per protection
//     end (an extension or renewal moves the end and allows a new one), and
//     not while an extension request is pending.
//
// Due is pure: applying its events and calling it again at the same time
// returns nothing.
func (r *Registration) Due(now time.Time, p Policy) []Event {
	if r == nil || !r.status.Protected() {
		return nil
	}
	now = canonicalTime(now)
	if !now.Before(r.lapsesAt()) {
		return []Event{RegistrationExpired{RegistrationID: r.id, ProtectionEnd: r.protectionEnd, PolicyVersion: p.Version, At: now}}
	}
	if r.status == StatusActive && p.ReminderBefore > 0 && !r.reminderSentFor.Equal(r.protectionEnd) &&
		!now.Before(r.protectionEnd.Add(-p.ReminderBefore)) {
		left := r.protectionEnd.Sub(now)
		days := int((left + Day - 1) / Day)
		return []Event{RegistrationExpiryReminderSent{RegistrationID: r.id, ProtectionEnd: r.protectionEnd, DaysLeft: days, PolicyVersion: p.Version, At: now}}
	}
	return nil
}

// ReviewDeadline returns when the vendor must have decided a registration
// that awaits a decision: the due time it was routed with, or else the
// latest submission plus p.ReviewSLA; and false when no decision is
// awaited.
func (r *Registration) ReviewDeadline(p Policy) (time.Time, bool) {
	switch r.status {
	case StatusSubmitted, StatusCleared, StatusPossibleDuplicate, StatusUnderReview:
		if !r.review.DueAt.IsZero() {
			return r.review.DueAt, true
		}
		return r.submittedAt.Add(p.ReviewSLA), true
	}
	return time.Time{}, false
}

// ID returns the registration's ID.
func (r *Registration) ID() uuid.UUID { return r.id }

// PartnerID returns the registering partner.
func (r *Registration) PartnerID() string { return r.partnerID }

// Type returns the registration type.
func (r *Registration) Type() RegistrationType { return r.typ }

// Status returns the current status.
func (r *Registration) Status() Status { return r.status }

// Details returns a copy of the current details.
func (r *Registration) Details() Details { return r.details.Clone() }

// Account returns the prospect account.
func (r *Registration) Account() Account { return r.details.Account }

// Opportunity returns a copy of the opportunity details.
func (r *Registration) Opportunity() Opportunity {
	o := r.details.Opportunity
	o.ProductLines, o.Competitors = slices.Clone(o.ProductLines), slices.Clone(o.Competitors)
	return o
}

// Attempt returns how many times the registration was submitted.
func (r *Registration) Attempt() int { return r.attempt }

// FirstSubmittedAt returns the time of the first submission, or the zero
// time if it was never submitted.
func (r *Registration) FirstSubmittedAt() time.Time { return r.firstSubmittedAt }

// SubmittedAt returns the time of the latest submission, or the zero time.
func (r *Registration) SubmittedAt() time.Time { return r.submittedAt }

// SubmittedPolicyVersion returns the policy version of the latest
// submission, or 0.
func (r *Registration) SubmittedPolicyVersion() int { return r.policyVersion }

// Verdict returns the duplicate check's verdict on the latest submission, or
// "" while none is recorded.
func (r *Registration) Verdict() Verdict { return r.verdict }

// ReviewerID returns the reviewer who started the review of the latest
// submission, or "".
func (r *Registration) ReviewerID() string { return r.reviewerID }

// ApprovedTerms returns the terms granted at approval and whether the
// registration was approved. Extensions and renewals do not change them; see
// ProtectionEnd for the current end.
func (r *Registration) ApprovedTerms() (ProtectionTerms, bool) { return r.terms, r.approved }

// Benefits returns the benefits granted at approval, and false for a
// registration never approved or approved before approvals granted
// benefits.
func (r *Registration) Benefits() (GrantedBenefits, bool) {
	if r.benefits == nil {
		return GrantedBenefits{}, false
	}
	b := *r.benefits
	b.Presales.Dedicated = slices.Clone(b.Presales.Dedicated)
	return b, true
}

// ProtectionStart returns when the current protection term started, or the
// zero time if never approved.
func (r *Registration) ProtectionStart() time.Time { return r.protectionStart }

// ProtectionEnd returns the current protection end, after extensions and
// renewals, or the zero time if never approved.
func (r *Registration) ProtectionEnd() time.Time { return r.protectionEnd }

// ProtectionLapsesAt returns when protection lapses if nothing else happens:
// the protection end, later while an extension request is pending.
func (r *Registration) ProtectionLapsesAt() time.Time { return r.lapsesAt() }

// ExtensionsGranted returns how many extensions were granted.
func (r *Registration) ExtensionsGranted() int { return r.extensions }

// ExtensionsLeft returns how many more extensions the terms allow.
func (r *Registration) ExtensionsLeft() int { return max(r.maxExtensions-r.extensions, 0) }

// Renewals returns how many times a named account was renewed.
func (r *Registration) Renewals() int { return r.renewals }

// RejectReason returns the rejection reason, or "" if not rejected.
func (r *Registration) RejectReason() RejectReason { return r.rejectReason }

// CreatedAt returns when the registration was drafted.
func (r *Registration) CreatedAt() time.Time { return r.createdAt }

// UpdatedAt returns the time of the latest event.
func (r *Registration) UpdatedAt() time.Time { return r.updatedAt }

// Version returns the number of events applied, which is the expected
// stream revision plus one for the next append.
func (r *Registration) Version() int { return r.version }
