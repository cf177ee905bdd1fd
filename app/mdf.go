package app

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// loadRegistration rebuilds registration id from its stream, nil if it
// does not exist.
func (s *Service) loadRegistration(ctx context.Context, id uuid.UUID) (*domain.Registration, error) {
	stored, err := s.readStream(ctx, domain.RegistrationStream(id))
	if err != nil || len(stored) == 0 {
		return nil, err
	}
	return domain.Rebuild(stored...)
}

// updateMDF runs a command on the MDF stream of registration id, decided
// against the registration as read (its allocation) and the stream as
// read; the append expects the stream unchanged, so two requests that
// race are decided one after the other, the second against what the first
// left (see Service.execute).
func (s *Service) updateMDF(ctx context.Context, call Call, id uuid.UUID, decide func(reg *domain.Registration, a *domain.MDFAccount, now time.Time) ([]domain.Event, error)) (Result, error) {
	return s.execute(ctx, call, domain.MDFStream(id), func(stored []domain.Event) ([]domain.Event, error) {
		reg, err := s.loadRegistration(ctx, id)
		if err != nil {
			return nil, err
		}
		a, err := domain.RebuildMDF(stored...)
		if err != nil {
			return nil, err
		}
		return decide(reg, a, s.clock.Now())
	})
}

// RequestMDF requests funds against registration id's allocation and
// returns the request's number.
func (s *Service) RequestMDF(ctx context.Context, call Call, id uuid.UUID, in domain.MDFRequestInput) (int, error) {
	n := 0
	res, err := s.updateMDF(ctx, call, id, func(reg *domain.Registration, a *domain.MDFAccount, now time.Time) ([]domain.Event, error) {
		// A suspended or terminated partner is granted no funds: neither
		// a new request nor an approval (app/partner_program.go).
		events, err := a.Request(call.Actor, reg, in, now)
		events, err = s.grantable(reg, now, "MDF", events, err)
		if err == nil {
			n = events[0].(domain.MDFRequested).Request
		}
		return events, err
	})
	if err == nil && res.Replayed {
		// The first request's number: the latest request of the caller
		// with this key is the one it made.
		n = s.replayedRequest(ctx, res)
	}
	return n, err
}

// replayedRequest returns the number of the request recorded at res.
func (s *Service) replayedRequest(ctx context.Context, res Result) int {
	recs, err := s.store.ReadAll(ctx, domain.ReadAllOptions{From: res.Position, Count: 1})
	if err != nil || len(recs) == 0 {
		return 0
	}
	ev, err := domain.DecodeEvent(recs[0].Type, recs[0].SchemaVersion, recs[0].Data)
	if err != nil {
		return 0
	}
	if r, ok := ev.(domain.MDFRequested); ok {
		return r.Request
	}
	return 0
}

// ApproveMDF approves request n for amount (zero: as requested).
func (s *Service) ApproveMDF(ctx context.Context, call Call, id uuid.UUID, n int, amount domain.Money, note string) (Result, error) {
	return s.updateMDF(ctx, call, id, func(reg *domain.Registration, a *domain.MDFAccount, now time.Time) ([]domain.Event, error) {
		events, err := a.Approve(call.Actor, reg, n, amount, note, now)
		return s.grantable(reg, now, "marketing development funds", events, err) // partner_program.go
	})
}

// RejectMDF rejects request n.
func (s *Service) RejectMDF(ctx context.Context, call Call, id uuid.UUID, n int, reason string) (Result, error) {
	return s.updateMDF(ctx, call, id, func(reg *domain.Registration, a *domain.MDFAccount, now time.Time) ([]domain.Event, error) {
		return a.Reject(call.Actor, reg, n, reason, now)
	})
}

// WithdrawMDF withdraws pending request n.
func (s *Service) WithdrawMDF(ctx context.Context, call Call, id uuid.UUID, n int, reason string) (Result, error) {
	return s.updateMDF(ctx, call, id, func(reg *domain.Registration, a *domain.MDFAccount, now time.Time) ([]domain.Event, error) {
		return a.Withdraw(call.Actor, reg, n, reason, now)
	})
}

// CheckMDFReceipt checks, before a receipt is read, that caller may add
// one named filename to request n.
func (s *Service) CheckMDFReceipt(ctx context.Context, call Call, id uuid.UUID, n int, filename string) error {
	reg, err := s.loadRegistration(ctx, id)
	if err != nil {
		return err
	}
	stored, err := s.readStream(ctx, domain.MDFStream(id))
	if err != nil {
		return err
	}
	a, err := domain.RebuildMDF(stored...)
	if err != nil {
		return err
	}
	return a.CheckReceipt(call.Actor, reg, n, filename)
}

