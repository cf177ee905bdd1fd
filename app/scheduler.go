package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
)

// schedulerCall is the identity the scheduler's events carry.
var schedulerCall = Call{Caller: Caller{Actor: domain.Actor{ID: "system:scheduler", Role: domain.RoleAdmin}, Name: "expiry scheduler"}}

// RunDue appends what time alone makes due at now: RegistrationExpired for
// every registration whose protection lapsed, and one expiry reminder per
// protection end for those close to it (domain.Registration.Due decides).
// It returns how many events it appended. Running it again at the same
// time appends nothing: each due event is decided from the registration's
// stream as it is, and its ID is derived from the registration, the event
// type and the protection end, so even two schedulers racing record it
// once.
//
// Each due event is decided under the policy in force at now (its
// reminder lead time), and names it.
func (s *Service) RunDue(ctx context.Context, now time.Time) (int, error) {
	policy := s.PolicyAt(now)
	lead := policy.ReminderBefore
	n := 0
	var errs []error
	expiring, err := s.Registrations.ExpiringBefore(now.Add(lead).Add(time.Nanosecond))
	if err != nil {
		return 0, err
	}
	for _, v := range expiring {
		stream := domain.RegistrationStream(v.ID)
		stored, err := s.readStream(ctx, stream)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r, err := domain.Rebuild(stored...)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		due := r.Due(now, policy)
		if len(due) == 0 {
			continue
		}
		ids := make([]uuid.UUID, len(due))
		for i, e := range due {
			ids[i] = uuid.NewSHA1(idNamespace, fmt.Appendf(nil, "due\x00%s\x00%s\x00%d", v.ID, e.EventType(), r.ProtectionEnd().UnixNano()))
		}
		data, err := encode(schedulerCall, stream, due, ids)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		res, err := s.store.Append(ctx, stream, domain.Exact(uint64(len(stored)-1)), data...)
		var wrong *domain.WrongExpectedRevisionError
		switch {
		case errors.As(err, &wrong):
			continue // someone acted on it meanwhile; the next run decides again
		case err != nil:
			errs = append(errs, err)
			continue
		}
		n += len(due)
		if err := s.WaitFor(ctx, res.Position); err != nil {
			return n, err
		}
	}
	// What partners' standing makes due (app/partner_program.go).
	k, err := s.enforceAllStanding(ctx, now)
	n += k
	errs = append(errs, err)
	// Review reminders and escalations (app/automation.go).
	k, err = s.runReviewDue(ctx, now)
	n += k
	errs = append(errs, err)
	// Contract grants whose term ended are renewed or lapse (grants.go).
	k, err = s.DecideGrantTerms(ctx, now)
	n += k
	errs = append(errs, err)
	return n, errors.Join(errs...)
}

// schedule calls RunDue every tick until ctx ends.
func (s *Service) schedule(ctx context.Context) {
	t := time.NewTicker(s.tick)
	defer t.Stop()
	for {
		if n, err := s.RunDue(ctx, s.clock.Now()); err != nil && ctx.Err() == nil {
			s.logger.Error("expiry scheduler", "err", err, "appended", n)
		} else if n > 0 {
			s.logger.Info("expiry scheduler", "appended", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
