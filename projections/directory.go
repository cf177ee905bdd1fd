package projections

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	json "github.com/goccy/go-json"
	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
)

// PartnerView is a partner as the directory knows it.
type PartnerView struct {
	domain.Partner
	Grants  []GrantView `json:"grants"`
	AddedAt time.Time   `json:"added_at"`
	// Standing holds the partner's certifications and trainings, its
	// suspensions, termination and violations (see directory_program.go).
	Standing domain.PartnerStanding `json:"standing"`
}

// GrantView is a territory grant with its ID.
type GrantView struct {
	ID uuid.UUID `json:"id"`
	domain.TerritoryGrant
	GrantedAt time.Time `json:"granted_at"`
	// TermDecision is what the end of a contract grant's term decided:
	// renewed (as the grant it names) or lapsed, with the figures.
	TermDecision *domain.GrantTermDecided `json:"term_decision,omitempty"`
	// Revoked is the grant's revocation, if it was ended early: it covers
	// nothing from Revoked.At on (ValidTo stays the term it was given).
	Revoked *domain.TerritoryGrantRevoked `json:"revoked,omitempty"`
}

// ActiveAt reports whether the grant covers anything at t: within its
// term and not revoked by then.
func (g GrantView) ActiveAt(t time.Time) bool {
	end := g.ValidTo
	if g.Revoked != nil {
		end = g.TerritoryGrant.Revoked(g.Revoked.At).ValidTo
	}
	return !t.Before(g.ValidFrom) && t.Before(end)
}

// TokenView is an API token without its secret.
type TokenView struct {
	ID        uuid.UUID   `json:"id"`
	Name      string      `json:"name"`
	Role      domain.Role `json:"role"`
	PartnerID string      `json:"partner_id,omitempty"`
	IssuedAt  time.Time   `json:"issued_at"`
	Revoked   bool        `json:"revoked"`
	// Review is the reviewer's group and approval limit, if assigned.
	Review *domain.ReviewerAssignment `json:"review,omitempty"`
	hash   string
}

// IdempotentRequest is the first request made with an idempotency key: its
// fingerprint and the stream and position of the events it appended.
type IdempotentRequest struct {
	RequestHash string
	Stream      string
	Position    uint64
}

// Directory is the projection of who is who: partners and their territory
// grants, API tokens (by the SHA-256 of their secret) and the idempotency
// keys used by each caller. It is safe for concurrent use.
type Directory struct {
	tracker
	partners map[string]*PartnerView
	order    []string // partner IDs in the order they were added
	tokens   map[uuid.UUID]*TokenView
	byHash   map[string]*TokenView
	keys     map[string]IdempotentRequest
	rows     *rowSet
}

var _ Handler = (*Directory)(nil)

// NewDirectory returns an empty directory at checkpoint 0.
func NewDirectory() *Directory {
	return &Directory{
		tracker:  newTracker(),
		partners: make(map[string]*PartnerView),
		tokens:   make(map[uuid.UUID]*TokenView),
		byHash:   make(map[string]*TokenView),
		keys:     make(map[string]IdempotentRequest),
		rows:     newRowSet("directory"),
	}
}

// Rows of the directory: "p:<id>" a partner, "t:<id>" a token, "k:<actor>\x00<key>"
// an idempotency key.
type storedPartner struct {
	Seq  int         `json:"seq"`
	View PartnerView `json:"view"`
}

type storedToken struct {
	View TokenView `json:"view"`
	Hash string    `json:"hash"`
}