// AddMDFReceipt records a receipt on request n, publishing the document
// (see AttachOptions.Publish) only once the command is decided.
func (s *Service) AddMDFReceipt(ctx context.Context, call Call, id uuid.UUID, n int, r domain.Attachment, publish func() error) (Result, error) {
	return s.updateMDF(ctx, call, id, func(reg *domain.Registration, a *domain.MDFAccount, now time.Time) ([]domain.Event, error) {
		events, err := a.AddReceipt(call.Actor, reg, n, r, now)
		if err == nil && publish != nil {
			if err := publish(); err != nil {
				return nil, err
			}
		}
		return events, err
	})
}

// ClaimMDF claims reimbursement of request n.
func (s *Service) ClaimMDF(ctx context.Context, call Call, id uuid.UUID, n int, amount domain.Money, receipts []string, note string) (Result, error) {
	return s.updateMDF(ctx, call, id, func(reg *domain.Registration, a *domain.MDFAccount, now time.Time) ([]domain.Event, error) {
		return a.Claim(call.Actor, reg, n, amount, receipts, note, now)
	})
}

// ReimburseMDF reimburses the claim of request n.
func (s *Service) ReimburseMDF(ctx context.Context, call Call, id uuid.UUID, n int, amount domain.Money, reason string) (Result, error) {
	return s.updateMDF(ctx, call, id, func(reg *domain.Registration, a *domain.MDFAccount, now time.Time) ([]domain.Event, error) {
		return a.Reimburse(call.Actor, reg, n, amount, reason, now)
	})
}

// RejectMDFClaim rejects the claim of request n.
func (s *Service) RejectMDFClaim(ctx context.Context, call Call, id uuid.UUID, n int, reason string) (Result, error) {
	return s.updateMDF(ctx, call, id, func(reg *domain.Registration, a *domain.MDFAccount, now time.Time) ([]domain.Event, error) {
		return a.RejectClaim(call.Actor, reg, n, reason, now)
	})
}

// MDFAccount is a registration's benefits and MDF account as a caller
// sees it.
type MDFAccount struct {
	RegistrationID uuid.UUID               `json:"registration_id"`
	PartnerID      string                  `json:"partner_id"`
	Benefits       *domain.GrantedBenefits `json:"benefits,omitempty"`
	Allocation     domain.Money            `json:"allocation,omitzero"`
	Committed      domain.Money            `json:"committed,omitzero"`
	Remaining      domain.Money            `json:"remaining,omitzero"`
	Requests       []domain.MDFRequest     `json:"requests"`
}

// mayReadBenefits checks that caller may read benefits at all.
func mayReadBenefits(caller Caller) error {
	if err := caller.Actor.Validate(); err != nil {
		return err
	}
	if !domain.MayReadMDF(caller.Actor.Role) {
		return domain.Errorf(domain.EFORBIDDEN, "role %q may not read benefits", caller.Actor.Role)
	}
	return nil
}

// MDFAccountOf returns registration id's benefits and MDF requests if caller may
// read them: a partner only its own (anyone else's is "registration not
// found", as if it did not exist).
func (s *Service) MDFAccountOf(caller Caller, id uuid.UUID) (MDFAccount, error) {
	if err := mayReadBenefits(caller); err != nil {
		return MDFAccount{}, err
	}
	d, err := s.Visible(caller, id)
	if err != nil {
		return MDFAccount{}, err
	}
	out := MDFAccount{RegistrationID: id, PartnerID: d.PartnerID, Benefits: d.Benefits, Requests: []domain.MDFRequest{}}
	if d.Benefits != nil && !d.Benefits.MDF.Amount.IsZero() {
		out.Allocation = d.Benefits.MDF.Amount
	}
	a, ok := s.MDF.Account(id)
	if ok {
		out.Allocation, out.Requests = a.Allocation, a.Requests
	}
	if !out.Allocation.IsZero() {
		view := projections.MDFAccountView{Allocation: out.Allocation, Requests: out.Requests}
		out.Committed = domain.Money{Amount: view.Committed(), Currency: out.Allocation.Currency}
		out.Remaining = view.Remaining()
	}
	return out, nil
}

// MDFRequests lists the MDF requests caller may see: a partner's own, or
// everyone's for vendor staff and auditors.
func (s *Service) MDFRequests(caller Caller, f projections.MDFRequestFilter) ([]projections.MDFRequestItem, error) {
	if err := mayReadBenefits(caller); err != nil {
		return nil, err
	}
	if caller.Actor.Role == domain.RolePartner {
		if f.PartnerID != "" && f.PartnerID != caller.Actor.PartnerID {
			return []projections.MDFRequestItem{}, nil
		}
		f.PartnerID = caller.Actor.PartnerID
	}
	return s.MDF.Requests(f), nil
}

// MDFBudgets returns the budget views caller may see: a partner's own.
func (s *Service) MDFBudgets(caller Caller, partner, quarter string) ([]projections.MDFBudget, error) {
	if err := mayReadBenefits(caller); err != nil {
		return nil, err
	}
	if caller.Actor.Role == domain.RolePartner {
		if partner != "" && partner != caller.Actor.PartnerID {
			return []projections.MDFBudget{}, nil
		}
		partner = caller.Actor.PartnerID
	}
	return s.MDF.Budgets(partner, quarter), nil
}
