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

// DirectView is a direct-sales opportunity as of the projection's
// checkpoint.
type DirectView struct {
	ID uuid.UUID `json:"id"`
	domain.DirectOpportunity
	Status     domain.DirectStatus `json:"status"`
	Position   uint64              `json:"position"`
	RecordedAt time.Time           `json:"recorded_at"`
	UpdatedAt  time.Time           `json:"updated_at"`
}

// Pipeline is the projection of the direct-sales pipeline. It is safe for
// concurrent use.
type Pipeline struct {
	tracker
	byID  map[uuid.UUID]*DirectView
	order []uuid.UUID
	rows  *rowSet
}

var _ Handler = (*Pipeline)(nil)

// NewPipeline returns an empty pipeline at checkpoint 0.
func NewPipeline() *Pipeline {
	return &Pipeline{tracker: newTracker(), byID: make(map[uuid.UUID]*DirectView), rows: newRowSet("pipeline")}
}

// Load implements Handler.
func (p *Pipeline) Load(ctx context.Context, db *sql.DB) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rows.reset()
	clear(p.byID)
	p.order = p.order[:0]
	var all []*DirectView
	err := LoadRows(ctx, db, p.rows.view, func(_ string, body []byte) error {
		var v DirectView
		if err := json.Unmarshal(body, &v); err != nil {
			return err
		}
		all = append(all, &v)
		return nil
	})
	if err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	slices.SortFunc(all, func(a, b *DirectView) int { return cmp.Compare(a.Position, b.Position) })
	for _, v := range all {
		p.byID[v.ID] = v
		p.order = append(p.order, v.ID)
	}
	return nil
}

// ApplyBatch implements Handler.
func (p *Pipeline) ApplyBatch(_ *Batch, rec domain.RecordedEvent) error { return p.Apply(rec) }

// Flush implements Handler.
func (p *Pipeline) Flush() (Write, error) {
	return p.rows.flush(p.mu.RLocker())
}

// Committed implements Handler.
func (p *Pipeline) Committed(next uint64) {
	p.mu.Lock()
	p.next = next
	p.mu.Unlock()
}

func (p *Pipeline) mark(v *DirectView) {
	p.rows.mark(v.ID.String(), func() any { return v })
}

// Apply folds one recorded event; see Registrations.Apply.
func (p *Pipeline) Apply(rec domain.RecordedEvent) error {
	var ev domain.Event
	if strings.HasPrefix(rec.Stream, "direct-") {
		var err error
		if ev, err = decodeEvent(nil, rec); err != nil {
			return err
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if rec.Position < p.next {
		return nil
	}
	switch e := ev.(type) {
	case domain.DirectOpportunityRecorded:
		p.byID[e.OpportunityID] = &DirectView{ID: e.OpportunityID, DirectOpportunity: e.Opportunity, Status: domain.DirectOpen,
			Position: rec.Position, RecordedAt: rec.RecordedAt, UpdatedAt: rec.RecordedAt}
		p.order = append(p.order, e.OpportunityID)
		p.mark(p.byID[e.OpportunityID])
	case domain.DirectOpportunityUpdated:
		if v, ok := p.byID[e.OpportunityID]; ok {
			v.DirectOpportunity, v.UpdatedAt = e.Opportunity, rec.RecordedAt
			p.mark(v)
		}
	case domain.DirectOpportunityClosed:
		if v, ok := p.byID[e.OpportunityID]; ok {
			v.Status, v.UpdatedAt = e.Outcome, rec.RecordedAt
			p.mark(v)
		}
	}
	p.advance(rec.Position)
	return nil
}

// Get returns direct opportunity id.
func (p *Pipeline) Get(id uuid.UUID) (DirectView, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	v, ok := p.byID[id]
	if !ok {
		return DirectView{}, false
	}
	return cloneDirect(v), true
}

// List returns the direct opportunities, oldest first; open only when
// openOnly.
func (p *Pipeline) List(openOnly bool) []DirectView {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]DirectView, 0, len(p.order))
	for _, id := range p.order {
		v := p.byID[id]
		if openOnly && v.Status != domain.DirectOpen {
			continue
		}
		out = append(out, cloneDirect(v))
	}
	return out
}

func cloneDirect(v *DirectView) DirectView {
	c := *v
	c.ProductLines = append([]string(nil), v.ProductLines...)
	return c
}
