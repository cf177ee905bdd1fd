package app

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/dealreg/dealreg/domain"
)

// CRMConfig is the inbound CRM endpoint's configuration (docs/crm.md).
type CRMConfig struct {
	// InboundSecret is the shared secret the CRM side signs its messages
	// with, in the Standard Webhooks form ("whsec_" + base64); empty
	// turns the endpoint off (404).
	InboundSecret string
	// Window is how far a message's webhook-timestamp may be from the
	// clock's now, either way; 0 means 5 minutes.
	Window time.Duration
	// EchoField is the CRM field the Salesforce connector writes on every
	// upsert (the delivery ID); a change whose changed fields name it is
	// dealreg's own write coming back, and is dropped. "" means
	// DefaultEchoField.
	EchoField string
}

// DefaultEchoField is the Opportunity field the connector stamps with the
// ID of the delivery that wrote it.
const DefaultEchoField = "Dealreg_Write_Id__c"

// crmCall is the identity of what the CRM appends. Its ID is constant:
// the inbound message ID is its idempotency key, remembered by the
// directory with the events it appended.
var crmCall = Caller{Actor: domain.Actor{ID: "system:crm", Role: domain.RoleDirectSales}, Name: "crm"}

// CRMEvent is one inbound message: a change to a CRM opportunity, as the
// relay from Salesforce Change Data Capture (or any CRM) sends it. Only
// the fields that changed are set, as in a change event.
type CRMEvent struct {
	// OpportunityID is the CRM's ID of the opportunity.
	OpportunityID string `json:"opportunity_id"`
	// DealregID is the registration the opportunity is for (the
	// connector's external ID field); empty: not a registered deal.
	DealregID string `json:"dealreg_id"`
	Stage     string `json:"stage,omitempty"`
	// Amount is a decimal string, in Currency.
	Amount    string `json:"amount,omitempty"`
	Currency  string `json:"currency,omitempty"`
	CloseDate string `json:"close_date,omitempty"` // YYYY-MM-DD
	// IsClosed and IsWon are the opportunity's state after the change.
	IsClosed bool `json:"is_closed,omitempty"`
	IsWon    bool `json:"is_won,omitempty"`
	// ChangedFields names the CRM fields the change wrote (the change
	// event header's changedFields).
	ChangedFields []string `json:"changed_fields,omitempty"`
	ChangedBy     string   `json:"changed_by,omitempty"`
}

// CRMReceipt is the answer to an inbound message.
type CRMReceipt struct {
	MessageID string `json:"message_id"`
	// Status: "recorded" (events appended), "duplicate" (this message ID
	// was recorded before), "ignored" (nothing to record: Reason says
	// why).
	Status         string `json:"status"`
	Reason         string `json:"reason,omitempty"`
	RegistrationID string `json:"registration_id,omitempty"`
	Position       uint64 `json:"position,omitempty"`
}

// CRMEnabled reports whether the inbound endpoint is configured.
func (s *Service) CRMEnabled() bool { return s.crm.InboundSecret != "" }

func unauthorized(msg string) error { return domain.Errorf(domain.EUNAUTHORIZED, "%s", msg) }

// VerifyCRM checks an inbound message's signature and age before
// anything of it is read: the Standard Webhooks headers, a timestamp
// within the window of the clock's now, and the HMAC-SHA256 over
// "id.timestamp.body" with the shared secret, compared in constant time
// (hmac.Equal, in the spec's reference library). It returns the message
// ID.
func (s *Service) VerifyCRM(h http.Header, body []byte) (string, error) {
	if !s.CRMEnabled() {
		return "", domain.Errorf(domain.ENOTFOUND, "the inbound CRM endpoint is not configured")
	}
	wh, err := standardwebhooks.NewWebhook(s.crm.InboundSecret)
	if err != nil {
		return "", domain.Errorf(domain.EINTERNAL, "the inbound CRM secret is malformed")
	}
	id := h.Get(standardwebhooks.HeaderWebhookID)
	ts := h.Get(standardwebhooks.HeaderWebhookTimestamp)
	if id == "" || ts == "" || h.Get(standardwebhooks.HeaderWebhookSignature) == "" {
		return "", unauthorized("the message must carry webhook-id, webhook-timestamp and webhook-signature headers")
	}
	if len(id) > domain.MaxCRMMessageIDLen {
		return "", unauthorized("the webhook-id is too long")
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "", unauthorized("the webhook-timestamp is not a Unix time in seconds")
	}
	window := s.crm.Window
	if window <= 0 {
		window = 5 * time.Minute
	}
	if d := s.clock.Now().Sub(time.Unix(secs, 0)); d > window || d < -window {
		return "", unauthorized("the webhook-timestamp is outside the accepted window of " + window.String())
	}
	if err := wh.VerifyIgnoringTimestamp(body, h); err != nil {
		return "", unauthorized("the webhook-signature does not verify")
	}
	return id, nil
}

