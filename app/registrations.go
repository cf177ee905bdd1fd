package app

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// verdictWait bounds how long a submission waits for its verdict before
// the call returns with the registration still "submitted".
const verdictWait = 10 * time.Second

// registrationID returns the ID of a new registration: random, or derived
// from the idempotency key so that a concurrent retry targets the same
// stream.
func (s *Service) registrationID(call Call) uuid.UUID {
	if call.IdempotencyKey == "" {
		return s.newID()
	}
	return uuid.NewSHA1(idNamespace, []byte("registration\x00"+call.Actor.ID+"\x00"+call.IdempotencyKey))
}

// RegistrationStreamID returns the registration ID of a registration
// stream name.
func RegistrationStreamID(stream string) (uuid.UUID, bool) {
	rest, ok := strings.CutPrefix(stream, "registration-")
	if !ok {
		return uuid.Nil, false
	}
	id, err := uuid.Parse(rest)
	return id, err == nil
}

// Create drafts a registration and, with submit, submits it in the same
// append; a submission then waits for the duplicate check's verdict. It
// returns the new registration's ID.
func (s *Service) Create(ctx context.Context, call Call, typ domain.RegistrationType, d domain.Details, submit bool) (uuid.UUID, Result, error) {
	id := s.registrationID(call)
	stream := domain.RegistrationStream(id)
	res, err := s.execute(ctx, call, stream, func(stored []domain.Event) ([]domain.Event, error) {
		if len(stored) > 0 {
			return nil, domain.Errorf(domain.ECONFLICT, "registration %s already exists", id)
		}
		now := s.clock.Now()
		r, events, err := domain.NewRegistration(id, call.Actor, typ, d, now)
		if err != nil || !submit {
			return events, err
		}
		more, err := s.submit(r, call.Actor, now)
		return append(events, more...), err
	})
	if err != nil {
		return uuid.Nil, res, err
	}
	if res.Replayed {
		if rid, ok := RegistrationStreamID(res.Stream); ok {
			id = rid
		}
	}
	if submit && !res.Replayed {
		s.awaitVerdict(ctx, res.Position)
	}
	return id, res, nil
}

// awaitVerdict waits, for at most verdictWait, until the duplicate checker
// has processed the submission at pos (its verdict, and a conflict case if
// one opens, are then in the ledger) and the views show them.
func (s *Service) awaitVerdict(ctx context.Context, pos uint64) {
	ctx, cancel := context.WithTimeout(ctx, verdictWait)
	defer cancel()
	if err := s.awaitEffects(ctx, pos); err != nil {
		s.logger.Warn("no verdict yet; the call returns without it", "position", pos, "err", err)
	}
}

// awaitEffects waits until the follower has committed the event at pos,
// so that what it caused (a verdict, a case, a decision carried over) is in
// the ledger, and then until the views show those effects too.
func (s *Service) awaitEffects(ctx context.Context, pos uint64) error {
	if err := s.WaitFor(ctx, pos); err != nil {
		return err
	}
	head, err := s.head(ctx)
	if err != nil || head == 0 {
		return err
	}
	return s.WaitFor(ctx, head-1)
}

// update runs a command on registration id.
func (s *Service) update(ctx context.Context, call Call, id uuid.UUID, decide func(r *domain.Registration, now time.Time) ([]domain.Event, error)) (Result, error) {
	return s.execute(ctx, call, domain.RegistrationStream(id), func(stored []domain.Event) ([]domain.Event, error) {
		var r *domain.Registration
		if len(stored) > 0 {
			var err error
			if r, err = domain.Rebuild(stored...); err != nil {
				return nil, err
			}
		}
		return decide(r, s.clock.Now())
	})
}

// Amend replaces the details of a draft or returned registration.
func (s *Service) Amend(ctx context.Context, call Call, id uuid.UUID, d domain.Details) (Result, error) {
	return s.update(ctx, call, id, func(r *domain.Registration, now time.Time) ([]domain.Event, error) {
		return r.Amend(call.Actor, d, now)
	})
}

// Submit submits (or resubmits) a registration and waits for the verdict.
func (s *Service) Submit(ctx context.Context, call Call, id uuid.UUID) (Result, error) {
	res, err := s.update(ctx, call, id, func(r *domain.Registration, now time.Time) ([]domain.Event, error) {
		return s.submit(r, call.Actor, now)
	})
	if err == nil && !res.Replayed {
		s.awaitVerdict(ctx, res.Position)
	}
	return res, err
}

// StartReview assigns the registration to the calling reviewer.
func (s *Service) StartReview(ctx context.Context, call Call, id uuid.UUID) (Result, error) {
	return s.update(ctx, call, id, func(r *domain.Registration, now time.Time) ([]domain.Event, error) {
		return r.StartReview(call.Actor, now)
	})
}

