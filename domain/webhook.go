package domain

import (
	"net/url"
	"slices"
	"strings"
	"time"
)

// WebhooksStream is the stream of webhook subscriptions: every outbound
// endpoint an admin registered, changed or that was disabled.
const WebhooksStream = "webhooks"

// WebhookSubscription is one outbound endpoint that the outbox delivers
// ledger events to, signed per Standard Webhooks. PartnerID scopes it: a
// partner-facing subscription carries only that partner's registrations,
// as the partner sees them; "" carries every event an admin may see.
type WebhookSubscription struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	EventTypes  []string `json:"event_types"` // stored event type names; "*" is every deliverable type
	Description string   `json:"description,omitempty"`
	Enabled     bool     `json:"enabled"`
	PartnerID   string   `json:"partner_id,omitempty"`
	// SealedSecret is the signing secret encrypted with the server's
	// secret key (AES-256-GCM, base64): the outbox must sign with the
	// secret itself, so a one-way hash cannot do, and the ledger never
	// holds it in the clear.
	SealedSecret string `json:"sealed_secret"`
	// Kind is the delivery target: "" (a signed webhook POST to URL) or
	// "salesforce" (the Salesforce connector upserts the registration's
	// opportunity; URL is the org's login URL and Salesforce its
	// settings). Fixed at creation.
	Kind       string            `json:"kind,omitempty"`
	Salesforce *SalesforceTarget `json:"salesforce,omitempty"`
	// From is the global position from which events are delivered: the
	// position of the event that created the subscription.
	CreatedAt time.Time `json:"created_at"`
}

// Wants reports whether the subscription takes events of type typ.
func (w WebhookSubscription) Wants(typ string) bool {
	return slices.Contains(w.EventTypes, "*") || slices.Contains(w.EventTypes, typ)
}

// WebhookCreated records a new subscription.
type WebhookCreated struct {
	Subscription WebhookSubscription `json:"subscription"`
	By           string              `json:"by"`
	At           time.Time           `json:"at"`
}

// WebhookUpdated records new settings of a subscription (URL, event types,
// description, enabled); the secret and the scope never change.
type WebhookUpdated struct {
	ID          string    `json:"id"`
	URL         string    `json:"url"`
	EventTypes  []string  `json:"event_types"`
	Description string    `json:"description,omitempty"`
	Enabled     bool      `json:"enabled"`
	By          string    `json:"by"`
	At          time.Time `json:"at"`
}

// WebhookDisabled records that the outbox disabled an endpoint, because
// the receiver answered 410 Gone.
type WebhookDisabled struct {
	ID     string    `json:"id"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// WebhookReplayRequested records that an admin asked for every delivery of
// a subscription from a global position on to be sent again (or, with
// DeliveryID, that one delivery be sent again); a failing subscription
// resumes.
type WebhookReplayRequested struct {
	ID           string    `json:"id"`
	FromPosition uint64    `json:"from_position"`
	DeliveryID   string    `json:"delivery_id,omitempty"`
	By           string    `json:"by"`
	At           time.Time `json:"at"`
}

func (WebhookCreated) EventType() string         { return "WebhookCreated" }
func (WebhookUpdated) EventType() string         { return "WebhookUpdated" }
func (WebhookDisabled) EventType() string        { return "WebhookDisabled" }
func (WebhookReplayRequested) EventType() string { return "WebhookReplayRequested" }

// Deliverable reports whether events of type typ may leave dealreg through
// the outbox at all: the webhook subscriptions themselves (they carry
// sealed secrets), token events and the people notified by e-mail
// (personal data) never do.
func Deliverable(typ string) bool {
	return !strings.HasPrefix(typ, "Webhook") && !strings.HasPrefix(typ, "Token") && !strings.HasPrefix(typ, "Person")
}

// ValidateWebhook checks the settings of a subscription: an absolute
// http(s) URL without credentials, and known, deliverable event types.
func ValidateWebhook(rawURL string, types []string) error {
	var fields []FieldError
	u, err := url.Parse(rawURL)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		fields = append(fields, FieldError{Field: "url", Code: FieldInvalid, Message: "must be an absolute http or https URL"})
	case u.User != nil:
		fields = append(fields, FieldError{Field: "url", Code: FieldInvalid, Message: "must not carry credentials"})
	}
	if len(types) == 0 {
		fields = append(fields, FieldError{Field: "event_types", Code: FieldRequired, Message: `name at least one event type, or "*"`})
	}
	for _, t := range types {
		if t == "*" {
			continue
		}
		if _, ok := eventRegistry[t]; !ok || !Deliverable(t) {
			fields = append(fields, FieldError{Field: "event_types", Code: FieldInvalid, Message: "no deliverable event type " + t})
		}
	}
	if len(fields) > 0 {
		return &Error{Code: EINVALID, Message: "the webhook subscription is invalid", Fields: fields}
	}
	return nil
}

// Delivery target kinds.
const (
	TargetWebhook    = ""
	TargetSalesforce = "salesforce"
)

// SalesforceTarget is a Salesforce connector's settings (docs/crm.md): the
// connected app it authenticates as (OAuth 2.0 client credentials), and
// how a registration maps onto the sObject it upserts by an external-ID
// field.
type SalesforceTarget struct {
	ClientID string `json:"client_id"`
	// SealedClientSecret is the connected app's consumer secret, sealed
	// like a webhook secret (AES-256-GCM under the server's key).
	SealedClientSecret string `json:"sealed_client_secret"`
	APIVersion         string `json:"api_version"`       // "62.0"
	Object             string `json:"object"`            // "Opportunity"
	ExternalIDField    string `json:"external_id_field"` // "Dealreg_Id__c", holds the registration ID
	// Fields maps each Salesforce field to the dealreg value written to
	// it (one of SalesforceSources).
	Fields map[string]string `json:"fields"`
	// Stages maps a registration status to the StageName written for it
	// (the "stage" source); a status not named writes no stage.
	Stages map[string]string `json:"stages,omitempty"`
	// BatchSize is how many deliveries one composite request carries
	// (1-200).
	BatchSize int `json:"batch_size"`
}

// SalesforceSources are the dealreg values a Salesforce field can take.
var SalesforceSources = []string{"registration_id", "partner_id", "partner_name", "name", "account_name", "account_domain",
	"account_country", "amount", "currency", "close_date", "stage", "status", "protection_start", "protection_end",
	"product_lines", "write_id"}
