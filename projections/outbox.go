package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/notify"
)

// Outbox is the one durable outbox of dealreg: the handler that turns
// ledger events into deliveries for every outbound channel (webhook
// subscriptions today; e-mail and CRM connectors plug in as further
// subscriptions of the same table). For each event, in ledger order, it
// enqueues one delivery per subscription that wants the event and may see
// it, with a stable ID derived from the subscription and the event, in the
// follower's commit: a delivery exists exactly when the checkpoint has
// passed its event, and a restart neither loses nor duplicates one.
//
// Sending is not the follower's work (a receiver that is down must never
// hold up the read side): a dispatcher (app/outbox.go) reads the due
// deliveries of each subscription, oldest first, and records every
// attempt through Record. The deliveries table is the per-subscription
// checkpoint: a subscription has delivered everything up to its oldest
// undelivered row.
type Outbox struct {
	tracker
	store domain.EventStore

	subs   map[string]OutboxSubscription
	rows   *rowSet
	people map[string]domain.Person // the e-mail channel's recipients
	prows  *rowSet
	owners *registrationOwners
	ops    []outboxOp // what the next flush writes, besides rows
	db     *sql.DB
	dbMu   sync.Mutex
	kick   chan struct{}
}

var _ Handler = (*Outbox)(nil)

// OutboxSubscription is a webhook subscription as the outbox keeps it.
type OutboxSubscription struct {
	domain.WebhookSubscription
	// From is the global position of the event that created it: events
	// before it are delivered only when an admin replays them.
	From uint64 `json:"from"`
	// DisabledReason says why the outbox disabled it (410 Gone), if it
	// did.
	DisabledReason string `json:"disabled_reason,omitempty"`
}

// outboxOp is one write of a flush: a delivery to insert, or a replay.
type outboxOp struct {
	insert *OutboxDelivery
	replay *domain.WebhookReplayRequested
}

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryDead      = "dead"
)

// OutboxDelivery is one event to send to one subscription.
type OutboxDelivery struct {
	ID           string          `json:"id"` // msg_<uuid>, the webhook-id: stable across retries, replays and restarts
	Subscription string          `json:"subscription_id"`
	Position     uint64          `json:"position"`
	EventID      uuid.UUID       `json:"event_id"`
	EventType    string          `json:"event_type"`
	Stream       string          `json:"stream"`
	RecordedAt   time.Time       `json:"recorded_at"`
	Payload      json.RawMessage `json:"-"`
	Status       string          `json:"status"`
	Attempts     int             `json:"attempts"`
	FirstTry     time.Time       `json:"first_attempt_at,omitzero"`
	NextAt       time.Time       `json:"next_attempt_at,omitzero"`
	LastStatus   int             `json:"last_status_code,omitempty"`
	LastError    string          `json:"last_error,omitempty"`
	DeliveredAt  time.Time       `json:"delivered_at,omitzero"`
}

// OutboxAttempt is one line of the delivery log.
type OutboxAttempt struct {
	Delivery   string        `json:"delivery_id"`
	N          int           `json:"attempt"`
	At         time.Time     `json:"at"`
	StatusCode int           `json:"status_code,omitempty"`
	Latency    time.Duration `json:"-"`
	LatencyMS  float64       `json:"latency_ms"`
	Error      string        `json:"error,omitempty"`
}

const outboxSchema = `
CREATE TABLE IF NOT EXISTS outbox_deliveries (
	id         TEXT PRIMARY KEY,
	sub        TEXT NOT NULL,
	pos        INTEGER NOT NULL,
	event_id   TEXT NOT NULL,
	event_type TEXT NOT NULL,
	stream     TEXT NOT NULL,
	at         INTEGER NOT NULL,
	payload    BLOB NOT NULL,
	status     TEXT NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0,
	first_try  INTEGER NOT NULL DEFAULT 0,
	next_at    INTEGER NOT NULL DEFAULT 0,
	last_code  INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	done_at    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS outbox_due ON outbox_deliveries (sub, status, pos);
CREATE TABLE IF NOT EXISTS outbox_attempts (
	delivery   TEXT NOT NULL,
	n          INTEGER NOT NULL,
	at         INTEGER NOT NULL,
	code       INTEGER NOT NULL,
	latency_us INTEGER NOT NULL,
	error      TEXT NOT NULL,
	PRIMARY KEY (delivery, n)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox_failing (sub TEXT PRIMARY KEY, since INTEGER NOT NULL) WITHOUT ROWID;
`

