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

// The partner program: profiles, certifications, standing, eligibility on
// submit and violations. See docs/partners.md.

// standingCall is the identity of the events the partner's standing makes
// due (registrations revoked because their partner was suspended under a
// policy that ends protections, or terminated).
var standingCall = Call{Caller: Caller{Actor: domain.Actor{ID: "system:standing", Role: domain.RoleAdmin}, Name: "partner standing"}}

// member returns what the directory knows of partner id: its profile and
// standing. A partner the directory does not know is returned with its ID
// only (no tier), so that it is eligible for nothing.
func (s *Service) member(id string) (domain.Partner, domain.PartnerStanding) {
	p, ok := s.Directory.Partner(id)
	if !ok {
		return domain.Partner{ID: id}, domain.PartnerStanding{}
	}
	return p.Partner, p.Standing
}

// submit submits r for actor at now, under the policy in force then, if
// the partner is eligible (domain.Registration.SubmitEligible).
func (s *Service) submit(r *domain.Registration, actor domain.Actor, now time.Time) ([]domain.Event, error) {
	p, standing := s.member(r.PartnerID())
	return r.SubmitEligible(actor, p, standing, s.PolicyAt(now), now)
}

// grantable refuses to grant what on r when its partner is suspended or
// terminated at now; events is the command's outcome, passed through
// otherwise. The command decides first, so that a caller who may not see
// r learns nothing of its partner's standing.
func (s *Service) grantable(r *domain.Registration, now time.Time, what string, events []domain.Event, err error) ([]domain.Event, error) {
	if err != nil {
		return nil, err
	}
	_, standing := s.member(r.PartnerID())
	if err := r.CheckGrantable(standing, now, what); err != nil {
		return nil, err
	}
	return events, nil
}

// partnerCommand runs a command on partner id's stream and returns the
// partner as the directory then shows it.
func (s *Service) partnerCommand(ctx context.Context, call Call, id string, decide func(exists bool, p projections.PartnerView, now time.Time) ([]domain.Event, error)) (projections.PartnerView, error) {
	if !domain.ValidPartnerID(id) {
		// Decide as for a partner that does not exist, before naming a
		// stream after the ID: the authority checks come first.
		_, err := decide(false, projections.PartnerView{}, s.clock.Now())
		return projections.PartnerView{}, err
	}
	_, err := s.execute(ctx, call, domain.PartnerStream(id), func(stored []domain.Event) ([]domain.Event, error) {
		p, ok := s.Directory.Partner(id)
		return decide(ok && len(stored) > 0, p, s.clock.Now())
	})
	if err != nil {
		return projections.PartnerView{}, err
	}
	v, _ := s.Directory.Partner(id)
	return v, nil
}

// UpdatePartner changes a partner's name, tier, regions or verticals.
func (s *Service) UpdatePartner(ctx context.Context, call Call, id string, change domain.PartnerProfile) (projections.PartnerView, error) {
	return s.partnerCommand(ctx, call, id, func(exists bool, p projections.PartnerView, now time.Time) ([]domain.Event, error) {
		return domain.UpdatePartner(call.Actor, p.Partner, exists, change, now)
	})
}

// RecordCredential records a certification or training of a partner.
func (s *Service) RecordCredential(ctx context.Context, call Call, id string, c domain.Credential) (projections.PartnerView, error) {
	return s.partnerCommand(ctx, call, id, func(exists bool, _ projections.PartnerView, now time.Time) ([]domain.Event, error) {
		return domain.RecordCredential(call.Actor, id, exists, c, now)
	})
}

// RevokeCredential ends partner id's certification or training of kind
// and name now: the record is recorded again, as a correction, expiring
// at this instant (domain.RecordCredential decides who may). One not on
// record, or no longer in force, is not found.
func (s *Service) RevokeCredential(ctx context.Context, call Call, id string, kind domain.CredentialKind, name string) (projections.PartnerView, error) {
	return s.partnerCommand(ctx, call, id, func(exists bool, p projections.PartnerView, now time.Time) ([]domain.Event, error) {
		c, ok := p.Standing.Credential(kind, name)
		if !exists || !ok || !c.ValidAt(now) {
			return nil, domain.Errorf(domain.ENOTFOUND, "no such certification in force")
		}
		c.Expires = now
		return domain.RecordCredential(call.Actor, id, exists, c, now)
	})
}