// Approve approves under the policy in force now, unless the partner is
// suspended or terminated.
func (s *Service) Approve(ctx context.Context, call Call, id uuid.UUID) (Result, error) {
	return s.update(ctx, call, id, func(r *domain.Registration, now time.Time) ([]domain.Event, error) {
		policy := s.PolicyAt(now)
		events, err := r.ApproveGranting(call.Actor, policy, s.partnerTier(r), now)
		if a := s.assignmentOf(call.Actor); err == nil && a != nil {
			err = r.CheckApprover(a) // group and limit (automation.go)
		} else if err == nil {
			err = r.CheckUnassignedApprover(call.Actor.Role, policy) // the policy's cap, if any
		}
		return s.grantable(r, now, "an approval", events, err)
	})
}

// ApproveChecked approves like Approve once the reviewer has confirmed
// every approval criterion, and records the checklist in the approval.
func (s *Service) ApproveChecked(ctx context.Context, call Call, id uuid.UUID, checklist []string) (Result, error) {
	if err := domain.CheckChecklist(checklist); err != nil {
		return Result{}, err
	}
	return s.update(ctx, call, id, func(r *domain.Registration, now time.Time) ([]domain.Event, error) {
		events, err := r.ApproveGranting(call.Actor, s.PolicyAt(now), s.partnerTier(r), now)
		if err == nil {
			err = r.CheckApprover(s.assignmentOf(call.Actor))
		}
		if err == nil {
			a := events[0].(domain.RegistrationApproved)
			a.Checklist = slices.Clone(domain.ApprovalCriteria)
			events[0] = a
		}
		return s.grantable(r, now, "an approval", events, err)
	})
}

// partnerTier returns the tier of r's partner as the directory knows it
// now, the tier an approval's benefits are computed for (and named in).
// A partner the directory does not know, which only tools acting for
// partners without enrolling them produce, is taken at the lowest tier.
func (s *Service) partnerTier(r *domain.Registration) domain.PartnerTier {
	if r == nil {
		return domain.TierRegistered
	}
	if p, ok := s.Directory.Partner(r.PartnerID()); ok && p.Tier != "" {
		return p.Tier
	}
	return domain.TierRegistered
}

// Reject rejects with a reason code, an explanation and guidance.
func (s *Service) Reject(ctx context.Context, call Call, id uuid.UUID, reason domain.RejectReason, explanation, guidance string) (Result, error) {
	return s.update(ctx, call, id, func(r *domain.Registration, now time.Time) ([]domain.Event, error) {
		events, err := r.Reject(call.Actor, reason, explanation, guidance, now)
		return domain.NamePolicy(events, s.PolicyAt(now)), err
	})
}

// Return sends the registration back to the partner for more information.
func (s *Service) Return(ctx context.Context, call Call, id uuid.UUID, message string, fields []string) (Result, error) {
	return s.update(ctx, call, id, func(r *domain.Registration, now time.Time) ([]domain.Event, error) {
		events, err := r.Return(call.Actor, message, fields, now)
		return domain.NamePolicy(events, s.PolicyAt(now)), err
	})
}

// Progress records a stage update of a protected registration.
func (s *Service) Progress(ctx context.Context, call Call, id uuid.UUID, u domain.ProgressUpdate) (Result, error) {
	return s.update(ctx, call, id, func(r *domain.Registration, now time.Time) ([]domain.Event, error) {
		return r.Progress(call.Actor, u, now)
	})
}

// RequestExtension asks for more protection time.
func (s *Service) RequestExtension(ctx context.Context, call Call, id uuid.UUID, reason string) (Result, error) {
	return s.update(ctx, call, id, func(r *domain.Registration, now time.Time) ([]domain.Event, error) {
		return r.RequestExtension(call.Actor, reason, now)
	})
}

// pendingExtension checks that n names the pending extension request: the
// number the next grant would get.
func pendingExtension(r *domain.Registration, n int) error {
	if r == nil || r.Status() != domain.StatusExtensionRequested {
		return nil // the command reports the state
	}
	if want := r.ExtensionsGranted() + 1; n != want {
		return domain.Errorf(domain.ENOTFOUND, "no pending extension request %d (the pending one is %d)", n, want)
	}
	return nil
}

// GrantExtension grants pending extension request n.
func (s *Service) GrantExtension(ctx context.Context, call Call, id uuid.UUID, n int) (Result, error) {
	return s.update(ctx, call, id, func(r *domain.Registration, now time.Time) ([]domain.Event, error) {
		if err := pendingExtension(r, n); err != nil {
			return nil, err
		}
		events, err := r.GrantExtension(call.Actor, now)
		return s.grantable(r, now, "an extension", events, err)
	})
}

