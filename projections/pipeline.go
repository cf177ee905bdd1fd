package projections

import (
	"errors"
	"strings"
	"time"

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
}

var _ Projection = (*Pipeline)(nil)

// NewPipeline returns an empty pipeline at checkpoint 0.
func NewPipeline() *Pipeline {
	return &Pipeline{tracker: newTracker(), byID: make(map[uuid.UUID]*DirectView)}
}

// Apply folds one recorded event; see Registrations.Apply.
func (p *Pipeline) Apply(rec domain.RecordedEvent) error {
	var ev domain.Event
	if strings.HasPrefix(rec.Stream, "direct-") {
		var err error
		ev, err = domain.DecodeEvent(rec.Type, rec.SchemaVersion, rec.Data)
		if errors.Is(err, domain.ErrUnknownEvent) {
			return badEvent(rec, "this version of dealreg does not know the event; upgrade it")
		}
		if err != nil {
			return badEvent(rec, err.Error())
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
	case domain.DirectOpportunityUpdated:
		if v, ok := p.byID[e.OpportunityID]; ok {
			v.DirectOpportunity, v.UpdatedAt = e.Opportunity, rec.RecordedAt
		}
	case domain.DirectOpportunityClosed:
		if v, ok := p.byID[e.OpportunityID]; ok {
			v.Status, v.UpdatedAt = e.Outcome, rec.RecordedAt
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
