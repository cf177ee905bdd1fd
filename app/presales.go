package app

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// updatePresales runs a command on the presales stream, decided on the
// desk as read, and the registration as read when reg is set; a race with
// another assignment is retried on the new desk (Service.execute), so a
// person's capacity and a registration's pooled hours are never given
// twice.
func (s *Service) updatePresales(ctx context.Context, call Call, reg uuid.UUID, decide func(b *domain.PresalesBook, r *domain.Registration, now time.Time) ([]domain.Event, error)) (Result, error) {
	return s.execute(ctx, call, domain.PresalesStream, func(stored []domain.Event) ([]domain.Event, error) {
		var r *domain.Registration
		if reg != uuid.Nil {
			var err error
			if r, err = s.loadRegistration(ctx, reg); err != nil {
				return nil, err
			}
		}
		b, err := domain.RebuildPresales(stored...)
		if err != nil {
			return nil, err
		}
		return decide(b, r, s.clock.Now())
	})
}

// AddPresalesResource adds a named presales resource.
func (s *Service) AddPresalesResource(ctx context.Context, call Call, r domain.PresalesResource) (projections.PresalesResourceView, error) {
	_, err := s.updatePresales(ctx, call, uuid.Nil, func(b *domain.PresalesBook, _ *domain.Registration, now time.Time) ([]domain.Event, error) {
		events, err := b.AddResource(call.Actor, r, now)
		if err == nil {
			r = events[0].(domain.PresalesResourceAdded).Resource
		}
		return events, err
	})
	if err != nil {
		return projections.PresalesResourceView{}, err
	}
	v, _ := s.Presales.Resource(r.ID)
	return v, nil
}

// AssignPresales assigns resource to registration id for hours.
func (s *Service) AssignPresales(ctx context.Context, call Call, id uuid.UUID, resource string, hours int) (Result, error) {
	return s.updatePresales(ctx, call, id, func(b *domain.PresalesBook, r *domain.Registration, now time.Time) ([]domain.Event, error) {
		// A suspended or terminated partner is assigned no one.
		events, err := b.Assign(call.Actor, r, resource, hours, now)
		return s.grantable(r, now, "presales support", events, err)
	})
}

// UnassignPresales ends resource's assignment to registration id.
func (s *Service) UnassignPresales(ctx context.Context, call Call, id uuid.UUID, resource, reason string) (Result, error) {
	return s.updatePresales(ctx, call, id, func(b *domain.PresalesBook, r *domain.Registration, now time.Time) ([]domain.Event, error) {
		return b.Unassign(call.Actor, r, resource, reason, now)
	})
}

// mayReadDesk checks that caller may read the presales desk: vendor staff
// and auditors, not partners.
func mayReadDesk(caller Caller) error {
	if err := caller.Actor.Validate(); err != nil {
		return err
	}
	switch caller.Actor.Role {
	case domain.RolePartner, domain.RoleDirectSales:
		return domain.Errorf(domain.EFORBIDDEN, "role %q may not read the presales desk", caller.Actor.Role)
	}
	return nil
}

// PresalesResources lists the resources with their load.
func (s *Service) PresalesResources(caller Caller) ([]projections.PresalesResourceView, error) {
	if err := mayReadDesk(caller); err != nil {
		return nil, err
	}
	return s.Presales.Resources(), nil
}

// PresalesResource returns one resource with its load.
func (s *Service) PresalesResource(caller Caller, id string) (projections.PresalesResourceView, error) {
	if err := mayReadDesk(caller); err != nil {
		return projections.PresalesResourceView{}, err
	}
	v, ok := s.Presales.Resource(id)
	if !ok {
		return projections.PresalesResourceView{}, domain.Errorf(domain.ENOTFOUND, "presales resource not found")
	}
	return v, nil
}

// PresalesSupport is a registration's presales entitlement and the people
// assigned to it.
type PresalesSupport struct {
	RegistrationID uuid.UUID                   `json:"registration_id"`
	PartnerID      string                      `json:"partner_id"`
	Entitlement    *domain.PresalesEntitlement `json:"entitlement,omitempty"`
	PolicyVersion  int                         `json:"policy_version,omitempty"`
	Assignments    []PresalesPerson            `json:"assignments"`
}

// PresalesPerson is an assignment with the person's name: presales
// resources report to the partner as well as to the channel team.
type PresalesPerson struct {
	domain.PresalesAssignment
	Name string `json:"name"`
}

// PresalesOf returns registration id's presales support if caller may read
// it: a partner only its own.
func (s *Service) PresalesOf(caller Caller, id uuid.UUID) (PresalesSupport, error) {
	if err := mayReadBenefits(caller); err != nil {
		return PresalesSupport{}, err
	}
	d, err := s.Visible(caller, id)
	if err != nil {
		return PresalesSupport{}, err
	}
	out := PresalesSupport{RegistrationID: id, PartnerID: d.PartnerID, Assignments: []PresalesPerson{}}
	if d.Benefits != nil {
		e := d.Benefits.Presales
		out.Entitlement, out.PolicyVersion = &e, d.Benefits.PolicyVersion
	}
	for _, a := range s.Presales.Assignments(id) {
		r, _ := s.Presales.Resource(a.ResourceID)
		out.Assignments = append(out.Assignments, PresalesPerson{PresalesAssignment: a, Name: r.Name})
	}
	return out, nil
}