// DenyExtension denies pending extension request n.
func (s *Service) DenyExtension(ctx context.Context, call Call, id uuid.UUID, n int, reason string) (Result, error) {
	return s.update(ctx, call, id, func(r *domain.Registration, now time.Time) ([]domain.Event, error) {
		if err := pendingExtension(r, n); err != nil {
			return nil, err
		}
		events, err := r.DenyExtension(call.Actor, reason, now)
		return domain.NamePolicy(events, s.PolicyAt(now)), err
	})
}

// Renew renews a named-account registration under the policy in force now.
func (s *Service) Renew(ctx context.Context, call Call, id uuid.UUID) (Result, error) {
	return s.update(ctx, call, id, func(r *domain.Registration, now time.Time) ([]domain.Event, error) {
		policy := s.PolicyAt(now)
		var figures domain.RenewalFigures
		if policy.Renewal.Any() {
			deals, err := s.renewalDeals(r.PartnerID())
			if err != nil {
				return nil, err
			}
			figures = r.RenewalFigures(deals, now)
		}
		events, err := r.Renew(call.Actor, policy, figures, now)
		return s.grantable(r, now, "a renewal", events, err)
	})
}

// CloseWon closes the registration as won.
func (s *Service) CloseWon(ctx context.Context, call Call, id uuid.UUID, value domain.Money, note string) (Result, error) {
	return s.update(ctx, call, id, func(r *domain.Registration, now time.Time) ([]domain.Event, error) {
		return r.CloseWon(call.Actor, value, note, now)
	})
}

// CloseLost closes the registration as lost.
func (s *Service) CloseLost(ctx context.Context, call Call, id uuid.UUID, reason string) (Result, error) {
	return s.update(ctx, call, id, func(r *domain.Registration, now time.Time) ([]domain.Event, error) {
		return r.CloseLost(call.Actor, reason, now)
	})
}

// Withdraw withdraws the registration.
func (s *Service) Withdraw(ctx context.Context, call Call, id uuid.UUID, reason string) (Result, error) {
	return s.update(ctx, call, id, func(r *domain.Registration, now time.Time) ([]domain.Event, error) {
		return r.Withdraw(call.Actor, reason, now)
	})
}

// AttachOptions tells Attach how to check and store a document.
type AttachOptions struct {
	// Quota is the total size in bytes the registration's documents may
	// reach; zero or less means no quota.
	Quota int64
	// Publish, if set, makes the document durable in the attachment store.
	// Attach calls it once the command is decided, just before the event is
	// appended, and never when the command is refused: a refused upload
	// keeps nothing.
	Publish func() error
}

// CheckAttach checks, before a document of size bytes (0 if not known yet)
// named filename is read, that it could be attached to registration id:
// the ledger's answer to what Attach will decide, so that a refused upload
// is refused before its body is stored.
func (s *Service) CheckAttach(ctx context.Context, call Call, id uuid.UUID, filename string, size int64, opts AttachOptions) error {
	stored, err := s.readStream(ctx, domain.RegistrationStream(id))
	if err != nil {
		return err
	}
	var r *domain.Registration
	if len(stored) > 0 {
		if r, err = domain.Rebuild(stored...); err != nil {
			return err
		}
	}
	return r.CheckAttachment(call.Actor, filename, size, opts.Quota)
}

// Attach records a document on the registration, publishing it (see
// AttachOptions.Publish) only once the command is decided.
func (s *Service) Attach(ctx context.Context, call Call, id uuid.UUID, a domain.Attachment, opts AttachOptions) (Result, error) {
	return s.update(ctx, call, id, func(r *domain.Registration, now time.Time) ([]domain.Event, error) {
		events, err := r.AddAttachment(call.Actor, a, opts.Quota, now)
		if err == nil && opts.Publish != nil {
			if err := opts.Publish(); err != nil {
				return nil, err
			}
		}
		return events, err
	})
}

// Visible returns the detail of registration id if caller may read it: a
// partner only its own (anyone else's is ENOTFOUND, as if it did not
// exist), vendor staff and auditors all; direct sales none.
func (s *Service) Visible(caller Caller, id uuid.UUID) (projections.RegistrationDetail, error) {
	if err := mayRead(caller); err != nil {
		return projections.RegistrationDetail{}, err
	}
	d, ok := s.Registrations.Detail(id)
	if !ok || (caller.Actor.Role == domain.RolePartner && d.PartnerID != caller.Actor.PartnerID) {
		return projections.RegistrationDetail{}, domain.Errorf(domain.ENOTFOUND, "registration not found")
	}
	return d, nil
}

