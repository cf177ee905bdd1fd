package projections

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
)

// PolicyLookup returns the policy of a version and whether it is known.
type PolicyLookup func(version int) (domain.Policy, bool)

// DefaultPolicies knows only domain.DefaultPolicy, version 1, the only
// policy dealreg has so far.
func DefaultPolicies(version int) (domain.Policy, bool) {
	p := domain.DefaultPolicy()
	return p, version == p.Version
}

// Registrations is the registration pipeline projection: one
// RegistrationView and one audit history per registration, as of
// Checkpoint. It is safe for concurrent use; Apply is normally called by
// one goroutine (see Run) while any number of readers query it.
type Registrations struct {
	policies PolicyLookup

	tracker
	byID map[uuid.UUID]*registration
	// ordered holds the registrations by creation position. Events arrive
	// in global order, so appending keeps it sorted.
	ordered []*registration
}

// NewRegistrations returns an empty projection at checkpoint 0. policies
// resolves the policy version recorded at submission, for review
// deadlines; nil means DefaultPolicies.
func NewRegistrations(policies PolicyLookup) *Registrations {
	if policies == nil {
		policies = DefaultPolicies
	}
	return &Registrations{
		policies: policies,
		tracker:  newTracker(),
		byID:     make(map[uuid.UUID]*registration),
	}
}

// registrationPrefix is how domain.RegistrationStream names streams.
var registrationPrefix = strings.TrimSuffix(domain.RegistrationStream(uuid.Nil), uuid.Nil.String())

// Apply folds one recorded event into the projection. Events must come in
// global order. An event below the checkpoint was applied before and is
// ignored. Events of other streams only move the checkpoint. An event of a
// registration stream that cannot be decoded (malformed, or a type or
// schema version unknown to domain.DecodeEvent) or does not fit its
// registration (a revision gap, a wrong ID, an event before
// RegistrationDrafted) is an EINTERNAL error and leaves the projection
// unchanged, checkpoint included.
func (p *Registrations) Apply(rec domain.RecordedEvent) error {
	ev, id, err := decodeRegistrationEvent(rec)
	if err != nil {
		return err
	}
	// Decoding happens before taking the lock so readers wait only for the
	// fold itself.
	p.mu.Lock()
	defer p.mu.Unlock()
	if rec.Position < p.next {
		return nil
	}
	if ev != nil {
		if err := p.fold(rec, id, ev); err != nil {
			return err
		}
	}
	p.advance(rec.Position)
	return nil
}

// decodeRegistrationEvent returns the registration event in rec and its
// registration ID, or a nil event for an event of another stream. Streams
// are told apart by name, before decoding, so that events of other
// aggregates are skipped whether or not this binary knows their types.
func decodeRegistrationEvent(rec domain.RecordedEvent) (domain.Event, uuid.UUID, error) {
	suffix, ok := strings.CutPrefix(rec.Stream, registrationPrefix)
	if !ok {
		return nil, uuid.Nil, nil
	}
	ev, err := domain.DecodeEvent(rec.Type, rec.SchemaVersion, rec.Data)
	if errors.Is(err, domain.ErrUnknownEvent) {
		// Skipping it would fold the registration over a hole (the next
		// event would fail the revision check anyway), and the aggregate
		// could not replay this stream either: the ledger is newer than
		// this binary.
		return nil, uuid.Nil, badEvent(rec, "this version of dealreg does not know the event; upgrade it")
	}
	if err != nil {
		return nil, uuid.Nil, badEvent(rec, err.Error())
	}
	if _, ok := ev.(domain.RegistrationEvent); !ok {
		return nil, uuid.Nil, badEvent(rec, "not a registration event")
	}
	id, err := uuid.Parse(suffix)
	if err != nil {
		return nil, uuid.Nil, badEvent(rec, "the stream name holds no registration ID")
	}
	return ev, id, nil
}

