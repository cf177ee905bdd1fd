package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/netip"
	"net/url"
	"strings"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// WebhookInput is what an admin sets on a subscription.
type WebhookInput struct {
	URL         string   `json:"url"`
	EventTypes  []string `json:"event_types"`
	Description string   `json:"description,omitempty"`
	Enabled     *bool    `json:"enabled,omitempty"` // nil: true on create, unchanged on update
	// PartnerID scopes a new subscription to one partner's registrations,
	// as that partner sees them; it cannot change afterwards.
	PartnerID string `json:"partner_id,omitempty"`
	// Kind is the delivery target: "" or "webhook" (a signed POST to
	// URL), or "salesforce" (the Salesforce connector: URL is the org's
	// login URL, Salesforce its settings). Fixed at creation.
	Kind       string           `json:"kind,omitempty"`
	Salesforce *SalesforceInput `json:"salesforce,omitempty"`
}

// WebhookView is a subscription as the API shows it: never its secret,
// except in the answer to its creation (Secret).
type WebhookView struct {
	ID             string          `json:"id"`
	URL            string          `json:"url"`
	EventTypes     []string        `json:"event_types"`
	Description    string          `json:"description,omitempty"`
	Enabled        bool            `json:"enabled"`
	PartnerID      string          `json:"partner_id,omitempty"`
	From           uint64          `json:"from_position"`
	DisabledReason string          `json:"disabled_reason,omitempty"`
	Failing        bool            `json:"failing"`
	FailingSince   string          `json:"failing_since,omitempty"`
	Secret         string          `json:"secret,omitempty"`
	Kind           string          `json:"kind"`
	Salesforce     *SalesforceView `json:"salesforce,omitempty"`
}

func requireAdmin(caller Caller, action string) error {
	if caller.Actor.Role != domain.RoleAdmin {
		return domain.Errorf(domain.EFORBIDDEN, "role %q may not %s; only admin may", caller.Actor.Role, action)
	}
	return nil
}

// checkTarget refuses a URL naming a loopback, private or link-local
// address (or localhost) unless the admin flag allows them; the dialer
// checks every resolved address again when sending.
func (s *Service) checkTarget(raw string) error {
	if s.dispatch != nil && s.dispatch.cfg.AllowPrivateTargets {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil // ValidateWebhook reports it
	}
	host := strings.ToLower(u.Hostname())
	private := host == "localhost" || strings.HasSuffix(host, ".localhost")
	if a, err := netip.ParseAddr(host); err == nil && privateAddr(a) {
		private = true
	}
	if private {
		return &domain.Error{Code: domain.EINVALID, Message: "the webhook URL names a loopback or private address, which this server does not call",
			Fields: []domain.FieldError{{Field: "url", Code: domain.FieldInvalid, Message: "loopback and private-range targets are refused"}}}
	}
	return nil
}

