package projections

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dealreg/dealreg/domain"
)

// RegistrationView is the read model of one registration as of the
// projection's checkpoint. Fields that come from the aggregate mean exactly
// what its accessors say; times named "recorded" are the store's.
type RegistrationView struct {
	ID        uuid.UUID               `json:"id"`
	PartnerID string                  `json:"partner_id"`
	Type      domain.RegistrationType `json:"type"`
	Status    domain.Status           `json:"status"`

	CompanyName string `json:"company_name"`
	Domain      string `json:"domain,omitempty"`
	Country     string `json:"country"`
	Region      string `json:"region,omitempty"`
	Industry    string `json:"industry,omitempty"`

	ProductLines      []string           `json:"product_lines,omitempty"`
	EstimatedValue    decimal.Decimal    `json:"estimated_value"`
	Currency          string             `json:"currency,omitempty"`
	ExpectedCloseDate time.Time          `json:"expected_close_date,omitzero"`
	BuyingStage       domain.BuyingStage `json:"buying_stage,omitempty"`
	// LastProgressAt is the recorded time of the latest sign that the deal
	// moves: a progress update, the approval, an extension granted or a
	// renewal. Pipeline hygiene calls a protected registration stale when
	// it is too long ago.
	LastProgressAt time.Time `json:"last_progress_at,omitzero"`

	// Attempt counts submissions; SubmittedPolicyVersion is the policy of
	// the latest one, the one its review SLA comes from.
	Attempt                int            `json:"attempt"`
	SubmittedPolicyVersion int            `json:"submitted_policy_version,omitempty"`
	Verdict                domain.Verdict `json:"verdict,omitempty"`
	ReviewerID             string         `json:"reviewer_id,omitempty"`

	// Approved reports whether the registration was ever approved;
	// PolicyVersion and Terms are then the policy and the terms granted at
	// approval, which later policies, extensions and renewals never change.
	Approved      bool   `json:"approved"`
	PolicyVersion int    `json:"policy_version,omitempty"`
	Terms         *Terms `json:"terms,omitempty"`
	// Benefits are the discount, MDF allocation and presales entitlement
	// granted at approval (none for approvals recorded before benefits).
	Benefits *domain.GrantedBenefits `json:"benefits,omitempty"`
	// CoveredByGrant is the partner's own territory or vertical grant that
	// covers the account, as the latest verdict found: the opportunity is
	// the partner's by default.
	CoveredByGrant uuid.UUID `json:"covered_by_grant,omitzero"`
	// ProtectionStart and ProtectionEnd are the current term, after
	// extensions and renewals. ProtectionLapsesAt is when protection ends
	// if nothing else happens (later than the end while an extension
	// request is pending).
	ProtectionStart    time.Time `json:"protection_start,omitzero"`
	ProtectionEnd      time.Time `json:"protection_end,omitzero"`
	ProtectionLapsesAt time.Time `json:"protection_lapses_at,omitzero"`
	ExtensionsGranted  int       `json:"extensions_granted"`
	ExtensionsLeft     int       `json:"extensions_left"`
	Renewals           int       `json:"renewals"`

	RejectReason      domain.RejectReason `json:"reject_reason,omitempty"`
	RejectExplanation string              `json:"reject_explanation,omitempty"`
	RejectGuidance    string              `json:"reject_guidance,omitempty"`

	// Position is the global position of RegistrationDrafted, the key List
	// orders by. SubmittedPosition is that of the first submission, which
	// decides who registered first; it is meaningful only when Submitted.
	Position          uint64 `json:"position"`
	Submitted         bool   `json:"submitted"`
	SubmittedPosition uint64 `json:"submitted_position,omitempty"`
	// CreatedAt, SubmittedAt (first submission), LastSubmittedAt and
	// UpdatedAt (latest event) are recorded times.
	CreatedAt       time.Time `json:"created_at"`
	SubmittedAt     time.Time `json:"submitted_at,omitzero"`
	LastSubmittedAt time.Time `json:"last_submitted_at,omitzero"`
	UpdatedAt       time.Time `json:"updated_at"`
	// Version is the number of events in the registration's stream.
	Version int `json:"version"`
	// Review is where the review of the latest submission stands: the
	// group it was routed to, its due, reminder and escalation times, or
	// that it was approved automatically (see docs/automation.md).
	Review *domain.ReviewState `json:"review,omitempty"`
}