// NewOutbox returns the outbox of a ledger without subscriptions; store
// answers which partner a registration belongs to.
func NewOutbox(store domain.EventStore) *Outbox {
	return &Outbox{tracker: newTracker(), store: store, subs: map[string]OutboxSubscription{},
		rows: newRowSet("outbox-subs"), people: map[string]domain.Person{}, prows: newRowSet("outbox-people"), owners: newRegistrationOwners(store), kick: make(chan struct{}, 1)}
}

// Kick is signalled whenever a commit may have made deliveries due.
func (o *Outbox) Kick() <-chan struct{} { return o.kick }

// Load implements Handler.
func (o *Outbox) Load(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, outboxSchema); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.rows.reset()
	o.ops = nil
	o.subs = map[string]OutboxSubscription{}
	err := LoadRows(ctx, db, o.rows.view, func(_ string, body []byte) error {
		var s OutboxSubscription
		if err := gojson.Unmarshal(body, &s); err != nil {
			return err
		}
		o.subs[s.ID] = s
		return nil
	})
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	o.prows.reset()
	o.people = map[string]domain.Person{}
	err = LoadRows(ctx, db, o.prows.view, func(_ string, body []byte) error {
		var p domain.Person
		if err := gojson.Unmarshal(body, &p); err != nil {
			return err
		}
		o.people[p.ID] = p
		return nil
	})
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	o.dbMu.Lock()
	o.db = db
	o.dbMu.Unlock()
	return nil
}

// ApplyBatch implements Handler.
func (o *Outbox) ApplyBatch(b *Batch, rec domain.RecordedEvent) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if rec.Position < o.next {
		return nil
	}
	defer o.advance(rec.Position)
	if rec.Stream == domain.WebhooksStream {
		ev, err := decodeEvent(b, rec)
		if err != nil {
			return err
		}
		return o.applySubscription(rec, ev)
	}
	if rec.Stream == domain.PeopleStream {
		ev, err := decodeEvent(b, rec)
		if err != nil {
			return err
		}
		if e, ok := ev.(domain.PersonRecorded); ok {
			p := e.Person
			o.people[p.ID] = p
			o.prows.mark(p.ID, func() any { return p })
		}
		return nil
	}
	if len(o.people) > 0 || rec.Type == attestationRequested {
		if err := o.notify(b, rec); err != nil {
			return err
		}
	}
	if len(o.subs) == 0 || !domain.Deliverable(rec.Type) {
		return nil
	}
	var owner string
	var ownerKnown bool
	for _, id := range o.sortedSubs() {
		s := o.subs[id]
		if !s.Enabled || rec.Position < s.From || !s.Wants(rec.Type) {
			continue
		}
		data := json.RawMessage(rec.Data)
		if s.PartnerID != "" {
			if !ownerKnown {
				owner, ownerKnown = o.ownerOf(b.Context(), rec.Stream), true
			}
			if owner != s.PartnerID {
				continue
			}
			data = partnerEventData(rec.Type, rec.Data)
		}
		payload, err := webhookPayload(rec, data)
		if err != nil {
			return err
		}
		o.ops = append(o.ops, outboxOp{insert: &OutboxDelivery{ID: DeliveryID(s.ID, rec.ID), Subscription: s.ID,
			Position: rec.Position, EventID: rec.ID, EventType: rec.Type, Stream: rec.Stream, RecordedAt: rec.RecordedAt,
			Payload: payload, Status: DeliveryPending}})
	}
	return nil
}

// EmailPrefix starts the subscription ID of a person's e-mail channel:
// "email:<person>".
const EmailPrefix = "email:"

// ContactPrefix starts the channel of a mail to a contact an event names
// rather than to a person: "contact:<key>", one channel per request (a
// customer attestation), so that one address that fails holds up no
// other.
const ContactPrefix = "contact:"

// attestationRequested is the one event type mailed to a contact.
var attestationRequested = domain.ConflictAttestationRequested{}.EventType()

// DigestHour is when, in UTC, the day's digest of a person goes out.
const DigestHour = 7