// CreateWebhook records a new subscription and returns it with its
// signing secret, the only time the secret is shown.
func (s *Service) CreateWebhook(ctx context.Context, call Call, in WebhookInput) (WebhookView, error) {
	if err := requireAdmin(call.Caller, "manage webhooks"); err != nil {
		return WebhookView{}, err
	}
	if in.Kind == "webhook" {
		in.Kind = domain.TargetWebhook
	}
	switch in.Kind {
	case domain.TargetWebhook:
		if in.Salesforce != nil {
			return WebhookView{}, sfInvalid("salesforce", `only a subscription of kind "salesforce" takes salesforce settings`)
		}
	case domain.TargetSalesforce:
		if in.PartnerID != "" {
			return WebhookView{}, sfInvalid("partner_id", "the Salesforce connector is the vendor's: it takes no partner scope")
		}
		if in.EventTypes == nil {
			in.EventTypes = DefaultSalesforceEvents
		}
	default:
		return WebhookView{}, sfInvalid("kind", `must be "webhook" or "salesforce"`)
	}
	if err := domain.ValidateWebhook(in.URL, in.EventTypes); err != nil {
		return WebhookView{}, err
	}
	if err := s.checkTarget(in.URL); err != nil {
		return WebhookView{}, err
	}
	if in.PartnerID != "" {
		if _, ok := s.Directory.Partner(in.PartnerID); !ok {
			return WebhookView{}, &domain.Error{Code: domain.EINVALID, Message: "no such partner",
				Fields: []domain.FieldError{{Field: "partner_id", Code: domain.FieldInvalid, Message: "no partner " + in.PartnerID}}}
		}
	}
	if s.dispatch == nil {
		return WebhookView{}, domain.Errorf(domain.EINTERNAL, "this service sends no webhooks")
	}
	var target *domain.SalesforceTarget
	if in.Kind == domain.TargetSalesforce {
		var err error
		if target, err = s.dispatch.salesforceTarget(in.Salesforce); err != nil {
			return WebhookView{}, err
		}
	}
	raw := make([]byte, 24)
	_, _ = rand.Read(raw)
	secret := "whsec_" + base64.StdEncoding.EncodeToString(raw)
	enabled := in.Enabled == nil || *in.Enabled
	sub := domain.WebhookSubscription{ID: "wh_" + strings.ReplaceAll(s.newID().String(), "-", "")[:20], URL: in.URL,
		EventTypes: in.EventTypes, Description: in.Description, Enabled: enabled, PartnerID: in.PartnerID,
		SealedSecret: s.dispatch.seal(secret), CreatedAt: s.clock.Now(), Kind: in.Kind, Salesforce: target}
	ev := domain.WebhookCreated{Subscription: sub, By: call.Actor.ID, At: sub.CreatedAt}
	if _, err := s.execute(ctx, call, domain.WebhooksStream, func([]domain.Event) ([]domain.Event, error) {
		return []domain.Event{ev}, nil
	}); err != nil {
		return WebhookView{}, err
	}
	v, err := s.Webhook(ctx, call.Caller, sub.ID)
	if sub.Kind == domain.TargetWebhook {
		v.Secret = secret
	}
	return v, err
}

// UpdateWebhook changes a subscription's URL, event types, description
// or enabled flag (re-enabling one that was disabled by a 410).
func (s *Service) UpdateWebhook(ctx context.Context, call Call, id string, in WebhookInput) (WebhookView, error) {
	if err := requireAdmin(call.Caller, "manage webhooks"); err != nil {
		return WebhookView{}, err
	}
	cur, ok := s.Outbox.Subscription(id)
	if !ok {
		return WebhookView{}, domain.Errorf(domain.ENOTFOUND, "no such webhook subscription")
	}
	if in.URL == "" {
		in.URL = cur.URL
	}
	if in.EventTypes == nil {
		in.EventTypes = cur.EventTypes
	}
	if (in.Kind != "" && in.Kind != cur.Kind && !(in.Kind == "webhook" && cur.Kind == "")) || in.Salesforce != nil {
		return WebhookView{}, sfInvalid("kind", "a subscription's kind and connector settings cannot change; create another")
	}
	if in.PartnerID != "" && in.PartnerID != cur.PartnerID {
		return WebhookView{}, &domain.Error{Code: domain.EINVALID, Message: "a subscription's partner scope cannot change; create another",
			Fields: []domain.FieldError{{Field: "partner_id", Code: domain.FieldInvalid, Message: "cannot change"}}}
	}
	if err := domain.ValidateWebhook(in.URL, in.EventTypes); err != nil {
		return WebhookView{}, err
	}
	if err := s.checkTarget(in.URL); err != nil {
		return WebhookView{}, err
	}
	enabled := cur.Enabled
	if in.Enabled != nil {
		enabled = *in.Enabled
	}
	ev := domain.WebhookUpdated{ID: id, URL: in.URL, EventTypes: in.EventTypes, Description: in.Description, Enabled: enabled,
		By: call.Actor.ID, At: s.clock.Now()}
	if _, err := s.execute(ctx, call, domain.WebhooksStream, func([]domain.Event) ([]domain.Event, error) {
		return []domain.Event{ev}, nil
	}); err != nil {
		return WebhookView{}, err
	}
	return s.Webhook(ctx, call.Caller, id)
}

