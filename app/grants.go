package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// grantTermCall is the identity of the events that decide grant terms.
var grantTermCall = Call{Caller: Caller{Actor: domain.Actor{ID: "system:scheduler", Role: domain.RoleAdmin}, Name: "grant terms"}}

// DecideGrantTerms decides every contract grant whose term ended by now
// and was not decided yet: renewed for another term when its partner met
// the requirements over the term, by the ledger's figures, else lapsed
// (domain.DecideGrantTerm). The decision and a renewal's new grant are
// appended to the partner's stream with IDs derived from the grant, so
// two schedulers racing record them once. It returns how many grants it
// decided.
func (s *Service) DecideGrantTerms(ctx context.Context, now time.Time) (int, error) {
	n := 0
	var errs []error
	for _, p := range s.Directory.Partners() {
		for _, g := range p.Grants {
			if g.Contract == nil || g.TermDecision != nil || g.Revoked != nil || now.Before(g.ValidTo) {
				continue
			}
			ok, err := s.decideGrantTerm(ctx, p.ID, g, now)
			if err != nil {
				errs = append(errs, fmt.Errorf("grant %s: %w", g.ID, err))
			}
			if ok {
				n++
			}
		}
	}
	return n, errors.Join(errs...)
}

func (s *Service) decideGrantTerm(ctx context.Context, partner string, g projections.GrantView, now time.Time) (bool, error) {
	figures, err := s.grantFigures(g.TerritoryGrant)
	if err != nil {
		return false, err
	}
	stream := domain.PartnerStream(partner)
	stored, err := s.readStream(ctx, stream)
	if err != nil {
		return false, err
	}
	decided := false
	for _, e := range stored {
		if d, ok := e.(domain.GrantTermDecided); ok && d.GrantID == g.ID {
			decided = true
		}
	}
	if decided {
		return false, nil
	}
	newID := uuid.NewSHA1(idNamespace, []byte("grant-renewal\x00"+g.ID.String()))
	events, err := domain.DecideGrantTerm(g.ID, g.TerritoryGrant, figures, decided, newID, s.PolicyAt(now), now)
	if err != nil {
		return false, err
	}
	ids := make([]uuid.UUID, len(events))
	for i := range events {
		ids[i] = uuid.NewSHA1(idNamespace, fmt.Appendf(nil, "grant-term\x00%s\x00%d", g.ID, i))
	}
	data, err := encode(grantTermCall, stream, events, ids)
	if err != nil {
		return false, err
	}
	res, err := s.store.Append(ctx, stream, domain.Exact(uint64(len(stored)-1)), data...)
	var wrong *domain.WrongExpectedRevisionError
	switch {
	case errors.As(err, &wrong), errors.Is(err, domain.ErrDuplicateEventID):
		return false, nil // decided meanwhile, or the partner changed: the next run decides again
	case err != nil:
		return false, err
	}
	return true, s.WaitFor(ctx, res.Position)
}

// RevokeGrant ends partner's territory grant id now, for reason
// (domain.RevokeGrant: the roles that grant revoke). It returns the
// grant as the directory then shows it.
func (s *Service) RevokeGrant(ctx context.Context, call Call, partner string, id uuid.UUID, reason string) (projections.GrantView, error) {
	if !domain.ValidPartnerID(partner) {
		// The role is checked first, before naming a stream after the ID.
		_, err := domain.RevokeGrant(call.Actor, partner, id, nil, reason, s.clock.Now())
		return projections.GrantView{}, err
	}
	_, err := s.execute(ctx, call, domain.PartnerStream(partner), func(stored []domain.Event) ([]domain.Event, error) {
		return domain.RevokeGrant(call.Actor, partner, id, stored, reason, s.clock.Now())
	})
	if err != nil {
		return projections.GrantView{}, err
	}
	p, _ := s.Directory.Partner(partner)
	for _, g := range p.Grants {
		if g.ID == id {
			return g, nil
		}
	}
	return projections.GrantView{}, domain.Errorf(domain.ENOTFOUND, "grant not found")
}

// grantFigures gathers what the grant's partner achieved in its term from
// the registrations view (approval times are the approval events', close
// times the closing events' recorded times).
func (s *Service) grantFigures(g domain.TerritoryGrant) (domain.GrantFigures, error) {
	var regs []domain.GrantRegistration
	cursor := ""
	for {
		items, next, err := s.Registrations.List(projections.ListFilter{PartnerID: g.PartnerID}, cursor, projections.MaxListLimit)
		if err != nil {
			return domain.GrantFigures{}, err
		}
		for _, v := range items {
			if !v.Approved {
				continue
			}
			r := domain.GrantRegistration{
				ID: v.ID, PartnerID: v.PartnerID, Country: v.Country, Region: v.Region, Industry: v.Industry,
				Value: domain.Money{Amount: v.EstimatedValue, Currency: v.Currency}, ApprovedAt: v.Terms.ProtectionStart,
			}
			if v.Status == domain.StatusClosedWon {
				for _, h := range s.Registrations.History(v.ID) {
					if h.Type == "RegistrationClosedWon" {
						r.ClosedWonAt = h.RecordedAt
					}
				}
			}
			regs = append(regs, r)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	return domain.CountGrantFigures(g, regs), nil
}
