package projections

import (
	"cmp"
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

// RegistrationFact is what program analytics keeps of one registration:
// who submitted it, where and at which tier, and the position and recorded
// time of each event a metric counts (0 and the zero time: not happened).
// Positions make every figure traceable to the ledger.
type RegistrationFact struct {
	ID        uuid.UUID `json:"id"`
	PartnerID string    `json:"partner_id"`
	// Region and Country are the account's, as last submitted.
	Region  string `json:"region,omitempty"`
	Country string `json:"country,omitempty"`
	// Tier is the partner's tier when the registration was first
	// submitted: a later promotion does not move its history.
	Tier string `json:"tier,omitempty"`
	// What the decision was made on, as of the last submission: the
	// type, the verdict, whether it carried proof, and the value.
	Type     string       `json:"type,omitempty"`
	Verdict  string       `json:"verdict,omitempty"`
	HasProof bool         `json:"has_proof,omitempty"`
	Value    domain.Money `json:"value,omitzero"`
	// Rule is what decided it first: "auto_approval", "reviewer",
	// "conflict", "duplicate_check"; Reason a rejection's reason.
	Rule   string `json:"rule,omitempty"`
	Reason string `json:"reason,omitempty"`

	SubmittedPos uint64    `json:"submitted_pos,omitempty"` // first submission
	SubmittedAt  time.Time `json:"submitted_at,omitzero"`
	// The first decision: approval (by a reviewer, automatic, or by a
	// conflict won), rejection (by a reviewer, or a conflict lost) or a
	// duplicate verdict.
	DecidedPos uint64    `json:"decided_pos,omitempty"`
	DecidedAt  time.Time `json:"decided_at,omitzero"`
	Outcome    string    `json:"outcome,omitempty"` // approved, rejected, duplicate
	// ApprovedPos is the first approval; Auto says it was automatic.
	ApprovedPos   uint64       `json:"approved_pos,omitempty"`
	ApprovedAt    time.Time    `json:"approved_at,omitzero"`
	Auto          bool         `json:"auto,omitempty"`
	autoPending   bool         // a RegistrationAutoApproved awaits its approval
	ProtectionEnd time.Time    `json:"protection_end,omitzero"` // as extended or renewed
	ExpiredPos    uint64       `json:"expired_pos,omitempty"`
	ExpiredAt     time.Time    `json:"expired_at,omitzero"`
	WonPos        uint64       `json:"won_pos,omitempty"`
	WonAt         time.Time    `json:"won_at,omitzero"`
	WonValue      domain.Money `json:"won_value,omitzero"`
	// WonProtected says the close was recorded while protection ran:
	// after the approval, before any expiry or revocation, at or before
	// the protection end.
	WonProtected bool   `json:"won_protected,omitempty"`
	EndedPos     uint64 `json:"ended_pos,omitempty"` // expiry or revocation: protection ended
	ConflictPos  uint64 `json:"conflict_pos,omitempty"`
	// The partner's rating of the process.
	RatedPos uint64    `json:"rated_pos,omitempty"`
	RatedAt  time.Time `json:"rated_at,omitzero"`
	Score    int       `json:"score,omitempty"`
	Comment  string    `json:"comment,omitempty"`

	pos     uint64 // of RegistrationDrafted: the row's key
	lastPos uint64 // of the latest event that changed the fact
}

// ConflictParty is what analytics keeps of one claimant of a conflict.
type ConflictParty struct {
	Key           string    `json:"key"`
	Kind          string    `json:"kind"`
	PartnerID     string    `json:"partner_id,omitempty"`
	Tier          string    `json:"tier,omitempty"`
	ClaimPosition uint64    `json:"claim_position"`
	FirstContact  time.Time `json:"first_contact,omitzero"`
	HasProof      bool      `json:"has_proof"`
}

// ConflictFact is what program analytics keeps of one conflict case.
type ConflictFact struct {
	ID        uuid.UUID       `json:"id"`
	Kind      string          `json:"kind"`
	Region    string          `json:"region,omitempty"`
	Parties   []ConflictParty `json:"parties"`
	OpenedPos uint64          `json:"opened_pos"`
	OpenedAt  time.Time       `json:"opened_at"`
	Level     int             `json:"level"` // now, or when decided
	// OpenedLevel is the level it opened at (escalations move it by one).
	OpenedLevel int `json:"opened_level"`
	// EscalatedPos are the positions of the escalations.
	EscalatedPos []uint64  `json:"escalated_pos,omitempty"`
	DecidedPos   uint64    `json:"decided_pos,omitempty"`
	DecidedAt    time.Time `json:"decided_at,omitzero"`
	Outcome      string    `json:"outcome,omitempty"`
	Winner       string    `json:"winner,omitempty"`
	Clause       string    `json:"clause,omitempty"`
	DecidedBy    string    `json:"decided_by,omitempty"`
	Overrode     bool      `json:"overrode,omitempty"`
}

// Analytics is the projection behind program analytics (docs/analytics.md):
// one fact per registration and per conflict, folded from the ledger, and
// the partners' tiers as they stand, so that a registration keeps the tier
// of its submission. The registrations' facts live in the state database
// (analytics_store.go), with the cohorts' sums a query reads instead of
// them; memory holds only a bounded cache of the facts being folded, the
// conflicts' facts and the tiers. Queries (analytics_query.go) aggregate
// over any period what the last commit holds; every figure can name the
// positions it counts. It is safe for concurrent use.
type Analytics struct {
	tracker
	// MaxCached bounds the facts kept between batches: past it, those
	// whose changes are committed are evicted, the longest untouched
	// first, down to half. An event for an evicted fact reads it back.
	MaxCached int
	db        *sql.DB // the state database, from Load; nil: nothing is evicted
	regs      map[uuid.UUID]*RegistrationFact
	// changed are the facts changed since the last flush, with their
	// contribution to a cohort before.
	changed   map[uuid.UUID]*factChange
	conflicts map[uuid.UUID]*ConflictFact
	tiers     map[string]string
	rows      *rowSet
	// strs interns the cached facts' repeated strings (partner IDs,
	// regions, countries, tiers, types, verdicts, currencies). Bounded by
	// the distinct values, never by the registrations.
	strs map[string]string
	err  error // a fact that could not be read back: the batch fails
}

var _ Handler = (*Analytics)(nil)

// NewAnalytics returns an empty projection at checkpoint 0.
func NewAnalytics() *Analytics {
	return &Analytics{tracker: newTracker(), MaxCached: 20_000, regs: map[uuid.UUID]*RegistrationFact{}, changed: map[uuid.UUID]*factChange{},
		conflicts: map[uuid.UUID]*ConflictFact{}, tiers: map[string]string{}, rows: newRowSet("analytics"), strs: map[string]string{}}
}

// intern returns the one copy of s the facts share.
func (p *Analytics) intern(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := p.strs[s]; ok {
		return v
	}
	p.strs[s] = s
	return s
}

// internFact makes f's repeated strings the shared copies.
func (p *Analytics) internFact(f *RegistrationFact) {
	for _, s := range []*string{&f.PartnerID, &f.Region, &f.Country, &f.Tier, &f.Type, &f.Verdict, &f.Rule, &f.Reason,
		&f.Outcome, &f.Value.Currency, &f.WonValue.Currency} {
		*s = p.intern(*s)
	}
}

// The keys of the analytics rows: a prefix, then the ID.
const (
	analyticsConflict = "c:"
	analyticsTier     = "t:"
)

// Load implements Handler: the conflicts' facts and the tiers; the
// registrations' facts stay in db, read when an event needs one.
func (p *Analytics) Load(ctx context.Context, db *sql.DB) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.db, p.err = db, nil
	p.rows.reset()
	clear(p.regs)
	clear(p.changed)
	clear(p.conflicts)
	clear(p.tiers)
	clear(p.strs)
	err := LoadRows(ctx, db, p.rows.view, func(key string, body []byte) error {
		switch {
		case strings.HasPrefix(key, analyticsConflict):
			f := &ConflictFact{}
			if err := json.Unmarshal(body, f); err != nil {
				return err
			}
			p.conflicts[f.ID] = f
		case strings.HasPrefix(key, analyticsTier):
			var tier string
			if err := json.Unmarshal(body, &tier); err != nil {
				return err
			}
			p.tiers[key[len(analyticsTier):]] = tier
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("analytics: %w", err)
	}
	return nil
}

// ApplyBatch implements Handler.
func (p *Analytics) ApplyBatch(b *Batch, rec domain.RecordedEvent) error { return p.apply(b, rec) }

// Apply folds one recorded event outside a follower (as-of replays, tests).
func (p *Analytics) Apply(rec domain.RecordedEvent) error { return p.apply(nil, rec) }

// Flush implements Handler: the changed facts' rows, the changes of
// their cohorts, and the conflicts' and tiers' rows.
func (p *Analytics) Flush() (Write, error) {
	rows, err := p.rows.flush(p.mu.RLocker())
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return nil, p.err
	}
	if len(p.changed) == 0 {
		return rows, nil
	}
	w := &analyticsWrite{rows: rows, cohorts: map[cohortKey]cohort{}, facts: make([]any, 0, len(p.changed)*factColumnCount)}
	change := func(k cohortKey, c cohort, sign int) {
		d := w.cohorts[k]
		d.add(c, sign)
		w.cohorts[k] = d
	}
	ids := make([]*factChange, 0, len(p.changed))
	for _, c := range p.changed {
		ids = append(ids, c)
	}
	// In key order: the table grows at its end.
	slices.SortFunc(ids, func(a, b *factChange) int { return cmp.Compare(a.f.pos, b.f.pos) })
	for _, c := range ids {
		w.facts = factArgs(w.facts, c.f)
		if c.had {
			for _, k := range c.key.spans(time.Unix(c.key.start, 0)) {
				change(k, c.contrib, -1)
			}
		}
		if k, now, ok := c.f.contribution(); ok {
			for _, k := range k.spans(c.f.SubmittedAt) {
				change(k, now, 1)
			}
		}
	}
	clear(p.changed)
	return w.write, nil
}

// Committed implements Handler. Past MaxCached, the facts whose every
// change is committed are evicted: they are read back from the state
// database when an event needs them.
func (p *Analytics) Committed(next uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next = next
	if p.db == nil || len(p.regs) <= p.MaxCached {
		return
	}
	var clean []*RegistrationFact
	for id, f := range p.regs {
		if _, ok := p.changed[id]; !ok && f.lastPos < next {
			clean = append(clean, f)
		}
	}
	slices.SortFunc(clean, func(a, b *RegistrationFact) int { return cmp.Compare(a.lastPos, b.lastPos) })
	for _, f := range clean {
		if len(p.regs) <= p.MaxCached/2 {
			break
		}
		delete(p.regs, f.ID)
	}
}

// analyticsStreams are the stream prefixes whose events analytics folds.
var analyticsStreams = []string{"registration-", "conflict-", "rating-", "partner-"}

func (p *Analytics) apply(b *Batch, rec domain.RecordedEvent) error {
	var ev domain.Event
	for _, prefix := range analyticsStreams {
		if strings.HasPrefix(rec.Stream, prefix) {
			var err error
			if ev, err = decodeEvent(b, rec); err != nil {
				return err
			}
			break
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if rec.Position < p.next {
		return nil
	}
	if ev != nil {
		p.fold(rec, ev)
		if id, ok := registrationOf(ev); ok {
			if f := p.regs[id]; f != nil {
				p.internFact(f)
			}
		}
	}
	p.advance(rec.Position)
	if p.err != nil {
		return p.err
	}
	return nil
}

// reg returns registration id's fact, marking it changed by the event at
// pos; nil if the registration was never drafted. An evicted fact is read
// back from the state database.
func (p *Analytics) reg(id uuid.UUID, pos uint64) *RegistrationFact {
	f := p.regs[id]
	if f == nil && p.db != nil && p.err == nil {
		var err error
		if f, err = loadFact(p.db, id); err != nil {
			p.err = fmt.Errorf("analytics: read the fact of %s: %w", id, err)
			return nil
		}
		if f != nil {
			p.internFact(f)
			p.regs[id] = f
		}
	}
	if f == nil {
		return nil
	}
	p.touch(f, pos)
	return f
}

// touch marks f changed by the event at pos, keeping what it contributed
// before the first change since the last flush.
func (p *Analytics) touch(f *RegistrationFact, pos uint64) {
	f.lastPos = pos
	if _, ok := p.changed[f.ID]; ok {
		return
	}
	c := &factChange{f: f}
	c.key, c.contrib, c.had = f.contribution()
	p.changed[f.ID] = c
}

func (p *Analytics) fold(rec domain.RecordedEvent, ev domain.Event) {
	at, pos := rec.RecordedAt, rec.Position
	switch e := ev.(type) {
	case domain.PartnerAdded:
		p.setTier(e.ID, string(e.Tier))
	case domain.PartnerUpdated:
		p.setTier(e.ID, string(e.Tier))
	case domain.RegistrationDrafted:
		f := &RegistrationFact{ID: e.RegistrationID, PartnerID: e.PartnerID, Region: e.Details.Account.Region, Country: e.Details.Account.Country, pos: pos}
		p.regs[e.RegistrationID] = f
		p.changed[f.ID] = &factChange{f: f} // a new row: it contributed nothing
		f.lastPos = pos
	case domain.RegistrationSubmitted:
		if f := p.reg(e.RegistrationID, pos); f != nil {
			f.Region, f.Country = e.Details.Account.Region, e.Details.Account.Country
			f.Type, f.HasProof, f.Value = string(e.Type), len(e.Details.Proof) > 0, e.Details.Opportunity.EstimatedValue
			if f.SubmittedPos == 0 {
				f.SubmittedPos, f.SubmittedAt, f.Tier = pos, at, p.tiers[f.PartnerID]
			}
		}
	case domain.RegistrationVerdictRecorded:
		if f := p.reg(e.RegistrationID, pos); f != nil {
			f.Verdict = string(e.Verdict)
			if e.Verdict == domain.VerdictDuplicate {
				f.decide(pos, at, "duplicate", "duplicate_check")
			}
		}
	case domain.RegistrationAutoApproved:
		if f := p.reg(e.RegistrationID, pos); f != nil && f.ApprovedPos == 0 {
			f.autoPending, f.Auto = true, true
		}
	case domain.RegistrationApproved:
		if f := p.reg(e.RegistrationID, pos); f != nil {
			f.approve(pos, at, e.Terms.ProtectionEnd, "reviewer")
		}
	case domain.RegistrationRejected:
		if f := p.reg(e.RegistrationID, pos); f != nil {
			if f.DecidedPos == 0 {
				f.Reason = string(e.Reason)
			}
			f.decide(pos, at, "rejected", "reviewer")
		}
	case domain.RegistrationConflictDecided:
		if f := p.reg(e.RegistrationID, pos); f != nil {
			switch {
			case e.Result == domain.ConflictLost:
				f.decide(pos, at, "rejected", "conflict")
			case e.Terms != nil:
				f.approve(pos, at, e.Terms.ProtectionEnd, "conflict")
			}
		}
	case domain.RegistrationExtensionGranted:
		if f := p.reg(e.RegistrationID, pos); f != nil {
			f.ProtectionEnd = e.NewEnd
		}
	case domain.RegistrationRenewed:
		if f := p.reg(e.RegistrationID, pos); f != nil {
			f.ProtectionEnd = e.Terms.ProtectionEnd
		}
	case domain.RegistrationExpired:
		if f := p.reg(e.RegistrationID, pos); f != nil && f.ExpiredPos == 0 {
			f.ExpiredPos, f.ExpiredAt = pos, at
			if f.EndedPos == 0 {
				f.EndedPos = pos
			}
		}
	case domain.RegistrationRevoked:
		if f := p.reg(e.RegistrationID, pos); f != nil && f.EndedPos == 0 {
			f.EndedPos = pos
		}
	case domain.RegistrationClosedWon:
		if f := p.reg(e.RegistrationID, pos); f != nil && f.WonPos == 0 {
			f.WonPos, f.WonAt, f.WonValue = pos, at, e.FinalValue
			f.WonProtected = f.ApprovedPos != 0 && f.EndedPos == 0 && !at.After(f.ProtectionEnd)
		}
	case domain.RegistrationRated:
		if f := p.reg(e.RegistrationID, pos); f != nil && f.RatedPos == 0 {
			f.RatedPos, f.RatedAt, f.Score, f.Comment = pos, at, e.Score, e.Comment
		}
	case domain.ConflictOpened:
		c := &ConflictFact{ID: e.ConflictID, Kind: string(e.Kind), Region: e.Account.Region, OpenedPos: pos, OpenedAt: at, Level: e.Level, OpenedLevel: e.Level}
		for _, pt := range e.Parties {
			c.Parties = append(c.Parties, ConflictParty{Key: pt.Key, Kind: string(pt.Kind), PartnerID: pt.PartnerID, Tier: string(pt.Tier),
				ClaimPosition: pt.ClaimPosition, FirstContact: pt.FirstContact, HasProof: pt.HasProof})
			if pt.RegistrationID != uuid.Nil {
				if f := p.reg(pt.RegistrationID, pos); f != nil && f.ConflictPos == 0 {
					f.ConflictPos = pos
				}
			}
		}
		p.conflicts[c.ID] = c
		p.markConflict(c)
	case domain.ConflictEscalated:
		if c := p.conflicts[e.ConflictID]; c != nil {
			c.Level = e.ToLevel
			c.EscalatedPos = append(c.EscalatedPos, pos)
			p.markConflict(c)
		}
	case domain.ConflictDecided:
		if c := p.conflicts[e.ConflictID]; c != nil && c.DecidedPos == 0 {
			c.DecidedPos, c.DecidedAt, c.Level = pos, at, e.Level
			c.Outcome, c.Winner, c.Clause, c.DecidedBy, c.Overrode = string(e.Outcome), e.Winner, e.PolicyClause, e.DecidedBy, e.Overrode
			p.markConflict(c)
		}
	}
}

func (p *Analytics) setTier(partner, tier string) {
	p.tiers[partner] = tier
	p.rows.mark(analyticsTier+partner, func() any { return tier })
}

func (p *Analytics) markConflict(c *ConflictFact) {
	p.rows.mark(analyticsConflict+c.ID.String(), func() any { return c })
}

// decide records the first decision and the rule that took it.
func (f *RegistrationFact) decide(pos uint64, at time.Time, outcome, rule string) {
	if f.DecidedPos == 0 {
		f.DecidedPos, f.DecidedAt, f.Outcome, f.Rule = pos, at, outcome, rule
	}
}

// approve records an approval (the first one counts) and the protection
// end it granted.
func (f *RegistrationFact) approve(pos uint64, at time.Time, end time.Time, rule string) {
	f.ProtectionEnd = end
	if f.ApprovedPos != 0 {
		return
	}
	f.ApprovedPos, f.ApprovedAt = pos, at
	f.Auto = f.autoPending
	f.autoPending = false
	if f.Auto {
		rule = "auto_approval"
	}
	f.decide(pos, at, "approved", rule)
}

// registrationOf names the registration whose fact ev may change.
func registrationOf(ev domain.Event) (uuid.UUID, bool) {
	switch e := ev.(type) {
	case domain.RegistrationEvent:
		return e.AggregateID(), true
	case domain.RegistrationRated:
		return e.RegistrationID, true
	}
	return uuid.Nil, false
}
