package domain

import (
	"fmt"
	"strings"
	"time"
)

// CRMProgress is what the vendor's CRM says about the opportunity of a
// registered deal after a change made there (stage, amount, close date),
// carried by RegistrationProgressed. Empty fields did not change.
type CRMProgress struct {
	// MessageID is the inbound message's ID (its webhook-id): the same
	// message delivered again appends nothing.
	MessageID string `json:"message_id"`
	// OpportunityID is the CRM's own ID of the opportunity.
	OpportunityID string    `json:"opportunity_id,omitempty"`
	Stage         string    `json:"stage,omitempty"`
	Amount        Money     `json:"amount,omitzero"`
	CloseDate     time.Time `json:"close_date,omitzero"`
	// ChangedBy is the CRM user who made the change.
	ChangedBy string `json:"changed_by,omitempty"`
}

// Summary is the change in one line, for a registration's history.
func (c CRMProgress) Summary() string {
	var parts []string
	if c.Stage != "" {
		parts = append(parts, "stage "+c.Stage)
	}
	if !c.Amount.IsZero() {
		parts = append(parts, fmt.Sprintf("amount %s %s", c.Amount.Amount.StringFixed(2), c.Amount.Currency))
	}
	if !c.CloseDate.IsZero() {
		parts = append(parts, "close date "+c.CloseDate.Format("2006-01-02"))
	}
	if len(parts) == 0 {
		return "no change"
	}
	return strings.Join(parts, ", ")
}

// Limits of a CRM update.
const (
	MaxCRMStageLen     = 100
	MaxCRMMessageIDLen = 200
)

// CRM outcomes of an opportunity.
const (
	CRMOpen       = ""
	CRMClosedWon  = "won"
	CRMClosedLost = "lost"
)

func crmOnly(actor Actor) error {
	if err := actor.Validate(); err != nil {
		return err
	}
	if actor.Role != RoleDirectSales && actor.Role != RoleAdmin {
		return Errorf(EFORBIDDEN, "only the CRM integration may record CRM updates")
	}
	return nil
}

// CRMUpdate records a change the CRM made to the opportunity of a
// protected registration: a RegistrationProgressed carrying it, or, when
// the CRM closed the opportunity (outcome won or lost), the close of the
// registration. A registration that is no longer protected (closed,
// expired...) takes nothing: nil events, no error, because the CRM keeps
// changing its records after dealreg is done with them.
func (r *Registration) CRMUpdate(actor Actor, c CRMProgress, outcome string, now time.Time) ([]Event, error) {
	if err := crmOnly(actor); err != nil {
		return nil, err
	}
	if r == nil || r.version == 0 {
		return nil, Errorf(ENOTFOUND, "registration not found")
	}
	var v validator
	v.requiredText("message_id", c.MessageID, MaxCRMMessageIDLen, false)
	v.text("stage", c.Stage, MaxCRMStageLen, false)
	v.text("opportunity_id", c.OpportunityID, MaxCRMIDLen, false)
	v.text("changed_by", c.ChangedBy, MaxOwnerLen, false)
	c.Amount = c.Amount.normalize()
	if !c.Amount.IsZero() {
		validateMoney(&v, "amount", c.Amount)
	}
	v.date("close_date", c.CloseDate)
	if outcome != CRMOpen && outcome != CRMClosedWon && outcome != CRMClosedLost {
		v.add("outcome", FieldInvalid, "must be empty, won or lost")
	}
	if err := v.err("the CRM update is invalid"); err != nil {
		return nil, err
	}
	if r.status != StatusActive && r.status != StatusExtensionRequested {
		return nil, nil
	}
	c.CloseDate = canonicalTime(c.CloseDate)
	now = canonicalTime(now)
	switch outcome {
	case CRMClosedWon:
		return []Event{RegistrationClosedWon{RegistrationID: r.id, ClosedBy: actor.ID, FinalValue: c.Amount,
			Note: crmNote("closed won in the CRM", c), At: now}}, nil
	case CRMClosedLost:
		return []Event{RegistrationClosedLost{RegistrationID: r.id, ClosedBy: actor.ID,
			Reason: crmNote("closed lost in the CRM", c), At: now}}, nil
	}
	if c.Stage == "" && c.Amount.IsZero() && c.CloseDate.IsZero() {
		return nil, nil
	}
	return []Event{RegistrationProgressed{RegistrationID: r.id, ProgressedBy: actor.ID, CRM: &c, At: now}}, nil
}

func crmNote(what string, c CRMProgress) string {
	s := what
	if c.OpportunityID != "" {
		s += " (opportunity " + c.OpportunityID + ")"
	}
	if c.Stage != "" {
		s += ": " + c.Stage
	}
	return s
}