// Load implements Handler.
func (d *Directory) Load(ctx context.Context, db *sql.DB) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rows.reset()
	clear(d.partners)
	clear(d.tokens)
	clear(d.byHash)
	clear(d.keys)
	d.order = d.order[:0]
	var partners []storedPartner
	err := LoadRows(ctx, db, d.rows.view, func(key string, body []byte) error {
		switch key[:2] {
		case "p:":
			var p storedPartner
			if err := json.Unmarshal(body, &p); err != nil {
				return err
			}
			partners = append(partners, p)
		case "t:":
			var t storedToken
			if err := json.Unmarshal(body, &t); err != nil {
				return err
			}
			tv := t.View
			tv.hash = t.Hash
			d.tokens[tv.ID] = &tv
			if !tv.Revoked {
				d.byHash[tv.hash] = &tv
			}
		case "k:":
			var r IdempotentRequest
			if err := json.Unmarshal(body, &r); err != nil {
				return err
			}
			d.keys[key[2:]] = r
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("directory: %w", err)
	}
	slices.SortFunc(partners, func(a, b storedPartner) int { return a.Seq - b.Seq })
	for _, p := range partners {
		v := p.View
		d.partners[v.ID] = &v
		d.order = append(d.order, v.ID)
	}
	return nil
}

// ApplyBatch implements Handler.
func (d *Directory) ApplyBatch(_ *Batch, rec domain.RecordedEvent) error { return d.Apply(rec) }

// Flush implements Handler.
func (d *Directory) Flush() (Write, error) {
	return d.rows.flush(d.mu.RLocker())
}

// Committed implements Handler.
func (d *Directory) Committed(next uint64) {
	d.mu.Lock()
	d.next = next
	d.mu.Unlock()
}

func (d *Directory) markPartner(id string) {
	seq := slices.Index(d.order, id)
	d.rows.mark("p:"+id, func() any { return storedPartner{Seq: seq, View: *d.partners[id]} })
}

func (d *Directory) markToken(t *TokenView) {
	d.rows.mark("t:"+t.ID.String(), func() any { return storedToken{View: *t, Hash: t.hash} })
}

func idempotencyKey(actorID, key string) string { return actorID + "\x00" + key }

// Apply folds one recorded event into the directory; see
// Registrations.Apply for the ordering rules. Events of streams it does not
// follow only move the checkpoint, except that the idempotency keys in the
// metadata of every event are recorded.
func (d *Directory) Apply(rec domain.RecordedEvent) error {
	var ev domain.Event
	if strings.HasPrefix(rec.Stream, "partner-") || strings.HasPrefix(rec.Stream, "token-") || followsStanding(rec) {
		var err error
		if ev, err = decodeEvent(nil, rec); err != nil {
			return err
		}
	}
	md, _ := ParseMetadata(rec.Metadata)
	d.mu.Lock()
	defer d.mu.Unlock()
	if rec.Position < d.next {
		return nil
	}
	if md.IdempotencyKey != "" && md.ActorID != "" {
		k := idempotencyKey(md.ActorID, md.IdempotencyKey)
		if _, seen := d.keys[k]; !seen {
			r := IdempotentRequest{RequestHash: md.RequestHash, Stream: rec.Stream, Position: rec.Position}
			d.keys[k] = r
			d.rows.mark("k:"+k, func() any { return r })
		}
	}
	switch e := ev.(type) {
	case domain.PartnerAdded:
		if _, ok := d.partners[e.ID]; !ok {
			d.order = append(d.order, e.ID)
		}
		d.partners[e.ID] = &PartnerView{Partner: e.Partner, Grants: []GrantView{}, AddedAt: rec.RecordedAt, Standing: newStanding()}
		d.markPartner(e.ID)
	case domain.PartnerUpdated:
		if p, ok := d.partners[e.ID]; ok {
			p.Partner = e.Partner
			d.markPartner(e.ID)
		}
	case domain.TerritoryGranted:
		if p, ok := d.partners[e.Grant.PartnerID]; ok {
			p.Grants = append(p.Grants, GrantView{ID: e.GrantID, TerritoryGrant: e.Grant, GrantedAt: rec.RecordedAt})
			d.markPartner(e.Grant.PartnerID)
		}
	case domain.PartnerCredentialRecorded, domain.PartnerSuspended, domain.PartnerReinstated,
		domain.PartnerTerminated, domain.RegistrationViolationRecorded:
		d.applyStanding(e)
	case domain.TerritoryGrantRevoked:
		if p, ok := d.partners[e.PartnerID]; ok {
			for i := range p.Grants {
				if p.Grants[i].ID == e.GrantID {
					p.Grants[i].Revoked = &e
				}
			}
			d.markPartner(e.PartnerID)
		}
	case domain.GrantTermDecided:
		if p, ok := d.partners[e.PartnerID]; ok {
			for i := range p.Grants {
				if p.Grants[i].ID == e.GrantID {
					p.Grants[i].TermDecision = &e
				}
			}
			d.markPartner(e.PartnerID)
		}
	case domain.TokenIssued:
		t := &TokenView{ID: e.TokenID, Name: e.Name, Role: e.Role, PartnerID: e.PartnerID, IssuedAt: rec.RecordedAt, hash: e.SecretSHA256}
		d.tokens[e.TokenID] = t
		d.byHash[e.SecretSHA256] = t
		d.markToken(t)
	case domain.ReviewerAssigned:
		if t, ok := d.tokens[e.TokenID]; ok {
			a := e.Assignment
			t.Review = &a
			d.markToken(t)
		}
	case domain.TokenRevoked:
		if t, ok := d.tokens[e.TokenID]; ok {
			t.Revoked = true
			delete(d.byHash, t.hash)
			d.markToken(t)
		}
	}
	d.advance(rec.Position)
	return nil
}

// TokenBySecretHash returns the live (not revoked) token whose secret has
// this SHA-256 (lower-case hex).
func (d *Directory) TokenBySecretHash(hash string) (TokenView, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	t, ok := d.byHash[hash]
	if !ok {
		return TokenView{}, false
	}
	return *t, true
}

// Token returns token id, revoked or not.
func (d *Directory) Token(id uuid.UUID) (TokenView, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	t, ok := d.tokens[id]
	if !ok {
		return TokenView{}, false
	}
	return *t, true
}

// Partner returns partner id and whether it exists.
func (d *Directory) Partner(id string) (PartnerView, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	p, ok := d.partners[id]
	if !ok {
		return PartnerView{}, false
	}
	return clonePartner(p), true
}

// Partners returns every partner in the order they were added.
func (d *Directory) Partners() []PartnerView {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]PartnerView, 0, len(d.order))
	for _, id := range d.order {
		out = append(out, clonePartner(d.partners[id]))
	}
	return out
}

func clonePartner(p *PartnerView) PartnerView {
	c := *p
	c.Regions = slices.Clone(p.Regions)
	c.Verticals = slices.Clone(p.Verticals)
	c.Grants = slices.Clone(p.Grants)
	c.Standing = p.Standing.Clone()
	return c
}

// IdempotentRequest returns the first request actorID made with key.
func (d *Directory) IdempotentRequest(actorID, key string) (IdempotentRequest, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	r, ok := d.keys[idempotencyKey(actorID, key)]
	return r, ok
}