// VisibleAt returns registration id as it stood at moment m, with its
// history up to then, if caller may see it: as Visible, a registration
// that is another partner's, or did not exist yet, is not found.
func (s *Service) VisibleAt(ctx context.Context, caller Caller, id uuid.UUID, m projections.Moment) (projections.RegistrationDetail, []projections.HistoryEntry, error) {
	if err := mayRead(caller); err != nil {
		return projections.RegistrationDetail{}, nil, err
	}
	d, history, ok, err := s.Registrations.DetailAt(ctx, id, m)
	if err != nil {
		return projections.RegistrationDetail{}, nil, err
	}
	if !ok || (caller.Actor.Role == domain.RolePartner && d.PartnerID != caller.Actor.PartnerID) {
		return projections.RegistrationDetail{}, nil, domain.Errorf(domain.ENOTFOUND, "registration not found")
	}
	return d, history, nil
}

// Ownership lists the registrations that claimed the account named name or
// at web domain site, as they stood at moment m: for vendor reviewers and
// auditors only, since it names every holder (a partner is never told who
// holds an account).
func (s *Service) Ownership(ctx context.Context, caller Caller, name, site string, m projections.Moment) ([]projections.Claim, error) {
	if err := caller.Actor.Validate(); err != nil {
		return nil, err
	}
	if !caller.Actor.Role.Reviewer() && caller.Actor.Role != domain.RoleAuditor {
		return nil, domain.Errorf(domain.EFORBIDDEN, "role %q may not see who holds an account", caller.Actor.Role)
	}
	return s.Registrations.Ownership(ctx, name, site, m)
}

// mayRead checks that caller may read registrations at all.
func mayRead(caller Caller) error {
	if err := caller.Actor.Validate(); err != nil {
		return err
	}
	if caller.Actor.Role == domain.RoleDirectSales {
		return domain.Errorf(domain.EFORBIDDEN, "direct sales may not read partner registrations")
	}
	return nil
}

// List lists the registrations caller may see; a partner's filter is
// always narrowed to its own.
func (s *Service) List(caller Caller, f projections.ListFilter, cursor string, limit int) ([]projections.RegistrationView, string, error) {
	f, none, err := listScope(caller, f)
	if err != nil || none {
		return []projections.RegistrationView{}, "", err
	}
	items, next, err := s.Registrations.List(f, cursor, limit)
	if items == nil {
		items = []projections.RegistrationView{}
	}
	return items, next, err
}

// ListJSON is List with each view as its JSON (projections.ListJSON).
func (s *Service) ListJSON(caller Caller, f projections.ListFilter, cursor string, limit int) ([]json.RawMessage, string, error) {
	f, none, err := listScope(caller, f)
	if err != nil || none {
		return []json.RawMessage{}, "", err
	}
	items, next, err := s.Registrations.ListJSON(f, cursor, limit)
	if items == nil {
		items = []json.RawMessage{}
	}
	return items, next, err
}

// listScope narrows f to what caller may see: a partner its own
// registrations only (none when f names another partner).
func listScope(caller Caller, f projections.ListFilter) (projections.ListFilter, bool, error) {
	if err := mayRead(caller); err != nil {
		return f, true, err
	}
	if caller.Actor.Role == domain.RolePartner {
		if f.PartnerID != "" && f.PartnerID != caller.Actor.PartnerID {
			return f, true, nil
		}
		f.PartnerID = caller.Actor.PartnerID
	}
	return f, false, nil
}

// Summary groups the registrations caller may see (a partner: its own
// only, whatever its filter names) that match f.
func (s *Service) Summary(caller Caller, f projections.ListFilter, groupBy []string) (projections.Summary, error) {
	if err := mayRead(caller); err != nil {
		return projections.Summary{}, err
	}
	if caller.Actor.Role == domain.RolePartner {
		if f.PartnerID != "" && f.PartnerID != caller.Actor.PartnerID {
			f.PartnerID = "\x00" // matches nothing: another partner's pipeline looks empty, as if it had none
		} else {
			f.PartnerID = caller.Actor.PartnerID
		}
	}
	return s.Registrations.Summary(f, groupBy)
}

// ReviewQueue returns the registrations awaiting a decision, for vendor
// staff and auditors.
func (s *Service) ReviewQueue(caller Caller, limit int) ([]projections.ReviewItem, error) {
	if err := caller.Actor.Validate(); err != nil {
		return nil, err
	}
	if !caller.Actor.Role.Reviewer() && caller.Actor.Role != domain.RoleAuditor {
		return nil, domain.Errorf(domain.EFORBIDDEN, "role %q may not read the review queue", caller.Actor.Role)
	}
	items, err := s.Registrations.ReviewQueue(limit)
	if items == nil {
		items = []projections.ReviewItem{}
	}
	return items, err
}