// nextDigest is the first digest time after t.
func nextDigest(t time.Time) time.Time {
	d := time.Date(t.Year(), t.Month(), t.Day(), DigestHour, 0, 0, 0, time.UTC)
	if !d.After(t) {
		d = d.Add(24 * time.Hour)
	}
	return d
}

// notify enqueues one e-mail per person the event's notice is for, in
// their language, unless they turned the kind off; a kind they take as a
// digest waits for the next digest time.
func (o *Outbox) notify(b *Batch, rec domain.RecordedEvent) error {
	ev, err := b.Decode(rec)
	if err != nil {
		return nil // an event this binary does not know tells no one anything
	}
	n, ok := notify.Classify(ev)
	if !ok {
		return nil
	}
	if n.Contact != nil {
		c := n.Contact
		sub := ContactPrefix + n.ContactKey
		o.ops = append(o.ops, outboxOp{insert: &OutboxDelivery{ID: DeliveryID(sub, rec.ID), Subscription: sub, Position: rec.Position,
			EventID: rec.ID, EventType: rec.Type, Stream: rec.Stream, RecordedAt: rec.RecordedAt, Status: DeliveryPending,
			Payload: notify.Message{To: c.Email, Name: c.Name, Language: c.Language, Kind: n.Kind, Fields: n.Fields}.Encode()}})
		return nil
	}
	owner := ""
	if n.Stream != "" {
		if owner = o.ownerOf(b.Context(), n.Stream); owner == "" {
			return nil
		}
	}
	ids := make([]string, 0, len(o.people))
	for id := range o.people {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		p := o.people[id]
		var to bool
		switch {
		case n.Stream != "":
			to = p.Role == domain.RolePartner && p.PartnerID == owner
		case n.AllPartners:
			to = p.Role == domain.RolePartner
		case n.Group != "":
			to = slices.Contains(p.Groups, n.Group)
		case n.Role != "":
			to = p.Role == n.Role
		}
		pref := p.Preference(n.Kind)
		if !to || pref == domain.NotifyOff {
			continue
		}
		d := &OutboxDelivery{ID: DeliveryID(EmailPrefix+p.ID, rec.ID), Subscription: EmailPrefix + p.ID, Position: rec.Position,
			EventID: rec.ID, EventType: rec.Type, Stream: rec.Stream, RecordedAt: rec.RecordedAt, Status: DeliveryPending,
			Payload: notify.Message{To: p.Email, Name: p.Name, Language: p.Language, Kind: n.Kind, Fields: n.Fields}.Encode()}
		if pref == domain.NotifyDigest {
			d.NextAt = nextDigest(rec.RecordedAt)
		}
		o.ops = append(o.ops, outboxOp{insert: d})
	}
	return nil
}

