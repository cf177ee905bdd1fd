package projections

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
)

// Moment is a past point of the ledger: every event up to and including
// global position Through (when ByPosition), and recorded at or before
// Time (when set). The zero Moment is now.
type Moment struct {
	Through    uint64
	ByPosition bool
	Time       time.Time
}

// IsNow reports whether m names no past moment.
func (m Moment) IsNow() bool { return !m.ByPosition && m.Time.IsZero() }

// Holds reports whether rec was in the ledger at moment m.
func (m Moment) Holds(rec domain.RecordedEvent) bool {
	if m.ByPosition && rec.Position > m.Through {
		return false
	}
	if !m.Time.IsZero() && rec.RecordedAt.After(m.Time) {
		return false
	}
	return true
}

// DetailAt returns registration id as it stood at moment m, with its
// history up to then, folded again from its stream through the same
// aggregate as the live view: exactly the view the projection showed at
// that moment. It reports false when the registration did not exist yet
// (or does not exist at all).
func (p *Registrations) DetailAt(ctx context.Context, id uuid.UUID, m Moment) (RegistrationDetail, []HistoryEntry, bool, error) {
	if p.ledger == nil {
		return RegistrationDetail{}, nil, false, errors.New("registration as of: no ledger")
	}
	recs, err := p.ledger.ReadStream(ctx, domain.RegistrationStream(id), domain.ReadStreamOptions{})
	if errors.Is(err, domain.ErrStreamNotFound) {
		return RegistrationDetail{}, nil, false, nil
	}
	if err != nil {
		return RegistrationDetail{}, nil, false, fmt.Errorf("registration as of: %w", err)
	}
	r := &registration{agg: &domain.Registration{}}
	var history []HistoryEntry
	for _, rec := range recs {
		if !m.Holds(rec) {
			break // a stream is in global order: the rest is later too
		}
		ev, _, err := decodeRegistrationEvent(nil, rec)
		if err != nil {
			return RegistrationDetail{}, nil, false, err
		}
		if err := r.apply(rec, ev); err != nil {
			return RegistrationDetail{}, nil, false, err
		}
		history = append(history, historyEntry(rec, ev))
	}
	if len(history) == 0 {
		return RegistrationDetail{}, nil, false, nil
	}
	sd := r.detail()
	return RegistrationDetail{RegistrationView: r.buildView(r.updatedAt), Details: sd.Details, Attachments: sd.Attachments, Finding: sd.Finding}, history, true, nil
}

// Describe decodes any stored event into an audit-trail entry: who, when,
// what (a one-line summary for registration events, the event type for
// others) and the stored JSON.
func Describe(rec domain.RecordedEvent) (HistoryEntry, error) {
	ev, err := domain.DecodeEvent(rec.Type, rec.SchemaVersion, rec.Data)
	if err != nil {
		return HistoryEntry{}, fmt.Errorf("event %d (%s): %w", rec.Position, rec.Type, err)
	}
	return historyEntry(rec, ev), nil
}