// Terms are the protection terms granted at approval
// (domain.ProtectionTerms) as views and the API show them: the extension
// length in ISO 8601, not the ledger's nanoseconds.
type Terms struct {
	PolicyVersion   int                     `json:"policy_version"`
	Type            domain.RegistrationType `json:"type"`
	ProtectionStart time.Time               `json:"protection_start"`
	ProtectionEnd   time.Time               `json:"protection_end"`
	MaxExtensions   int                     `json:"max_extensions"`
	ExtensionLength domain.ISODuration      `json:"extension_length"`
}

// termsOf shows t, or nil for no terms (not yet approved).
func termsOf(t domain.ProtectionTerms) *Terms {
	if t == (domain.ProtectionTerms{}) {
		return nil
	}
	return &Terms{PolicyVersion: t.PolicyVersion, Type: t.Type, ProtectionStart: t.ProtectionStart, ProtectionEnd: t.ProtectionEnd,
		MaxExtensions: t.MaxExtensions, ExtensionLength: domain.ISODuration(t.ExtensionLength)}
}

// HistoryEntry is one event of a registration's stream, for the audit trail.
// Data is the event's stored JSON; callers must not modify it.
type HistoryEntry struct {
	EventID    uuid.UUID       `json:"event_id"`
	Position   uint64          `json:"position"`
	Revision   uint64          `json:"revision"`
	Type       string          `json:"type"`
	RecordedAt time.Time       `json:"recorded_at"`
	ActorID    string          `json:"actor_id,omitempty"`
	ActorName  string          `json:"actor_name,omitempty"`
	Role       domain.Role     `json:"role,omitempty"`
	Summary    string          `json:"summary"`
	Data       json.RawMessage `json:"data"`
}

// registration is the projection's state for one registration.
type registration struct {
	agg *domain.Registration
	// updatedAt is when the latest event was recorded. The view is built
	// from the aggregate when it is written (buildView), once a batch,
	// not after every event.
	updatedAt time.Time
	// Facts the aggregate does not keep: recorded times and positions, and
	// the rejection texts meant for the partner.
	position          uint64
	createdAt         time.Time
	submitted         bool
	submittedPosition uint64
	submittedAt       time.Time
	lastSubmittedPos  uint64
	lastSubmittedAt   time.Time
	lastProgressAt    time.Time
	rejectExplanation string
	rejectGuidance    string
	finding           *domain.RegistrationVerdictRecorded // the latest verdict
	touched           uint64                              // position of the latest event, for the cache
	hist              history                             // its versions for registration_history (history.go)
}

// RegistrationDetail is everything known about one registration: the view,
// the full details (personal data included), the attached documents and
// the duplicate check's latest finding. The finding names other
// registrations: it is for vendor staff, never for the partner.
type RegistrationDetail struct {
	RegistrationView
	Details     domain.Details                      `json:"details"`
	Attachments []domain.Attachment                 `json:"attachments"`
	Finding     *domain.RegistrationVerdictRecorded `json:"finding,omitempty"`
}

// observe records what the projection keeps besides the aggregate, for
// event e recorded as rec. It runs after the aggregate accepted e.
func (r *registration) observe(rec domain.RecordedEvent, e domain.Event) {
	switch e := e.(type) {
	case domain.RegistrationDrafted:
		r.position, r.createdAt = rec.Position, rec.RecordedAt
	case domain.RegistrationSubmitted:
		if !r.submitted {
			r.submitted, r.submittedPosition, r.submittedAt = true, rec.Position, rec.RecordedAt
		}
		r.lastSubmittedPos, r.lastSubmittedAt = rec.Position, rec.RecordedAt
		r.rejectExplanation, r.rejectGuidance = "", ""
	case domain.RegistrationRejected:
		r.rejectExplanation, r.rejectGuidance = e.Explanation, e.Guidance
	case domain.RegistrationVerdictRecorded:
		r.finding = &e
	case domain.RegistrationProgressed, domain.RegistrationApproved, domain.RegistrationExtensionGranted, domain.RegistrationRenewed:
		r.lastProgressAt = rec.RecordedAt
	}
}