// People returns every person the e-mail channel knows, by ID.
func (o *Outbox) People() []domain.Person {
	o.mu.RLock()
	defer o.mu.RUnlock()
	out := make([]domain.Person, 0, len(o.people))
	for _, p := range o.people {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b domain.Person) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Person returns person id.
func (o *Outbox) Person(id string) (domain.Person, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	p, ok := o.people[id]
	return p, ok
}

func (o *Outbox) sortedSubs() []string {
	ids := make([]string, 0, len(o.subs))
	for id := range o.subs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (o *Outbox) applySubscription(rec domain.RecordedEvent, ev domain.Event) error {
	switch e := ev.(type) {
	case domain.WebhookCreated:
		o.subs[e.Subscription.ID] = OutboxSubscription{WebhookSubscription: e.Subscription, From: rec.Position}
	case domain.WebhookUpdated:
		s, ok := o.subs[e.ID]
		if !ok {
			return badEvent(rec, "no such subscription")
		}
		s.URL, s.EventTypes, s.Description, s.Enabled = e.URL, e.EventTypes, e.Description, e.Enabled
		if e.Enabled {
			s.DisabledReason = ""
		}
		o.subs[e.ID] = s
	case domain.WebhookDisabled:
		s, ok := o.subs[e.ID]
		if !ok {
			return badEvent(rec, "no such subscription")
		}
		s.Enabled, s.DisabledReason = false, e.Reason
		o.subs[e.ID] = s
	case domain.WebhookReplayRequested:
		if _, ok := o.subs[e.ID]; !ok {
			return badEvent(rec, "no such subscription")
		}
		o.ops = append(o.ops, outboxOp{replay: &e})
		return nil
	default:
		return nil
	}
	id := subID(ev)
	s := o.subs[id]
	o.rows.mark(id, func() any { return s })
	return nil
}

func subID(ev domain.Event) string {
	switch e := ev.(type) {
	case domain.WebhookCreated:
		return e.Subscription.ID
	case domain.WebhookUpdated:
		return e.ID
	case domain.WebhookDisabled:
		return e.ID
	}
	return ""
}

// ownerOf returns the partner whose registration stream is, "" for any
// other stream: a partner-facing subscription sees its own registrations
// only.
func (o *Outbox) ownerOf(ctx context.Context, stream string) string { return o.owners.of(ctx, stream) }

// partnerEventData is an event's data as its partner may see it: what the
// duplicate check says about other registrations is left out, as in the
// registration's history (api/registrations.go).
func partnerEventData(typ string, data []byte) json.RawMessage {
	if typ != "RegistrationVerdictRecorded" {
		return json.RawMessage(data)
	}
	var v domain.RegistrationVerdictRecorded
	if gojson.Unmarshal(data, &v) != nil {
		return json.RawMessage(`{}`)
	}
	shown := map[string]any{"registration_id": v.RegistrationID, "attempt": v.Attempt, "verdict": v.Verdict, "at": v.At}
	if v.OwnClaim && len(v.Matches) > 0 {
		shown["own_claim"] = true
		shown["matches"] = v.Matches[:1]
	}
	out, _ := json.Marshal(shown)
	return out
}

// webhookPayload is the body of a delivery, in the Standard Webhooks
// shape: type, timestamp, data.
func webhookPayload(rec domain.RecordedEvent, data json.RawMessage) ([]byte, error) {
	if !json.Valid(data) {
		data = json.RawMessage(`{}`)
	}
	return json.Marshal(map[string]any{
		"type":      rec.Type,
		"timestamp": rec.RecordedAt.UTC().Format(time.RFC3339Nano),
		"data": map[string]any{
			"event_id": rec.ID,
			"position": rec.Position,
			"stream":   rec.Stream,
			"event":    data,
		},
	})
}

// outboxNamespace derives delivery IDs.
var outboxNamespace = uuid.MustParse("6f1c2b9e-3d44-4a57-9b1e-0c7d2e5f8a31")

// DeliveryID is the stable ID of the delivery of event to subscription
// sub: the same on every attempt, replay and rebuild, so that receivers
// deduplicate by it.
func DeliveryID(sub string, event uuid.UUID) string {
	return "msg_" + uuid.NewSHA1(outboxNamespace, []byte(sub+"\x00"+event.String())).String()
}

// Flush implements Handler.
func (o *Outbox) Flush() (Write, error) {
	rows, err := o.rows.flush(o.mu.RLocker())
	if err != nil {
		return nil, err
	}
	prows, err := o.prows.flush(o.mu.RLocker())
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	ops := o.ops
	o.ops = nil
	o.mu.Unlock()
	if rows == nil && prows == nil && len(ops) == 0 {
		return nil, nil
	}
	return func(ctx context.Context, tx *sql.Tx) error {
		for _, w := range []Write{rows, prows} {
			if w == nil {
				continue
			}
			if err := w(ctx, tx); err != nil {
				return err
			}
		}
		for _, op := range ops {
			if err := op.write(ctx, tx); err != nil {
				return fmt.Errorf("outbox: %w", err)
			}
		}
		return nil
	}, nil
}

func (op outboxOp) write(ctx context.Context, tx *sql.Tx) error {
	if d := op.insert; d != nil {
		// OR IGNORE: a batch applied again after a failure, or a rebuild
		// of the state (State.Reset keeps this table), leaves what was
		// delivered as it is.
		var next int64
		if !d.NextAt.IsZero() {
			next = d.NextAt.UnixNano()
		}
		_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO outbox_deliveries (id, sub, pos, event_id, event_type, stream, at, payload, status, next_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.ID, d.Subscription, d.Position, d.EventID.String(), d.EventType, d.Stream,
			d.RecordedAt.UnixNano(), []byte(d.Payload), d.Status, next)
		return err
	}
	r := op.replay
	var err error
	if r.DeliveryID != "" {
		_, err = tx.ExecContext(ctx, `UPDATE outbox_deliveries SET status = 'pending', attempts = 0, first_try = 0, next_at = 0
			WHERE sub = ? AND id = ?`, r.ID, r.DeliveryID)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE outbox_deliveries SET status = 'pending', attempts = 0, first_try = 0, next_at = 0
			WHERE sub = ? AND pos >= ?`, r.ID, r.FromPosition)
	}
	if err == nil {
		_, err = tx.ExecContext(ctx, `DELETE FROM outbox_failing WHERE sub = ?`, r.ID)
	}
	return err
}

// Committed implements Handler.
func (o *Outbox) Committed(next uint64) {
	o.mu.Lock()
	o.next = next
	o.mu.Unlock()
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// Subscriptions returns every subscription, by ID.
func (o *Outbox) Subscriptions() []OutboxSubscription {
	o.mu.RLock()
	defer o.mu.RUnlock()
	out := make([]OutboxSubscription, 0, len(o.subs))
	for _, id := range o.sortedSubs() {
		out = append(out, o.subs[id])
	}
	return out
}

// Subscription returns subscription id.
func (o *Outbox) Subscription(id string) (OutboxSubscription, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	s, ok := o.subs[id]
	return s, ok
}

func (o *Outbox) database() (*sql.DB, error) {
	o.dbMu.Lock()
	defer o.dbMu.Unlock()
	if o.db == nil {
		return nil, errors.New("outbox: not loaded")
	}
	return o.db, nil
}

// Failing reports whether subscription id is failing (a delivery ran out
// of retries), and since when.
func (o *Outbox) Failing(ctx context.Context, id string) (time.Time, bool, error) {
	db, err := o.database()
	if err != nil {
		return time.Time{}, false, err
	}
	var since int64
	err = db.QueryRowContext(ctx, `SELECT since FROM outbox_failing WHERE sub = ?`, id).Scan(&since)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	return time.Unix(0, since).UTC(), true, nil
}

const deliveryColumns = `id, sub, pos, event_id, event_type, stream, at, payload, status, attempts, first_try, next_at, last_code, last_error, done_at`

func scanDelivery(sc interface{ Scan(...any) error }) (OutboxDelivery, error) {
	var d OutboxDelivery
	var eventID string
	var at, first, next, done int64
	var payload []byte
	if err := sc.Scan(&d.ID, &d.Subscription, &d.Position, &eventID, &d.EventType, &d.Stream, &at, &payload, &d.Status,
		&d.Attempts, &first, &next, &d.LastStatus, &d.LastError, &done); err != nil {
		return d, err
	}
	d.EventID, _ = uuid.Parse(eventID)
	d.Payload = payload
	d.RecordedAt = time.Unix(0, at).UTC()
	if first != 0 {
		d.FirstTry = time.Unix(0, first).UTC()
	}
	if next != 0 {
		d.NextAt = time.Unix(0, next).UTC()
	}
	if done != 0 {
		d.DeliveredAt = time.Unix(0, done).UTC()
	}
	return d, nil
}

// NextPending returns the oldest pending delivery of subscription sub:
// deliveries of one subscription go out one at a time, in ledger order,
// so a receiver sees each registration's events in order.
func (o *Outbox) NextPending(ctx context.Context, sub string) (OutboxDelivery, bool, error) {
	db, err := o.database()
	if err != nil {
		return OutboxDelivery{}, false, err
	}
	d, err := scanDelivery(db.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM outbox_deliveries
		WHERE sub = ? AND status = 'pending' ORDER BY pos LIMIT 1`, sub))
	if errors.Is(err, sql.ErrNoRows) {
		return OutboxDelivery{}, false, nil
	}
	return d, err == nil, err
}

// NextDue returns the oldest pending delivery of subscription sub that
// is due at now.
func (o *Outbox) NextDue(ctx context.Context, sub string, now time.Time) (OutboxDelivery, bool, error) {
	db, err := o.database()
	if err != nil {
		return OutboxDelivery{}, false, err
	}
	d, err := scanDelivery(db.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM outbox_deliveries
		WHERE sub = ? AND status = 'pending' AND next_at <= ? ORDER BY pos LIMIT 1`, sub, now.UnixNano()))
	if errors.Is(err, sql.ErrNoRows) {
		return OutboxDelivery{}, false, nil
	}
	return d, err == nil, err
}

// PendingChannels returns the channels whose ID starts with prefix that
// have a pending delivery, in order.
func (o *Outbox) PendingChannels(ctx context.Context, prefix string) ([]string, error) {
	db, err := o.database()
	if err != nil {
		return nil, err
	}
	// A range on the (sub, status, pos) index, not a scan.
	end := prefix[:len(prefix)-1] + string(prefix[len(prefix)-1]+1)
	rows, err := db.QueryContext(ctx, `SELECT DISTINCT sub FROM outbox_deliveries
		WHERE sub >= ? AND sub < ? AND status = 'pending' ORDER BY sub`, prefix, end)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var sub string
		if err := rows.Scan(&sub); err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// Delivery returns delivery id of subscription sub.
func (o *Outbox) Delivery(ctx context.Context, sub, id string) (OutboxDelivery, bool, error) {
	db, err := o.database()
	if err != nil {
		return OutboxDelivery{}, false, err
	}
	d, err := scanDelivery(db.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM outbox_deliveries WHERE sub = ? AND id = ?`, sub, id))
	if errors.Is(err, sql.ErrNoRows) {
		return OutboxDelivery{}, false, nil
	}
	return d, err == nil, err
}