func badEvent(rec domain.RecordedEvent, why string) error {
	return domain.Errorf(domain.EINTERNAL, "project event %d (%s in %s revision %d): %s",
		rec.Position, rec.Type, rec.Stream, rec.Revision, why)
}

// fold applies a registration event; p.mu is held.
func (p *Registrations) fold(rec domain.RecordedEvent, id uuid.UUID, ev domain.Event) error {
	if got := ev.(domain.RegistrationEvent).AggregateID(); got != id {
		return badEvent(rec, fmt.Sprintf("the event names registration %s", got))
	}
	r, known := p.byID[id]
	if !known {
		r = &registration{agg: &domain.Registration{}}
	}
	// The stream revision must be the next one, or the aggregate would be
	// folded over a gap and the view would silently be wrong.
	if rec.Revision != uint64(r.agg.Version()) {
		return badEvent(rec, fmt.Sprintf("expected stream revision %d", r.agg.Version()))
	}
	if err := r.agg.Apply(ev); err != nil {
		return badEvent(rec, err.Error())
	}
	r.observe(rec, ev)
	r.view = r.buildView(rec.RecordedAt)
	r.history = append(r.history, historyEntry(rec, ev))
	if !known {
		p.byID[id] = r
		p.ordered = append(p.ordered, r)
	}
	return nil
}

func historyEntry(rec domain.RecordedEvent, ev domain.Event) HistoryEntry {
	summary, actor := describe(ev)
	// Malformed metadata must not stop the projection: the event is a fact
	// either way, only its description is poorer.
	md, _ := ParseMetadata(rec.Metadata)
	if md.ActorID != "" {
		actor = md.ActorID
	}
	return HistoryEntry{
		EventID:    rec.ID,
		Position:   rec.Position,
		Revision:   rec.Revision,
		Type:       rec.Type,
		RecordedAt: rec.RecordedAt,
		ActorID:    actor,
		ActorName:  md.ActorName,
		Role:       md.Role,
		Summary:    summary,
		Data:       slices.Clone(rec.Data),
	}
}

// Get returns the view of registration id and whether it exists.
func (p *Registrations) Get(id uuid.UUID) (RegistrationView, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	r, ok := p.byID[id]
	if !ok {
		return RegistrationView{}, false
	}
	return r.view.clone(), true
}

// Detail returns everything known about registration id and whether it
// exists.
func (p *Registrations) Detail(id uuid.UUID) (RegistrationDetail, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	r, ok := p.byID[id]
	if !ok {
		return RegistrationDetail{}, false
	}
	d := RegistrationDetail{
		RegistrationView: r.view.clone(),
		Details:          r.agg.Details(),
		Attachments:      r.agg.Attachments(),
	}
	if d.Attachments == nil {
		d.Attachments = []domain.Attachment{}
	}
	if r.finding != nil {
		f := *r.finding
		f.Matches = slices.Clone(f.Matches)
		f.GrantConflicts = slices.Clone(f.GrantConflicts)
		d.Finding = &f
	}
	return d, true
}

// WaitUntil blocks until registration id exists and ok holds for its view,
// then returns the view; or until ctx is done (ctx's error). The submit
// call uses it to wait for the duplicate check's verdict.
func (p *Registrations) WaitUntil(ctx context.Context, id uuid.UUID, ok func(RegistrationView) bool) (RegistrationView, error) {
	for {
		p.mu.RLock()
		r, known := p.byID[id]
		var v RegistrationView
		if known {
			v = r.view
		}
		applied := p.applied
		p.mu.RUnlock()
		if known && ok(v) {
			return v.clone(), nil
		}
		select {
		case <-applied:
		case <-ctx.Done():
			return RegistrationView{}, ctx.Err()
		}
	}
}

// History returns every event of registration id in order, or nil if it
// does not exist.
func (p *Registrations) History(id uuid.UUID) []HistoryEntry {
	p.mu.RLock()
	defer p.mu.RUnlock()
	r, ok := p.byID[id]
	if !ok {
		return nil
	}
	return slices.Clone(r.history)
}
