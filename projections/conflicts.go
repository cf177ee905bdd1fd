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

// ConflictView is a conflict case as of the projection's checkpoint: its
// parties, what each submitted, the escalations and the decision.
type ConflictView struct {
	ID       uuid.UUID           `json:"id"`
	Kind     domain.ConflictKind `json:"kind"`
	Status   string              `json:"status"`
	Level    int                 `json:"level"`
	DueAt    time.Time           `json:"due_at"`
	Overdue  bool                `json:"overdue,omitempty"` // set by readers who know the time
	Account  domain.Account      `json:"account"`
	Value    domain.Money        `json:"value,omitzero"`
	Parties  []domain.Party      `json:"parties"`
	Requests []EvidenceRequest   `json:"evidence_requests"`
	Evidence []EvidenceEntry     `json:"evidence"`
	// Attestations are the customer attestations requested on the case
	// and their answers, for the decider (never shown to a partner).
	Attestations []AttestationEntry `json:"attestations,omitempty"`
	// Recommendation is the policy default (partner-first for partner vs
	// direct, first-to-register otherwise), for the decider.
	Recommendation *Recommendation         `json:"recommendation,omitempty"`
	Decision       *domain.ConflictDecided `json:"decision,omitempty"`
	OpenedAt       time.Time               `json:"opened_at"`
	UpdatedAt      time.Time               `json:"updated_at"`
	Position       uint64                  `json:"position"`
	History        []HistoryEntry          `json:"history,omitempty"`
}

// Recommendation is the party the policy's default rule favours.
type Recommendation struct {
	Winner string `json:"winner"`
	Clause string `json:"clause"`
}

// EvidenceRequest is a reviewer's request to one party.
type EvidenceRequest struct {
	PartyKey    string    `json:"party_key"`
	Request     string    `json:"request"`
	RequestedAt time.Time `json:"requested_at"`
}

// EvidenceEntry is evidence one party submitted.
type EvidenceEntry struct {
	PartyKey    string          `json:"party_key"`
	Evidence    domain.Evidence `json:"evidence"`
	SubmittedAt time.Time       `json:"submitted_at"`
}