// Deliveries returns up to limit deliveries of subscription sub in ledger
// order from position from, of one status ("" for all).
func (o *Outbox) Deliveries(ctx context.Context, sub, status string, from uint64, limit int) ([]OutboxDelivery, error) {
	db, err := o.database()
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM outbox_deliveries
		WHERE sub = ? AND (? = '' OR status = ?) AND pos >= ? ORDER BY pos LIMIT ?`, sub, status, status, from, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []OutboxDelivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Attempts returns the delivery log of delivery id.
func (o *Outbox) Attempts(ctx context.Context, id string) ([]OutboxAttempt, error) {
	db, err := o.database()
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT delivery, n, at, code, latency_us, error FROM outbox_attempts WHERE delivery = ? ORDER BY n`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []OutboxAttempt{}
	for rows.Next() {
		var a OutboxAttempt
		var at, us int64
		if err := rows.Scan(&a.Delivery, &a.N, &at, &a.StatusCode, &us, &a.Error); err != nil {
			return nil, err
		}
		a.At, a.Latency = time.Unix(0, at).UTC(), time.Duration(us)*time.Microsecond
		a.LatencyMS = float64(us) / 1000
		out = append(out, a)
	}
	return out, rows.Err()
}

// AttemptOutcome is what the dispatcher learnt from one attempt.
type AttemptOutcome struct {
	Attempt OutboxAttempt
	// Delivered: a 2xx. Otherwise RetryAt is when to try again, unless
	// Dead, when the delivery ran out of retries and the subscription
	// becomes failing.
	Delivered bool
	Dead      bool
	RetryAt   time.Time
}