// buildView reads the view from the aggregate's accessors and the facts
// kept beside it.
func (r *registration) buildView(updatedAt time.Time) RegistrationView {
	a := r.agg
	acc, opp := a.Account(), a.Opportunity()
	terms, approved := a.ApprovedTerms()
	v := RegistrationView{
		ID:                     a.ID(),
		PartnerID:              a.PartnerID(),
		Type:                   a.Type(),
		Status:                 a.Status(),
		CompanyName:            acc.CompanyName,
		Domain:                 acc.Domain,
		Country:                acc.Country,
		Region:                 acc.Region,
		Industry:               acc.Industry,
		ProductLines:           opp.ProductLines,
		EstimatedValue:         opp.EstimatedValue.Amount,
		Currency:               opp.EstimatedValue.Currency,
		ExpectedCloseDate:      opp.ExpectedCloseDate,
		BuyingStage:            opp.BuyingStage,
		LastProgressAt:         r.lastProgressAt,
		Attempt:                a.Attempt(),
		SubmittedPolicyVersion: a.SubmittedPolicyVersion(),
		Verdict:                a.Verdict(),
		ReviewerID:             a.ReviewerID(),
		Approved:               approved,
		ProtectionStart:        a.ProtectionStart(),
		ProtectionEnd:          a.ProtectionEnd(),
		ProtectionLapsesAt:     a.ProtectionLapsesAt(),
		ExtensionsGranted:      a.ExtensionsGranted(),
		ExtensionsLeft:         a.ExtensionsLeft(),
		Renewals:               a.Renewals(),
		RejectReason:           a.RejectReason(),
		Position:               r.position,
		Submitted:              r.submitted,
		SubmittedPosition:      r.submittedPosition,
		CreatedAt:              r.createdAt,
		SubmittedAt:            r.submittedAt,
		LastSubmittedAt:        r.lastSubmittedAt,
		UpdatedAt:              updatedAt,
		Version:                a.Version(),
	}
	if approved {
		v.PolicyVersion, v.Terms = terms.PolicyVersion, termsOf(terms)
	}
	if rs := a.Review(); rs != (domain.ReviewState{}) {
		v.Review = &rs
	}
	if b, ok := a.Benefits(); ok {
		v.Benefits = &b
	}
	if r.finding != nil {
		v.CoveredByGrant = r.finding.CoveredByGrant
	}
	if v.Status == domain.StatusRejected {
		v.RejectExplanation, v.RejectGuidance = r.rejectExplanation, r.rejectGuidance
	}
	return v
}

