package domain

import (
	"strings"
	"time"

	"github.com/google/uuid"
)

// DirectStream returns the stream of a direct-sales opportunity,
// "direct-<uuid>".
func DirectStream(id uuid.UUID) string { return "direct-" + id.String() }

// DirectOpportunity is a deal the vendor's own sales team pursues, recorded
// from the CRM so that partner registrations are checked against it
// (partner-vs-direct conflicts).
type DirectOpportunity struct {
	Account          Account     `json:"account"`
	ProductLines     []string    `json:"product_lines,omitempty"`
	EstimatedValue   Money       `json:"estimated_value,omitzero"`
	BuyingStage      BuyingStage `json:"buying_stage,omitempty"`
	FirstContactDate time.Time   `json:"first_contact_date,omitzero"`
	// Owner is the sales representative who owns the deal.
	Owner string `json:"owner"`
	// CRMID is the opportunity's ID in the CRM, for reconciliation.
	CRMID string `json:"crm_id,omitempty"`
}

// Limits of direct opportunities.
const (
	MaxOwnerLen = 200
	MaxCRMIDLen = 100
)

// normalize trims and canonicalises like Details.Normalize.
func (o DirectOpportunity) normalize() DirectOpportunity {
	d := Details{Account: o.Account, Opportunity: Opportunity{ProductLines: o.ProductLines, EstimatedValue: o.EstimatedValue, BuyingStage: o.BuyingStage}}.Normalize()
	o.Account, o.ProductLines, o.EstimatedValue = d.Account, d.Opportunity.ProductLines, d.Opportunity.EstimatedValue
	o.Owner, o.CRMID = strings.TrimSpace(o.Owner), strings.TrimSpace(o.CRMID)
	o.FirstContactDate = canonicalTime(o.FirstContactDate)
	return o
}

// validate lists every failing field.
func (o DirectOpportunity) validate(now time.Time) error {
	var v validator
	d := Details{Account: o.Account, Opportunity: Opportunity{ProductLines: o.ProductLines, EstimatedValue: o.EstimatedValue, BuyingStage: o.BuyingStage}}
	d.validateShape(&v)
	if strings.TrimSpace(o.Account.CompanyName) == "" {
		v.add("account.company_name", FieldRequired, "is required")
	}
	if o.Account.Country == "" {
		v.add("account.country", FieldRequired, "is required")
	}
	v.requiredText("owner", o.Owner, MaxOwnerLen, false)
	v.text("crm_id", o.CRMID, MaxCRMIDLen, false)
	v.date("first_contact_date", o.FirstContactDate)
	if o.FirstContactDate.After(now) {
		v.add("first_contact_date", FieldOutOfRange, "must not be in the future")
	}
	return v.err("the direct opportunity is invalid")
}

// DirectStatus is where a direct opportunity is.
type DirectStatus string

// The direct opportunity statuses.
const (
	DirectOpen   DirectStatus = "open"
	DirectWon    DirectStatus = "won"
	DirectLost   DirectStatus = "lost"
	DirectCeded  DirectStatus = "ceded" // handed to a partner after a conflict decision
	directUnborn DirectStatus = ""
)

// DirectOpportunityRecorded records a direct opportunity; it starts its
// stream. Its position in the ledger is when the vendor's claim began.
type DirectOpportunityRecorded struct {
	OpportunityID uuid.UUID         `json:"opportunity_id"`
	Opportunity   DirectOpportunity `json:"opportunity"`
	RecordedBy    string            `json:"recorded_by"`
	At            time.Time         `json:"at"`
}

// DirectOpportunityUpdated records new details (stage, value...).
type DirectOpportunityUpdated struct {
	OpportunityID uuid.UUID         `json:"opportunity_id"`
	Opportunity   DirectOpportunity `json:"opportunity"`
	UpdatedBy     string            `json:"updated_by"`
	At            time.Time         `json:"at"`
}

// DirectOpportunityClosed records the end of a direct opportunity.
type DirectOpportunityClosed struct {
	OpportunityID uuid.UUID    `json:"opportunity_id"`
	Outcome       DirectStatus `json:"outcome"`
	Reason        string       `json:"reason,omitempty"`
	ClosedBy      string       `json:"closed_by"`
	At            time.Time    `json:"at"`
}

// EventType returns "DirectOpportunityRecorded".
func (DirectOpportunityRecorded) EventType() string { return "DirectOpportunityRecorded" }

// EventType returns "DirectOpportunityUpdated".
func (DirectOpportunityUpdated) EventType() string { return "DirectOpportunityUpdated" }

// EventType returns "DirectOpportunityClosed".
func (DirectOpportunityClosed) EventType() string { return "DirectOpportunityClosed" }