// Record stores one attempt of delivery d and its outcome, in one
// transaction.
func (o *Outbox) Record(ctx context.Context, d OutboxDelivery, out AttemptOutcome) error {
	db, err := o.database()
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	a := out.Attempt
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO outbox_attempts (delivery, n, at, code, latency_us, error) VALUES (?, ?, ?, ?, ?, ?)`,
		d.ID, a.N, a.At.UnixNano(), a.StatusCode, a.Latency.Microseconds(), a.Error); err != nil {
		return err
	}
	first := d.FirstTry
	if first.IsZero() {
		first = a.At
	}
	status, next, done := DeliveryPending, out.RetryAt.UnixNano(), int64(0)
	switch {
	case out.Delivered:
		status, next, done = DeliveryDelivered, 0, a.At.UnixNano()
	case out.Dead:
		status, next = DeliveryDead, 0
	}
	if _, err := tx.ExecContext(ctx, `UPDATE outbox_deliveries SET status = ?, attempts = ?, first_try = ?, next_at = ?, last_code = ?, last_error = ?, done_at = ?
		WHERE id = ?`, status, a.N, first.UnixNano(), next, a.StatusCode, a.Error, done, d.ID); err != nil {
		return err
	}
	if out.Dead {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO outbox_failing (sub, since) VALUES (?, ?)`, d.Subscription, a.At.UnixNano()); err != nil {
			return err
		}
	}
	return tx.Commit()
}
