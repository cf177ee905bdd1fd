package app

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// Field locks (docs/crm.md): while a registration is protected, a
// direct-sales or CRM write that would take its deal over — a competing
// direct opportunity on the same account and scope, an owner change or a
// close of a direct opportunity there — is refused with a 409 naming the
// protection and its end, and the attempt is recorded on the
// registration's handoff stream. A handoff granted by the partner, while
// in force, lets direct sales act; so does the protection's end.

// HandoffRequest is what a partner grants direct sales on its deal.
type HandoffRequest struct {
	Scope string    `json:"scope"`
	Until time.Time `json:"until"`
}

// GrantHandoff lets direct sales engage on registration id within scope
// until the given time: the owning partner (or an admin) decides.
func (s *Service) GrantHandoff(ctx context.Context, call Call, id uuid.UUID, req HandoffRequest) (Result, error) {
	d, err := s.Visible(call.Caller, id)
	if err != nil {
		return Result{}, err
	}
	if call.Actor.Role != domain.RolePartner && call.Actor.Role != domain.RoleAdmin {
		return Result{}, domain.Errorf(domain.EFORBIDDEN, "only the partner that owns the registration may hand its deal over")
	}
	now := s.clock.Now()
	var fields []domain.FieldError
	if strings.TrimSpace(req.Scope) == "" || len(req.Scope) > 200 {
		fields = append(fields, domain.FieldError{Field: "scope", Code: domain.FieldRequired, Message: "say what direct sales may do, at most 200 characters"})
	}
	if !req.Until.After(now) {
		fields = append(fields, domain.FieldError{Field: "until", Code: domain.FieldOutOfRange, Message: "must be in the future"})
	}
	if len(fields) > 0 {
		return Result{}, &domain.Error{Code: domain.EINVALID, Message: "the handoff is invalid", Fields: fields}
	}
	if !d.Status.Protected() {
		return Result{}, domain.Errorf(domain.ECONFLICT, "registration %s is not protected: direct sales need no handoff", id)
	}
	ev := domain.RegistrationHandoffGranted{RegistrationID: id, Scope: strings.TrimSpace(req.Scope), Until: req.Until.UTC(), GrantedBy: call.Actor.ID, At: now}
	return s.execute(ctx, call, domain.HandoffStream(id), func([]domain.Event) ([]domain.Event, error) {
		return []domain.Event{ev}, nil
	})
}

// checkTakeover refuses, and records, a write by call on direct
// opportunity did (action record, update or close) whose account o is
// held by a protected registration with no handoff in force.
func (s *Service) checkTakeover(ctx context.Context, call Call, did uuid.UUID, o domain.DirectOpportunity, action string) error {
	now := s.clock.Now()
	claims, err := s.Registrations.Ownership(ctx, o.Account.CompanyName, o.Account.Domain, projections.Moment{})
	if err != nil {
		return err
	}
	for _, c := range claims {
		if !c.Status.Protected() || !now.Before(c.ProtectionEnd) || !sameScope(c.ProductLines, o.ProductLines) {
			continue
		}
		stored, err := s.readStream(ctx, domain.HandoffStream(c.ID))
		if err != nil {
			return err
		}
		if domain.HandoffOpen(stored, now) {
			continue
		}
		ev := domain.RegistrationTakeoverRefused{RegistrationID: c.ID, DirectID: did, Action: action, ProtectionEnd: c.ProtectionEnd,
			By: call.Actor.ID, At: now}
		stream := domain.HandoffStream(c.ID)
		data, err := encode(call, stream, []domain.Event{ev}, []uuid.UUID{s.newID()})
		if err != nil {
			return err
		}
		res, err := s.store.Append(ctx, stream, domain.Any(), data...)
		if err != nil {
			return err
		}
		if err := s.WaitFor(ctx, res.Position); err != nil {
			return err
		}
		end := c.ProtectionEnd.UTC().Format(time.RFC3339)
		return &domain.Error{Code: domain.ECONFLICT,
			Message: "the account is protected by registration " + c.ID.String() + " until " + end + "; direct sales may act after a handoff by the partner or once the protection ends",
			Fields:  []domain.FieldError{{Field: "protection", Code: "protected", Message: "registration " + c.ID.String() + " protected until " + end}}}
	}
	return nil
}

// sameScope reports whether two deals' product lines overlap; a deal that
// names none covers the whole account.
func sameScope(a, b []string) bool {
	if len(a) == 0 || len(b) == 0 {
		return true
	}
	for _, x := range a {
		if slices.ContainsFunc(b, func(y string) bool { return strings.EqualFold(x, y) }) {
			return true
		}
	}
	return false
}

// directOpportunity returns direct opportunity id as recorded.
func (s *Service) directOpportunity(ctx context.Context, id uuid.UUID) (domain.DirectOpportunity, bool, error) {
	stored, err := s.readStream(ctx, domain.DirectStream(id))
	if err != nil || len(stored) == 0 {
		return domain.DirectOpportunity{}, false, err
	}
	d, err := domain.RebuildDirect(stored...)
	if err != nil {
		return domain.DirectOpportunity{}, false, err
	}
	return d.Opportunity(), true, nil
}