// Webhooks lists every subscription.
func (s *Service) Webhooks(ctx context.Context, caller Caller) ([]WebhookView, error) {
	if err := requireAdmin(caller, "read webhooks"); err != nil {
		return nil, err
	}
	out := []WebhookView{}
	for _, sub := range s.Outbox.Subscriptions() {
		v, err := s.webhookView(ctx, sub)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Webhook returns subscription id. To anyone but an admin no
// subscription exists: the answer is the same as for an unknown ID.
func (s *Service) Webhook(ctx context.Context, caller Caller, id string) (WebhookView, error) {
	sub, ok := s.Outbox.Subscription(id)
	if !ok || caller.Actor.Role != domain.RoleAdmin {
		return WebhookView{}, domain.Errorf(domain.ENOTFOUND, "no such webhook subscription")
	}
	return s.webhookView(ctx, sub)
}

func (s *Service) webhookView(ctx context.Context, sub projections.OutboxSubscription) (WebhookView, error) {
	v := WebhookView{ID: sub.ID, URL: sub.URL, EventTypes: sub.EventTypes, Description: sub.Description, Enabled: sub.Enabled,
		PartnerID: sub.PartnerID, From: sub.From, DisabledReason: sub.DisabledReason, Kind: sub.Kind, Salesforce: salesforceView(sub.Salesforce)}
	if v.Kind == "" {
		v.Kind = "webhook"
	}
	since, failing, err := s.Outbox.Failing(ctx, sub.ID)
	if err != nil {
		return v, err
	}
	if failing {
		v.Failing, v.FailingSince = true, since.Format("2006-01-02T15:04:05Z07:00")
	}
	return v, nil
}

// WebhookDelivery is a delivery with its log of attempts.
type WebhookDelivery struct {
	projections.OutboxDelivery
	Log []projections.OutboxAttempt `json:"attempts_log"`
}

// WebhookDeliveries lists deliveries of subscription id in ledger order
// from position from, of one status ("" all; "dead" is the dead-letter
// list).
func (s *Service) WebhookDeliveries(ctx context.Context, caller Caller, id, status string, from uint64, limit int) ([]WebhookDelivery, error) {
	if _, err := s.Webhook(ctx, caller, id); err != nil {
		return nil, err
	}
	switch status {
	case "", projections.DeliveryPending, projections.DeliveryDelivered, projections.DeliveryDead:
	default:
		return nil, &domain.Error{Code: domain.EINVALID, Message: "unknown delivery status",
			Fields: []domain.FieldError{{Field: "status", Code: domain.FieldInvalid, Message: "one of pending, delivered, dead"}}}
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	ds, err := s.Outbox.Deliveries(ctx, id, status, from, limit)
	if err != nil {
		return nil, err
	}
	out := make([]WebhookDelivery, len(ds))
	for i, d := range ds {
		log, err := s.Outbox.Attempts(ctx, d.ID)
		if err != nil {
			return nil, err
		}
		out[i] = WebhookDelivery{OutboxDelivery: d, Log: log}
	}
	return out, nil
}

// ReplayWebhook sends again every delivery of subscription id from
// global position from on (delivery "" ), or the one delivery named; a
// failing subscription resumes. The request is an event, so the replay is
// part of the ledger's history.
func (s *Service) ReplayWebhook(ctx context.Context, call Call, id string, from uint64, delivery string) (WebhookView, error) {
	if _, err := s.Webhook(ctx, call.Caller, id); err != nil {
		return WebhookView{}, err
	}
	if delivery != "" {
		if _, ok, err := s.Outbox.Delivery(ctx, id, delivery); err != nil || !ok {
			if err == nil {
				err = domain.Errorf(domain.ENOTFOUND, "no delivery %s of webhook subscription %s", delivery, id)
			}
			return WebhookView{}, err
		}
	}
	ev := domain.WebhookReplayRequested{ID: id, FromPosition: from, DeliveryID: delivery, By: call.Actor.ID, At: s.clock.Now()}
	if _, err := s.execute(ctx, call, domain.WebhooksStream, func([]domain.Event) ([]domain.Event, error) {
		return []domain.Event{ev}, nil
	}); err != nil {
		return WebhookView{}, err
	}
	return s.Webhook(ctx, call.Caller, id)
}