// ReceiveCRM records a verified inbound message (VerifyCRM): a stage,
// amount or close-date change of a registered deal's opportunity becomes
// a progress event on the registration, a closed-won or closed-lost closes
// it. Echoes of the connector's own writes, opportunities that are not
// registered deals and registrations no longer protected are answered
// "ignored" and append nothing. The message ID is the idempotency key: a
// message received again appends nothing ("duplicate").
func (s *Service) ReceiveCRM(ctx context.Context, msgID string, body []byte, ev CRMEvent) (CRMReceipt, error) {
	rc := CRMReceipt{MessageID: msgID, Status: "ignored"}
	echo := s.crm.EchoField
	if echo == "" {
		echo = DefaultEchoField
	}
	if slices.ContainsFunc(ev.ChangedFields, func(f string) bool { return strings.EqualFold(f, echo) }) {
		rc.Reason = "an echo of dealreg's own write (" + echo + " changed)"
		return rc, nil
	}
	id, err := uuid.Parse(strings.TrimSpace(ev.DealregID))
	if err != nil {
		rc.Reason = "the opportunity is not a registered deal (no dealreg_id)"
		return rc, nil
	}
	c := domain.CRMProgress{MessageID: msgID, OpportunityID: ev.OpportunityID, Stage: strings.TrimSpace(ev.Stage), ChangedBy: ev.ChangedBy}
	var fields []domain.FieldError
	if ev.Amount != "" {
		amt, err := decimal.NewFromString(ev.Amount)
		if err != nil || ev.Currency == "" {
			fields = append(fields, domain.FieldError{Field: "amount", Code: domain.FieldInvalid, Message: "must be a decimal number, with currency"})
		}
		c.Amount = domain.Money{Amount: amt, Currency: ev.Currency}
	}
	if ev.CloseDate != "" {
		d, err := time.Parse(time.DateOnly, ev.CloseDate)
		if err != nil {
			fields = append(fields, domain.FieldError{Field: "close_date", Code: domain.FieldInvalid, Message: "must be a date, YYYY-MM-DD"})
		}
		c.CloseDate = d
	}
	if len(fields) > 0 {
		return rc, &domain.Error{Code: domain.EINVALID, Message: "the CRM message is invalid", Fields: fields}
	}
	outcome := domain.CRMOpen
	if ev.IsClosed {
		outcome = domain.CRMClosedLost
		if ev.IsWon {
			outcome = domain.CRMClosedWon
		}
	}
	call := Call{Caller: crmCall, IdempotencyKey: "crm:" + msgID, RequestHash: HashRequest("crm-inbound", body)}
	if _, ok := s.Registrations.Get(id); !ok {
		rc.Reason = "no such registration"
		return rc, nil
	}
	res, err := s.update(ctx, call, id, func(r *domain.Registration, now time.Time) ([]domain.Event, error) {
		return r.CRMUpdate(call.Actor, c, outcome, now)
	})
	if err != nil {
		return rc, err
	}
	rc.RegistrationID = id.String()
	switch {
	case res.Replayed:
		rc.Status, rc.Position = "duplicate", res.Position
	case res.Position == 0:
		rc.Reason = "nothing to record: the registration is not protected, or nothing it tracks changed"
	default:
		rc.Status, rc.Position = "recorded", res.Position
	}
	return rc, nil
}