// SuspendPartner suspends a partner until a time, then applies what the
// policy says of its active protections.
func (s *Service) SuspendPartner(ctx context.Context, call Call, id string, until time.Time, reason string) (projections.PartnerView, error) {
	v, err := s.partnerCommand(ctx, call, id, func(exists bool, p projections.PartnerView, now time.Time) ([]domain.Event, error) {
		return domain.SuspendPartner(call.Actor, id, exists, p.Standing, until, reason, s.PolicyAt(now), now)
	})
	if err != nil {
		return v, err
	}
	return s.afterStandingChange(ctx, id, v)
}

// ReinstatePartner lifts a partner's suspensions.
func (s *Service) ReinstatePartner(ctx context.Context, call Call, id string, reason string) (projections.PartnerView, error) {
	return s.partnerCommand(ctx, call, id, func(exists bool, p projections.PartnerView, now time.Time) ([]domain.Event, error) {
		return domain.ReinstatePartner(call.Actor, id, exists, p.Standing, reason, now)
	})
}

// TerminatePartner ends a partner's membership and revokes its
// registrations that still claim anything.
func (s *Service) TerminatePartner(ctx context.Context, call Call, id string, reason string) (projections.PartnerView, error) {
	v, err := s.partnerCommand(ctx, call, id, func(exists bool, p projections.PartnerView, now time.Time) ([]domain.Event, error) {
		return domain.TerminatePartner(call.Actor, id, exists, p.Standing, reason, s.PolicyAt(now), now)
	})
	if err != nil {
		return v, err
	}
	return s.afterStandingChange(ctx, id, v)
}

// afterStandingChange enforces the new standing of partner id and returns
// its view as it then is.
func (s *Service) afterStandingChange(ctx context.Context, id string, v projections.PartnerView) (projections.PartnerView, error) {
	if _, err := s.EnforceStanding(ctx, id, s.clock.Now()); err != nil {
		return v, err
	}
	v, _ = s.Directory.Partner(id)
	return v, nil
}

// violationID derives the ID of a violation from the idempotency key, or
// makes a new one.
func (s *Service) violationID(call Call, reg uuid.UUID) uuid.UUID {
	if call.IdempotencyKey == "" {
		return s.newID()
	}
	return uuid.NewSHA1(idNamespace, []byte("violation\x00"+reg.String()+"\x00"+call.Actor.ID+"\x00"+call.IdempotencyKey))
}

// RecordViolation records a violation found on registration id with its
// evidence and applies the policy's penalty: the registration's revocation
// in the same append, then whatever the partner's new standing makes due
// on its other registrations.
func (s *Service) RecordViolation(ctx context.Context, call Call, id uuid.UUID, rep domain.ViolationReport) (Result, error) {
	vid := s.violationID(call, id)
	var partnerID string
	res, err := s.update(ctx, call, id, func(r *domain.Registration, now time.Time) ([]domain.Event, error) {
		events, err := r.RecordViolation(call.Actor, vid, rep, s.PolicyAt(now), now)
		if err == nil {
			partnerID = r.PartnerID()
		}
		return events, err
	})
	if err != nil || res.Replayed {
		return res, err
	}
	if _, err := s.EnforceStanding(ctx, partnerID, s.clock.Now()); err != nil {
		return res, err
	}
	return res, nil
}