// Direct is the aggregate of one direct opportunity.
type Direct struct {
	id      uuid.UUID
	opp     DirectOpportunity
	status  DirectStatus
	version int
}

// RebuildDirect replays a direct opportunity's events.
func RebuildDirect(events ...Event) (*Direct, error) {
	d := &Direct{}
	for _, e := range events {
		if err := d.Apply(e); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// Apply folds one event.
func (d *Direct) Apply(e Event) error {
	switch e := e.(type) {
	case DirectOpportunityRecorded:
		if d.version != 0 {
			return Errorf(EINTERNAL, "apply: a direct opportunity is recorded once")
		}
		d.id, d.opp, d.status = e.OpportunityID, e.Opportunity, DirectOpen
	case DirectOpportunityUpdated:
		d.opp = e.Opportunity
	case DirectOpportunityClosed:
		d.status = e.Outcome
	default:
		return Errorf(EINTERNAL, "apply: %s is not a direct opportunity event", e.EventType())
	}
	if d.version == 0 && d.status == directUnborn {
		return Errorf(EINTERNAL, "apply: a direct opportunity stream starts with DirectOpportunityRecorded")
	}
	d.version++
	return nil
}

// ID returns the opportunity's ID.
func (d *Direct) ID() uuid.UUID { return d.id }

// Opportunity returns its current details.
func (d *Direct) Opportunity() DirectOpportunity { return d.opp }

// Status returns its status.
func (d *Direct) Status() DirectStatus { return d.status }

func directSalesOnly(actor Actor, action string) error {
	if err := actor.Validate(); err != nil {
		return err
	}
	if actor.Role != RoleDirectSales && actor.Role != RoleAdmin {
		return Errorf(EFORBIDDEN, "only direct sales may %s", action)
	}
	return nil
}

// RecordDirectOpportunity records a new direct opportunity id.
func RecordDirectOpportunity(actor Actor, id uuid.UUID, o DirectOpportunity, now time.Time) ([]Event, error) {
	if err := directSalesOnly(actor, "record direct opportunities"); err != nil {
		return nil, err
	}
	o = o.normalize()
	if err := o.validate(now); err != nil {
		return nil, err
	}
	return []Event{DirectOpportunityRecorded{OpportunityID: id, Opportunity: o, RecordedBy: actor.ID, At: canonicalTime(now)}}, nil
}

// Update replaces the details of an open direct opportunity.
func (d *Direct) Update(actor Actor, o DirectOpportunity, now time.Time) ([]Event, error) {
	if err := directSalesOnly(actor, "update direct opportunities"); err != nil {
		return nil, err
	}
	if d == nil || d.version == 0 {
		return nil, Errorf(ENOTFOUND, "direct opportunity not found")
	}
	if d.status != DirectOpen {
		return nil, Errorf(ECONFLICT, "cannot update direct opportunity %s: it is %s", d.id, d.status)
	}
	o = o.normalize()
	if err := o.validate(now); err != nil {
		return nil, err
	}
	return []Event{DirectOpportunityUpdated{OpportunityID: d.id, Opportunity: o, UpdatedBy: actor.ID, At: canonicalTime(now)}}, nil
}

// Close ends an open direct opportunity as won or lost. Ceding to a partner
// follows a conflict decision, through Cede.
func (d *Direct) Close(actor Actor, outcome DirectStatus, reason string, now time.Time) ([]Event, error) {
	if err := directSalesOnly(actor, "close direct opportunities"); err != nil {
		return nil, err
	}
	if d == nil || d.version == 0 {
		return nil, Errorf(ENOTFOUND, "direct opportunity not found")
	}
	if d.status != DirectOpen {
		return nil, Errorf(ECONFLICT, "cannot close direct opportunity %s: it is %s", d.id, d.status)
	}
	var v validator
	if outcome != DirectWon && outcome != DirectLost {
		v.add("outcome", FieldInvalid, "must be one of: won, lost")
	}
	v.text("reason", reason, MaxReasonLen, true)
	if err := v.err("the close is invalid"); err != nil {
		return nil, err
	}
	return []Event{DirectOpportunityClosed{OpportunityID: d.id, Outcome: outcome, Reason: reason, ClosedBy: actor.ID, At: canonicalTime(now)}}, nil
}

// Cede records that a conflict decision gave the deal to a partner.
func (d *Direct) Cede(by string, reason string, now time.Time) ([]Event, error) {
	if d == nil || d.version == 0 {
		return nil, Errorf(ENOTFOUND, "direct opportunity not found")
	}
	if d.status != DirectOpen {
		return nil, nil // already closed: nothing to cede
	}
	return []Event{DirectOpportunityClosed{OpportunityID: d.id, Outcome: DirectCeded, Reason: reason, ClosedBy: by, At: canonicalTime(now)}}, nil
}
