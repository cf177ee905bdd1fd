package app

import (
	"context"
	"math"
	"time"

	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// mayReadAnalytics checks that caller may read program analytics and
// narrows f to what it may see: vendor staff and auditors see the whole
// program; a partner only its own figures, and another partner's look
// exactly like those of a partner that does not exist (none). Direct
// sales read no partner figures.
func mayReadAnalytics(caller Caller, f *projections.AnalyticsFilter) error {
	if err := caller.Actor.Validate(); err != nil {
		return err
	}
	switch caller.Actor.Role {
	case domain.RoleDirectSales:
		return domain.Errorf(domain.EFORBIDDEN, "direct sales may not read program analytics")
	case domain.RolePartner:
		if f.PartnerID != "" && f.PartnerID != caller.Actor.PartnerID {
			f.PartnerID = "\x00" // matches nothing
		} else {
			f.PartnerID = caller.Actor.PartnerID
		}
	}
	return nil
}

// AnalyticsAt narrows f to moment m (the zero Moment: now): the figures as
// the ledger stood then, just after the event at m.Through, or after the
// last event recorded at or before m.Time.
func (s *Service) AnalyticsAt(ctx context.Context, f *projections.AnalyticsFilter, m projections.Moment) error {
	if m.IsNow() {
		return nil
	}
	before, _, err := s.Bound(ctx, m)
	if err != nil {
		return err
	}
	f.Before = before
	return nil
}

// Bound turns moment m (not now) into the first global position after it
// (every event below it is in the ledger at m; at least 1, since position 0
// is never a registration's or a case's event) and the time it names: m.Time,
// or the recorded time of the event at m.Through (the ledger's head time when
// m.Through is past the head).
func (s *Service) Bound(ctx context.Context, m projections.Moment) (uint64, time.Time, error) {
	before := uint64(math.MaxUint64)
	if m.ByPosition {
		before = m.Through + 1
	}
	if !m.Time.IsZero() {
		// Recorded time never decreases along the ledger: the first
		// event after m.Time is found by binary search.
		head, err := s.head(ctx)
		if err != nil {
			return 0, time.Time{}, err
		}
		lo, hi := uint64(0), head
		for lo < hi {
			mid := lo + (hi-lo)/2
			recs, err := s.store.ReadAll(ctx, domain.ReadAllOptions{From: mid, Count: 1})
			if err != nil {
				return 0, time.Time{}, err
			}
			if len(recs) == 0 || recs[0].RecordedAt.After(m.Time) {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		before = min(before, lo)
	}
	if before == 0 {
		before = 1 // nothing counts: position 0 is never a registration's or a case's event
	}
	at := m.Time
	if m.ByPosition {
		recs, err := s.store.ReadAll(ctx, domain.ReadAllOptions{From: m.Through, Count: 1})
		if err != nil {
			return 0, time.Time{}, err
		}
		if len(recs) == 0 || recs[0].Position != m.Through {
			last, err := s.store.ReadAll(ctx, domain.ReadAllOptions{Direction: domain.Backwards, FromEnd: true, Count: 1})
			if err != nil {
				return 0, time.Time{}, err
			}
			recs = last
		}
		if len(recs) > 0 && (at.IsZero() || recs[0].RecordedAt.Before(at)) {
			at = recs[0].RecordedAt
		}
	}
	return before, at, nil
}

// RegistrationAnalytics returns the registration metrics of the period
// (see projections.Analytics.Registrations).
func (s *Service) RegistrationAnalytics(caller Caller, f projections.AnalyticsFilter, groupBy []string) (projections.RegistrationAnalytics, error) {
	if err := mayReadAnalytics(caller, &f); err != nil {
		return projections.RegistrationAnalytics{}, err
	}
	return s.Analytics.Registrations(f, groupBy)
}

// ConflictAnalytics returns conflict frequency and time to resolution.
func (s *Service) ConflictAnalytics(caller Caller, f projections.AnalyticsFilter) (projections.ConflictAnalytics, error) {
	if err := mayReadAnalytics(caller, &f); err != nil {
		return projections.ConflictAnalytics{}, err
	}
	return s.Analytics.Conflicts(f), nil
}

// Consistency returns the decision-consistency report; a partner sees the
// cases it was a party to.
func (s *Service) Consistency(caller Caller, f projections.AnalyticsFilter) (projections.Consistency, error) {
	if err := mayReadAnalytics(caller, &f); err != nil {
		return projections.Consistency{}, err
	}
	return s.Analytics.Consistency(f)
}

// TopPartners returns the volume trend of the top partners; a partner
// sees only its own.
func (s *Service) TopPartners(caller Caller, f projections.AnalyticsFilter, limit int, bucket string) ([]projections.PartnerTrend, error) {
	if err := mayReadAnalytics(caller, &f); err != nil {
		return nil, err
	}
	return s.Analytics.TopPartners(f, limit, bucket)
}

// Ratings lists the satisfaction ratings recorded in the period.
func (s *Service) Ratings(caller Caller, f projections.AnalyticsFilter) ([]projections.Rating, error) {
	if err := mayReadAnalytics(caller, &f); err != nil {
		return nil, err
	}
	return s.Analytics.Ratings(f)
}

// RateRegistration records the registering partner's rating of decided
// registration id: a score from 1 to 5 and an optional comment, once.
func (s *Service) RateRegistration(ctx context.Context, call Call, id uuid.UUID, score int, comment string) (Result, error) {
	return s.execute(ctx, call, domain.RatingStream(id), func(stored []domain.Event) ([]domain.Event, error) {
		reg, err := s.loadRegistration(ctx, id)
		if err != nil {
			return nil, err
		}
		return domain.RateRegistration(call.Actor, reg, len(stored) > 0, score, comment, s.clock.Now())
	})
}