// describe returns a one-line summary of e for the audit trail and the
// actor the event itself names, used when the metadata names none. The
// summary never lists verdict matches: it may be shown to the partner.
func describe(e domain.Event) (summary, actor string) {
	const day = "2006-01-02"
	switch e := e.(type) {
	case domain.RegistrationDrafted:
		kind := "an opportunity"
		if e.Type == domain.TypeNamedAccount {
			kind = "a named-account"
		}
		return fmt.Sprintf("Drafted %s registration for %s", kind, orUnnamed(e.Details.Account.CompanyName)), e.DraftedBy
	case domain.RegistrationAmended:
		return "Amended the details", e.AmendedBy
	case domain.RegistrationSubmitted:
		return fmt.Sprintf("Submitted (attempt %d) under policy v%d", e.Attempt, e.PolicyVersion), e.SubmittedBy
	case domain.RegistrationVerdictRecorded:
		return fmt.Sprintf("Duplicate check verdict: %s", e.Verdict), ""
	case domain.RegistrationReviewStarted:
		return "Review started", e.ReviewerID
	case domain.RegistrationApproved:
		summary := fmt.Sprintf("Approved under policy v%d: protected until %s", e.Terms.PolicyVersion, e.Terms.ProtectionEnd.Format(day))
		if b := e.Benefits; b != nil {
			summary += fmt.Sprintf("; discount %s%%", b.Discount.Percent)
			if !b.MDF.Amount.IsZero() {
				summary += ", MDF " + domain.FormatMoney(b.MDF.Amount)
			}
			if b.Presales.Level != "" {
				summary += ", presales " + b.Presales.Level
			}
		}
		return summary, e.ApprovedBy
	case domain.RegistrationRejected:
		return fmt.Sprintf("Rejected: %s", e.Reason), e.RejectedBy
	case domain.RegistrationReturned:
		if len(e.RequestedFields) > 0 {
			return "Returned for more information on " + strings.Join(e.RequestedFields, ", "), e.ReturnedBy
		}
		return "Returned for more information", e.ReturnedBy
	case domain.RegistrationProgressed:
		if c := e.CRM; c != nil {
			return "CRM update: " + c.Summary(), e.ProgressedBy
		}
		if e.BuyingStage != "" {
			return fmt.Sprintf("Progress update: %s", e.BuyingStage), e.ProgressedBy
		}
		return "Progress update", e.ProgressedBy
	case domain.RegistrationExtensionRequested:
		return "Extension requested", e.RequestedBy
	case domain.RegistrationExtensionGranted:
		return fmt.Sprintf("Extension %d granted: protected until %s", e.Number, e.NewEnd.Format(day)), e.GrantedBy
	case domain.RegistrationExtensionDenied:
		return "Extension denied", e.DeniedBy
	case domain.RegistrationRenewed:
		return fmt.Sprintf("Renewal %d under policy v%d: protected until %s", e.Renewal, e.Terms.PolicyVersion, e.Terms.ProtectionEnd.Format(day)), e.RenewedBy
	case domain.RegistrationExpiryReminderSent:
		return fmt.Sprintf("Expiry reminder sent: %d days left", e.DaysLeft), ""
	case domain.RegistrationExpired:
		return "Protection expired", ""
	case domain.RegistrationClosedWon:
		if !e.FinalValue.IsZero() {
			return "Closed won at " + e.FinalValue.String(), e.ClosedBy
		}
		return "Closed won", e.ClosedBy
	case domain.RegistrationClosedLost:
		return "Closed lost", e.ClosedBy
	case domain.RegistrationWithdrawn:
		return "Withdrawn", e.WithdrawnBy
	case domain.RegistrationConflictDecided:
		switch e.Result {
		case domain.ConflictWon:
			return "Conflict decided: this registration won (" + e.PolicyClause + ")", e.DecidedBy
		case domain.ConflictCoRegistered:
			return fmt.Sprintf("Conflict decided: co-registered, %s%% share (%s)", e.SharePercent.String(), e.PolicyClause), e.DecidedBy
		}
		return "Conflict decided: this registration lost (" + e.PolicyClause + ")", e.DecidedBy
	case domain.RegistrationViolationRecorded:
		return describeViolation(e), e.RecordedBy
	case domain.RegistrationRevoked:
		return "Revoked: " + strings.ReplaceAll(e.Reason, "_", " "), e.RevokedBy
	case domain.RegistrationAutoApproved, domain.RegistrationRouted, domain.RegistrationReviewReminderSent, domain.RegistrationReviewEscalated:
		return describeReview(e), ""
	case domain.RegistrationAttachmentAdded:
		return fmt.Sprintf("Attached %s (%s, sha256 %s)", orUnnamedFile(e.Attachment.Filename), e.Attachment.ContentType, e.Attachment.SHA256), e.AddedBy
	}
	return e.EventType(), ""
}

func orUnnamedFile(s string) string {
	if s == "" {
		return "a document"
	}
	return s
}

func orUnnamed(s string) string {
	if s == "" {
		return "an unnamed company"
	}
	return s
}
