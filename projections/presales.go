package projections

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	json "github.com/goccy/go-json"
	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
)

// Presales is the projection of the presales desk: the presales stream
// folded into a domain.PresalesBook, which answers each resource's load and
// each registration's assignments. It keeps the stream's events as rows of
// the state database and folds them again at Load, like Policies. It is
// safe for concurrent use.
type Presales struct {
	tracker
	book *domain.PresalesBook
	rows *rowSet
}

var _ Handler = (*Presales)(nil)

// NewPresales returns the projection of a ledger without presales events.
func NewPresales() *Presales {
	b, _ := domain.RebuildPresales()
	return &Presales{tracker: newTracker(), book: b, rows: newRowSet("presales")}
}

// Load implements Handler.
func (p *Presales) Load(ctx context.Context, db *sql.DB) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rows.reset()
	p.book, _ = domain.RebuildPresales()
	err := LoadRows(ctx, db, p.rows.view, func(_ string, body []byte) error {
		var s storedPolicyEvent
		if err := json.Unmarshal(body, &s); err != nil {
			return err
		}
		ev, err := domain.DecodeEvent(s.Type, s.Version, s.Data)
		if err != nil {
			return err
		}
		return p.book.Apply(ev)
	})
	if err != nil {
		return fmt.Errorf("presales: %w", err)
	}
	return nil
}

// ApplyBatch implements Handler.
func (p *Presales) ApplyBatch(b *Batch, rec domain.RecordedEvent) error {
	if rec.Stream != domain.PresalesStream {
		p.mu.Lock()
		if rec.Position >= p.next {
			p.advance(rec.Position)
		}
		p.mu.Unlock()
		return nil
	}
	ev, err := decodeEvent(b, rec)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if rec.Position < p.next {
		return nil
	}
	if err := p.book.Apply(ev); err != nil {
		return badEvent(rec, err.Error())
	}
	stored := storedPolicyEvent{Type: rec.Type, Version: rec.SchemaVersion, Data: json.RawMessage(slices.Clone(rec.Data))}
	p.rows.mark(fmt.Sprintf("e:%012d", rec.Revision), func() any { return stored })
	p.advance(rec.Position)
	return nil
}

// Flush implements Handler.
func (p *Presales) Flush() (Write, error) { return p.rows.flush(p.mu.RLocker()) }

// Committed implements Handler.
func (p *Presales) Committed(next uint64) {
	p.mu.Lock()
	p.next = next
	p.mu.Unlock()
}

// PresalesResourceView is a resource with its load.
type PresalesResourceView struct {
	domain.PresalesResource
	// LoadHours are the hours of its current assignments, FreeHours what
	// remains of its capacity.
	LoadHours   int                         `json:"load_hours"`
	FreeHours   int                         `json:"free_hours"`
	Assignments []domain.PresalesAssignment `json:"assignments"`
}

func (p *Presales) view(r domain.PresalesResource) PresalesResourceView {
	load := p.book.Load(r.ID)
	return PresalesResourceView{PresalesResource: r, LoadHours: load, FreeHours: max(r.CapacityHours-load, 0), Assignments: p.book.Assignments(r.ID, uuid.Nil)}
}

// Resources returns every resource with its load, in the order added.
func (p *Presales) Resources() []PresalesResourceView {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := []PresalesResourceView{}
	for _, r := range p.book.Resources() {
		out = append(out, p.view(r))
	}
	return out
}

// Resource returns resource id with its load.
func (p *Presales) Resource(id string) (PresalesResourceView, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	r, ok := p.book.Resource(id)
	if !ok {
		return PresalesResourceView{}, false
	}
	return p.view(r), true
}

// Assignments returns the current assignments to registration id.
func (p *Presales) Assignments(id uuid.UUID) []domain.PresalesAssignment {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.book.Assignments("", id)
}
