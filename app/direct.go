package app

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
)

// directID returns the ID of a new direct opportunity: random, or derived
// from the idempotency key.
func (s *Service) directID(call Call) uuid.UUID {
	if call.IdempotencyKey == "" {
		return s.newID()
	}
	return uuid.NewSHA1(idNamespace, []byte("direct\x00"+call.Actor.ID+"\x00"+call.IdempotencyKey))
}

// RecordDirect records a direct-sales opportunity (from the CRM).
func (s *Service) RecordDirect(ctx context.Context, call Call, o domain.DirectOpportunity) (uuid.UUID, error) {
	id := s.directID(call)
	if _, replay, _ := s.replayed(ctx, call); !replay && call.Actor.Role == domain.RoleDirectSales {
		// A retry of a request already recorded is answered as the first
		// was; a new competing deal on a protected account is refused
		// (handoff.go).
		if err := s.checkTakeover(ctx, call, id, o, "record"); err != nil {
			return uuid.Nil, err
		}
	}
	res, err := s.execute(ctx, call, domain.DirectStream(id), func(stored []domain.Event) ([]domain.Event, error) {
		if len(stored) > 0 {
			return nil, domain.Errorf(domain.ECONFLICT, "direct opportunity %s already exists", id)
		}
		return domain.RecordDirectOpportunity(call.Actor, id, o, s.clock.Now())
	})
	if err != nil {
		return uuid.Nil, err
	}
	if res.Replayed {
		if rid, err := uuid.Parse(res.Stream[len("direct-"):]); err == nil {
			id = rid
		}
	}
	return id, nil
}

// updateDirect runs a command on direct opportunity id.
func (s *Service) updateDirect(ctx context.Context, call Call, id uuid.UUID, decide func(d *domain.Direct) ([]domain.Event, error)) error {
	_, err := s.execute(ctx, call, domain.DirectStream(id), func(stored []domain.Event) ([]domain.Event, error) {
		var d *domain.Direct
		if len(stored) > 0 {
			var err error
			if d, err = domain.RebuildDirect(stored...); err != nil {
				return nil, err
			}
		}
		return decide(d)
	})
	return err
}

// UpdateDirect replaces a direct opportunity's details.
func (s *Service) UpdateDirect(ctx context.Context, call Call, id uuid.UUID, o domain.DirectOpportunity) error {
	// An owner change takes the deal over (handoff.go).
	if cur, ok, err := s.directOpportunity(ctx, id); err != nil {
		return err
	} else if ok && call.Actor.Role == domain.RoleDirectSales && !strings.EqualFold(strings.TrimSpace(cur.Owner), strings.TrimSpace(o.Owner)) {
		if err := s.checkTakeover(ctx, call, id, cur, "update"); err != nil {
			return err
		}
	}
	return s.updateDirect(ctx, call, id, func(d *domain.Direct) ([]domain.Event, error) {
		return d.Update(call.Actor, o, s.clock.Now())
	})
}

// CloseDirect closes a direct opportunity as won or lost.
func (s *Service) CloseDirect(ctx context.Context, call Call, id uuid.UUID, outcome domain.DirectStatus, reason string) error {
	if cur, ok, err := s.directOpportunity(ctx, id); err != nil {
		return err
	} else if ok && call.Actor.Role == domain.RoleDirectSales {
		if err := s.checkTakeover(ctx, call, id, cur, "close"); err != nil {
			return err
		}
	}
	return s.updateDirect(ctx, call, id, func(d *domain.Direct) ([]domain.Event, error) {
		return d.Close(call.Actor, outcome, reason, s.clock.Now())
	})
}

// appendAccounts appends a reviewer's account decision to the accounts
// stream. Decisions do not depend on each other, so any revision will do.
func (s *Service) appendAccounts(ctx context.Context, call Call, events []domain.Event) error {
	if _, ok, err := s.replayed(ctx, call); err != nil || ok {
		return err
	}
	data, err := encode(call, domain.AccountsStream, events, s.eventIDs(call, domain.AccountsStream, len(events)))
	if err != nil {
		return err
	}
	res, err := s.store.Append(ctx, domain.AccountsStream, domain.Any(), data...)
	if err != nil {
		return err
	}
	return s.WaitFor(ctx, res.Position)
}

// DecideAccountMatch records that two account names (or a name and a
// domain) are, or are not, the same customer; later checks use it.
func (s *Service) DecideAccountMatch(ctx context.Context, call Call, a, b string, same bool, note string) error {
	events, err := domain.DecideAccountMatch(call.Actor, a, b, same, note, s.clock.Now())
	if err != nil {
		return err
	}
	return s.appendAccounts(ctx, call, events)
}

// LinkSubsidiary records that subsidiary belongs to parent.
func (s *Service) LinkSubsidiary(ctx context.Context, call Call, parent, subsidiary, note string) error {
	events, err := domain.LinkSubsidiary(call.Actor, parent, subsidiary, note, s.clock.Now())
	if err != nil {
		return err
	}
	return s.appendAccounts(ctx, call, events)
}