// EnforceStanding appends what partner id's standing at now makes due on
// its registrations (domain.Registration.StandingDue) and returns how many
// events it appended. Like RunDue it is idempotent: each revocation is
// decided from the registration's stream as it is, and its event ID is
// derived from the registration, so running it again, or twice at once,
// records it once.
func (s *Service) EnforceStanding(ctx context.Context, id string, now time.Time) (int, error) {
	_, standing := s.member(id)
	policy := s.PolicyAt(now)
	switch status, _ := standing.StatusAt(now); {
	case status == domain.PartnerStatusActive:
		return 0, nil
	case status == domain.PartnerStatusSuspended && policy.Penalties.OnSuspension != domain.ProtectionsEnded:
		return 0, nil // the partner keeps its protections
	}
	alive := []domain.Status{
		domain.StatusSubmitted, domain.StatusCleared, domain.StatusPossibleDuplicate, domain.StatusUnderReview,
		domain.StatusReturned, domain.StatusActive, domain.StatusExtensionRequested,
	}
	n := 0
	var errs []error
	cursor := ""
	for {
		page, next, err := s.Registrations.List(projections.ListFilter{PartnerID: id, Status: alive}, cursor, projections.MaxListLimit)
		if err != nil {
			return n, err
		}
		for _, v := range page {
			appended, err := s.enforceOn(ctx, v.ID, standing, policy, now)
			n += appended
			if err != nil {
				errs = append(errs, err)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	return n, errors.Join(errs...)
}

func (s *Service) enforceOn(ctx context.Context, id uuid.UUID, standing domain.PartnerStanding, policy domain.Policy, now time.Time) (int, error) {
	stream := domain.RegistrationStream(id)
	stored, err := s.readStream(ctx, stream)
	if err != nil || len(stored) == 0 {
		return 0, err
	}
	r, err := domain.Rebuild(stored...)
	if err != nil {
		return 0, err
	}
	due := r.StandingDue(standing, policy, standingCall.Actor.ID, now)
	if len(due) == 0 {
		return 0, nil
	}
	ids := make([]uuid.UUID, len(due))
	for i, e := range due {
		ids[i] = uuid.NewSHA1(idNamespace, fmt.Appendf(nil, "standing\x00%s\x00%s", id, e.EventType()))
	}
	data, err := encode(standingCall, stream, due, ids)
	if err != nil {
		return 0, err
	}
	res, err := s.store.Append(ctx, stream, domain.Exact(uint64(len(stored)-1)), data...)
	var wrong *domain.WrongExpectedRevisionError
	switch {
	case errors.As(err, &wrong):
		return 0, nil // someone acted on it meanwhile; the next run decides again
	case err != nil:
		return 0, err
	}
	return len(due), s.WaitFor(ctx, res.Position)
}

// enforceAllStanding runs EnforceStanding for every partner not in good
// standing at now: the scheduler's sweep, which catches what a crash
// between a suspension and its consequences left undone.
func (s *Service) enforceAllStanding(ctx context.Context, now time.Time) (int, error) {
	n := 0
	var errs []error
	for _, p := range s.Directory.Partners() {
		if status, _ := p.Standing.StatusAt(now); status == domain.PartnerStatusActive {
			continue
		}
		k, err := s.EnforceStanding(ctx, p.ID, now)
		n += k
		if err != nil {
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}

// PartnerStatus returns partner v's status now and, when suspended, until
// when.
func (s *Service) PartnerStatus(v projections.PartnerView) (domain.PartnerStatus, time.Time) {
	return v.Standing.StatusAt(s.clock.Now())
}

// grantableParties refuses a conflict decision that awards a registration
// to, or co-registers, a partner suspended or terminated at now: a
// decision in its favour grants protection.
func (s *Service) grantableParties(c *domain.Conflict, d domain.ConflictDecision, now time.Time) error {
	favoured := map[string]bool{}
	switch d.Outcome {
	case domain.OutcomeAward:
		favoured[d.Winner] = true
	case domain.OutcomeCoRegister:
		for _, sh := range d.Shares {
			favoured[sh.PartyKey] = true
		}
	}
	for _, p := range c.Parties() {
		if !favoured[p.Key] || p.Kind != domain.PartyPartner {
			continue
		}
		_, standing := s.member(p.PartnerID)
		if err := standing.CheckGoodStanding(p.PartnerID, now, "be granted a registration by a conflict decision"); err != nil {
			return err
		}
	}
	return nil
}
