package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

	gojson "github.com/goccy/go-json"
	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/notify"
)

// registrationOwners answers which partner a registration stream belongs
// to: the partner of its first event (RegistrationDrafted, which never
// changes), learnt as the event goes by or read from the ledger once per
// registration. The outbox and the inbox each keep one.
type registrationOwners struct {
	store domain.EventStore
	mu    sync.Mutex
	m     map[uuid.UUID]string
}

func newRegistrationOwners(store domain.EventStore) *registrationOwners {
	return &registrationOwners{store: store, m: map[uuid.UUID]string{}}
}

// learn remembers the owner a registration's first event names.
func (o *registrationOwners) learn(id uuid.UUID, partner string) {
	o.mu.Lock()
	o.m[id] = partner
	o.mu.Unlock()
}

// of returns the partner of registration stream stream, "" for any other
// stream.
func (o *registrationOwners) of(ctx context.Context, stream string) string {
	id, err := uuid.Parse(strings.TrimPrefix(stream, registrationPrefix))
	if err != nil || !strings.HasPrefix(stream, registrationPrefix) {
		return ""
	}
	o.mu.Lock()
	p, ok := o.m[id]
	o.mu.Unlock()
	if ok {
		return p
	}
	recs, err := o.store.ReadStream(ctx, stream, domain.ReadStreamOptions{Count: 1})
	if err != nil || len(recs) == 0 {
		return ""
	}
	var d domain.RegistrationDrafted
	if recs[0].Type != d.EventType() || gojson.Unmarshal(recs[0].Data, &d) != nil {
		return ""
	}
	o.learn(id, d.PartnerID)
	return d.PartnerID
}

// AllPartners is the inbox key of a notice every partner is told of.
const AllPartners = "*"

// Inbox indexes the portal inbox's notices: for every event that
// notify.Classify makes a notice for a partner's users (of one of its
// registrations, or a policy publication every partner is told of), the
// partner and the event's ledger position. It answers how many notices
// of a partner came after a position — a user's unread count — with one
// read of its index, without reading the streams.
type Inbox struct {
	tracker
	owners  *registrationOwners
	pending []inboxNotice
	db      *sql.DB
	dbMu    sync.Mutex
}

var _ Handler = (*Inbox)(nil)

type inboxNotice struct {
	partner string
	pos     uint64
}

const inboxSchema = `CREATE TABLE IF NOT EXISTS inbox_notices (
	partner TEXT NOT NULL,
	pos     INTEGER NOT NULL,
	PRIMARY KEY (partner, pos)
) WITHOUT ROWID;`

// NewInbox returns an empty inbox index; store answers which partner a
// registration belongs to.
func NewInbox(store domain.EventStore) *Inbox {
	return &Inbox{tracker: newTracker(), owners: newRegistrationOwners(store)}
}

// Load implements Handler.
func (x *Inbox) Load(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, inboxSchema); err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	x.mu.Lock()
	x.pending = nil
	x.mu.Unlock()
	x.dbMu.Lock()
	x.db = db
	x.dbMu.Unlock()
	return nil
}

// ApplyBatch implements Handler. Only registration streams and the policy
// stream are decoded.
func (x *Inbox) ApplyBatch(b *Batch, rec domain.RecordedEvent) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if rec.Position < x.next {
		return nil
	}
	defer x.advance(rec.Position)
	if rec.Stream != domain.PolicyStream && !strings.HasPrefix(rec.Stream, registrationPrefix) {
		return nil
	}
	ev, err := b.Decode(rec)
	if err != nil {
		return nil // an event this binary does not know tells no one anything
	}
	if d, ok := ev.(domain.RegistrationDrafted); ok {
		x.owners.learn(d.RegistrationID, d.PartnerID)
	}
	n, ok := notify.Classify(ev)
	switch {
	case !ok:
	case n.AllPartners:
		x.pending = append(x.pending, inboxNotice{AllPartners, rec.Position})
	case n.Stream == rec.Stream:
		if owner := x.owners.of(b.Context(), rec.Stream); owner != "" {
			x.pending = append(x.pending, inboxNotice{owner, rec.Position})
		}
	}
	return nil
}

// Flush implements Handler.
func (x *Inbox) Flush() (Write, error) {
	x.mu.Lock()
	pending := x.pending
	x.pending = nil
	x.mu.Unlock()
	if len(pending) == 0 {
		return nil, nil
	}
	return func(ctx context.Context, tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO inbox_notices (partner, pos) VALUES (?, ?)`)
		if err != nil {
			return fmt.Errorf("inbox: %w", err)
		}
		defer st.Close()
		for _, n := range pending {
			if _, err := st.ExecContext(ctx, n.partner, n.pos); err != nil {
				return fmt.Errorf("inbox: %w", err)
			}
		}
		return nil
	}, nil
}

// Committed implements Handler.
func (x *Inbox) Committed(next uint64) {
	x.mu.Lock()
	x.next = next
	x.mu.Unlock()
}

// Unread returns how many notices of partner came after position after,
// counting no further than limit.
func (x *Inbox) Unread(ctx context.Context, partner string, after uint64, limit int) (int, error) {
	x.dbMu.Lock()
	db := x.db
	x.dbMu.Unlock()
	if db == nil {
		return 0, errors.New("inbox: not loaded")
	}
	// Two bounded range reads of the primary key.
	var n int
	err := db.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM (SELECT 1 FROM inbox_notices WHERE partner = ? AND pos > ? LIMIT ?)) +
		(SELECT count(*) FROM (SELECT 1 FROM inbox_notices WHERE partner = ? AND pos > ? LIMIT ?))`,
		partner, after, limit, AllPartners, after, limit).Scan(&n)
	return min(n, limit), err
}

// Latest returns the positions of partner's newest notices (its own and
// those every partner is told of), newest first, at most limit.
func (x *Inbox) Latest(ctx context.Context, partner string, limit int) ([]uint64, error) {
	x.dbMu.Lock()
	db := x.db
	x.dbMu.Unlock()
	if db == nil {
		return nil, errors.New("inbox: not loaded")
	}
	// Two bounded range reads of the primary key, newest first.
	rows, err := db.QueryContext(ctx, `SELECT pos FROM (SELECT pos FROM inbox_notices WHERE partner = ? ORDER BY pos DESC LIMIT ?)
		UNION ALL SELECT pos FROM (SELECT pos FROM inbox_notices WHERE partner = ? ORDER BY pos DESC LIMIT ?)
		ORDER BY pos DESC LIMIT ?`, partner, limit, AllPartners, limit, limit)
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	defer rows.Close()
	var out []uint64
	for rows.Next() {
		var p int64
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("inbox: %w", err)
		}
		out = append(out, uint64(p))
	}
	return out, rows.Err()
}