// AttestationEntry is one customer attestation of a case: the request and,
// once the prospect's contact answered, the partner it named ("" for none
// of them) and the solution.
type AttestationEntry struct {
	ID          uuid.UUID `json:"attestation_id"`
	Contact     string    `json:"contact_email"`
	RequestedBy string    `json:"requested_by"`
	RequestedAt time.Time `json:"requested_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	Answered    bool      `json:"answered"`
	PartyKey    string    `json:"party_key,omitempty"`
	Solution    string    `json:"solution,omitempty"`
	AnsweredAt  time.Time `json:"answered_at,omitzero"`
}

type conflictState struct {
	agg  *domain.Conflict
	view ConflictView
}

// Conflicts is the projection of conflict cases: the desk's queue and each
// case's record. It is safe for concurrent use.
type Conflicts struct {
	tracker
	byID  map[uuid.UUID]*conflictState
	order []*conflictState
	rows  *rowSet
	// ledger is where a case's aggregate is folded again from after
	// Load, which restores only the views.
	ledger domain.EventStore
}

var _ Handler = (*Conflicts)(nil)

// NewConflicts returns an empty projection at checkpoint 0. ledger (which
// may be nil for a projection never loaded from a state database) is read
// to fold a restored case's aggregate again when its next event arrives.
func NewConflicts(ledger domain.EventStore) *Conflicts {
	return &Conflicts{tracker: newTracker(), byID: make(map[uuid.UUID]*conflictState), rows: newRowSet("conflicts"), ledger: ledger}
}

// Load implements Handler.
func (p *Conflicts) Load(ctx context.Context, db *sql.DB) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rows.reset()
	clear(p.byID)
	p.order = p.order[:0]
	err := LoadRows(ctx, db, p.rows.view, func(_ string, body []byte) error {
		st := &conflictState{}
		if err := json.Unmarshal(body, &st.view); err != nil {
			return err
		}
		p.byID[st.view.ID] = st
		p.order = append(p.order, st)
		return nil
	})
	if err != nil {
		return fmt.Errorf("conflicts: %w", err)
	}
	slices.SortFunc(p.order, func(a, b *conflictState) int { return cmp.Compare(a.view.Position, b.view.Position) })
	return nil
}

// ApplyBatch implements Handler.
func (p *Conflicts) ApplyBatch(_ *Batch, rec domain.RecordedEvent) error { return p.Apply(rec) }

// Flush implements Handler.
func (p *Conflicts) Flush() (Write, error) {
	return p.rows.flush(p.mu.RLocker())
}

// Committed implements Handler.
func (p *Conflicts) Committed(next uint64) {
	p.mu.Lock()
	p.next = next
	p.mu.Unlock()
}

// restore folds the aggregate of a case restored by Load from its stream,
// up to the event before rec.
func (p *Conflicts) restore(st *conflictState, rec domain.RecordedEvent) error {
	st.agg = &domain.Conflict{}
	if p.ledger == nil || rec.Revision == 0 {
		return nil
	}
	recs, err := p.ledger.ReadStream(context.Background(), rec.Stream, domain.ReadStreamOptions{Count: int(rec.Revision)})
	if err != nil {
		return badEvent(rec, "cannot fold the case again: "+err.Error())
	}
	for _, r := range recs {
		ev, err := domain.DecodeEvent(r.Type, r.SchemaVersion, r.Data)
		if err != nil {
			return badEvent(r, err.Error())
		}
		if err := st.agg.Apply(ev); err != nil {
			return badEvent(r, err.Error())
		}
	}
	return nil
}

// Apply folds one recorded event; see Registrations.Apply.
func (p *Conflicts) Apply(rec domain.RecordedEvent) error {
	rest, ok := strings.CutPrefix(rec.Stream, "conflict-")
	var ev domain.Event
	var id uuid.UUID
	if ok {
		var err error
		if id, err = uuid.Parse(rest); err != nil {
			return badEvent(rec, "the stream name holds no conflict ID")
		}
		if ev, err = decodeEvent(nil, rec); err != nil {
			return err
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if rec.Position < p.next {
		return nil
	}
	if ev != nil {
		st, known := p.byID[id]
		if !known {
			st = &conflictState{agg: &domain.Conflict{}, view: ConflictView{Requests: []EvidenceRequest{}, Evidence: []EvidenceEntry{}}}
		}
		if st.agg == nil {
			if err := p.restore(st, rec); err != nil {
				return err
			}
		}
		if rec.Revision != uint64(st.agg.Version()) {
			return badEvent(rec, "unexpected stream revision")
		}
		if err := st.agg.Apply(ev); err != nil {
			return badEvent(rec, err.Error())
		}
		st.observe(rec, ev)
		if !known {
			st.view.Position, st.view.OpenedAt = rec.Position, rec.RecordedAt
			p.byID[id] = st
			p.order = append(p.order, st)
		}
		st.build(rec.RecordedAt)
		p.rows.mark(id.String(), func() any { return &st.view })
		if st.view.Decision != nil && p.ledger != nil {
			// A decided case rarely changes again: keep its view, and
			// fold its aggregate again from the ledger if it does.
			st.agg = nil
		}
	}
	p.advance(rec.Position)
	return nil
}

// observe keeps what the aggregate does not: requests and evidence. The
// history is the case's stream, read from the ledger by Get.
func (st *conflictState) observe(rec domain.RecordedEvent, ev domain.Event) {
	switch e := ev.(type) {
	case domain.ConflictEvidenceRequested:
		st.view.Requests = append(st.view.Requests, EvidenceRequest{PartyKey: e.PartyKey, Request: e.Request, RequestedAt: rec.RecordedAt})
	case domain.ConflictEvidenceSubmitted:
		st.view.Evidence = append(st.view.Evidence, EvidenceEntry{PartyKey: e.PartyKey, Evidence: e.Evidence, SubmittedAt: rec.RecordedAt})
	case domain.ConflictAttestationRequested:
		st.view.Attestations = append(st.view.Attestations, AttestationEntry{
			ID: e.AttestationID, Contact: e.Personal.Email, RequestedBy: e.RequestedBy, RequestedAt: rec.RecordedAt, ExpiresAt: e.ExpiresAt,
		})
	case domain.ConflictAttested:
		for i := range st.view.Attestations {
			if a := &st.view.Attestations[i]; a.ID == e.AttestationID {
				a.Answered, a.PartyKey, a.Solution, a.AnsweredAt = true, e.PartyKey, e.Solution, rec.RecordedAt
			}
		}
	}
}

// history reads case id's events below the checkpoint from the ledger.
func (p *Conflicts) history(id uuid.UUID, next uint64) []HistoryEntry {
	if p.ledger == nil {
		return nil
	}
	recs, err := p.ledger.ReadStream(context.Background(), domain.ConflictStream(id), domain.ReadStreamOptions{})
	if err != nil {
		return nil
	}
	out := make([]HistoryEntry, 0, len(recs))
	for _, rec := range recs {
		if rec.Position >= next {
			break
		}
		md, _ := ParseMetadata(rec.Metadata)
		out = append(out, HistoryEntry{
			EventID: rec.ID, Position: rec.Position, Revision: rec.Revision, Type: rec.Type, RecordedAt: rec.RecordedAt,
			ActorID: md.ActorID, ActorName: md.ActorName, Role: md.Role, Summary: rec.Type, Data: rec.Data,
		})
	}
	return out
}

// build refreshes the view from the aggregate.
func (st *conflictState) build(at time.Time) {
	a := st.agg
	v := &st.view
	v.ID, v.Kind, v.Status, v.Level, v.DueAt = a.ID(), a.Kind(), string(a.Status()), a.Level(), a.DueAt()
	v.Account, v.Value, v.Parties, v.UpdatedAt = a.Account(), a.Value(), a.Parties(), at
	v.Recommendation = nil
	if w, clause, ok := a.Recommendation(); ok {
		v.Recommendation = &Recommendation{Winner: w, Clause: clause}
	}
	v.Decision = nil
	if d, ok := a.Decision(); ok {
		v.Decision = &d
	}
}

func (v ConflictView) clone() ConflictView {
	v.Parties = slices.Clone(v.Parties)
	v.Requests = slices.Clone(v.Requests)
	v.Evidence = slices.Clone(v.Evidence)
	v.History = slices.Clone(v.History)
	if v.Decision != nil {
		d := *v.Decision
		v.Decision = &d
	}
	return v
}

// Get returns conflict id.
func (p *Conflicts) Get(id uuid.UUID) (ConflictView, bool) {
	p.mu.RLock()
	st, ok := p.byID[id]
	if !ok {
		p.mu.RUnlock()
		return ConflictView{}, false
	}
	v, next := st.view.clone(), p.next
	p.mu.RUnlock()
	v.History = p.history(id, next)
	return v, true
}

// Parties returns the parties of conflict id as of the events applied,
// without its history: for a handler after this one in the follower's
// order, which sees the case as it stands after the same event.
func (p *Conflicts) Parties(id uuid.UUID) ([]domain.Party, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	st, ok := p.byID[id]
	if !ok {
		return nil, false
	}
	return slices.Clone(st.view.Parties), true
}

// QueueFilter selects conflicts for Queue. Zero fields match everything.
type QueueFilter struct {
	Level     int    // only this level
	Status    string // "open" or "decided"
	PartnerID string // only conflicts where this partner is a party
}

// Queue returns the conflicts matching f: open ones by SLA due time
// (soonest first), then decided ones by opening order.
func (p *Conflicts) Queue(f QueueFilter) []ConflictView {
	p.mu.RLock()
	var out []ConflictView
	for _, st := range p.order {
		v := &st.view
		if (f.Level != 0 && v.Level != f.Level) || (f.Status != "" && v.Status != f.Status) {
			continue
		}
		if f.PartnerID != "" && !slices.ContainsFunc(v.Parties, func(pt domain.Party) bool { return pt.PartnerID == f.PartnerID }) {
			continue
		}
		out = append(out, v.clone())
	}
	p.mu.RUnlock()
	slices.SortStableFunc(out, func(a, b ConflictView) int {
		ao, bo := a.Status == "open", b.Status == "open"
		switch {
		case ao && !bo:
			return -1
		case bo && !ao:
			return 1
		case ao:
			return a.DueAt.Compare(b.DueAt)
		}
		return cmp.Compare(a.Position, b.Position)
	})
	if out == nil {
		out = []ConflictView{}
	}
	return out
}
