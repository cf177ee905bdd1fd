package app

import (
	"context"
	"time"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// mayReadDrafts reports whether caller may read policy versions that are
// not published: vendor staff and auditors. Partners (and direct sales)
// read published versions only, as in the partner portal.
func mayReadDrafts(caller Caller) bool {
	switch caller.Actor.Role {
	case domain.RolePartner, domain.RoleDirectSales:
		return false
	}
	return true
}

// visiblePolicy reports whether caller may see version v: a draft that was
// never published is, to a partner, exactly a version that does not exist.
func visiblePolicy(caller Caller, v projections.PolicyVersionView) bool {
	return v.Published || mayReadDrafts(caller)
}

// policyNotFound is the answer for a version that does not exist or that
// the caller may not see, in the same words for both.
func policyNotFound(int) error { return domain.Errorf(domain.ENOTFOUND, "policy version not found") }

// updatePolicy runs a command on the policy stream, decided on the book
// folded from the stream as read (so a race with another proposal or
// publication is retried on the new book).
func (s *Service) updatePolicy(ctx context.Context, call Call, decide func(b *domain.PolicyBook, now time.Time) ([]domain.Event, error)) (Result, error) {
	return s.execute(ctx, call, domain.PolicyStream, func(stored []domain.Event) ([]domain.Event, error) {
		b, err := domain.RebuildPolicyBook(stored...)
		if err != nil {
			return nil, err
		}
		return decide(b, s.clock.Now())
	})
}

// ProposePolicy proposes p as the next policy version (a draft) and returns
// it.
func (s *Service) ProposePolicy(ctx context.Context, call Call, p domain.Policy) (projections.PolicyVersionView, error) {
	version := 0
	_, err := s.updatePolicy(ctx, call, func(b *domain.PolicyBook, now time.Time) ([]domain.Event, error) {
		events, err := b.Propose(call.Actor, p, now)
		if err == nil {
			version = events[0].(domain.PolicyProposed).Version
		}
		return events, err
	})
	if err != nil {
		return projections.PolicyVersionView{}, err
	}
	return s.policyView(version)
}

// PublishPolicy publishes a proposed version (see domain.PolicyBook.Publish).
func (s *Service) PublishPolicy(ctx context.Context, call Call, pub domain.Publication) (projections.PolicyVersionView, error) {
	_, err := s.updatePolicy(ctx, call, func(b *domain.PolicyBook, now time.Time) ([]domain.Event, error) {
		return b.Publish(call.Actor, pub, now)
	})
	if err != nil {
		return projections.PolicyVersionView{}, err
	}
	return s.policyView(pub.Version)
}

// WithdrawPolicy withdraws a draft or a scheduled version.
func (s *Service) WithdrawPolicy(ctx context.Context, call Call, version int, reason string) (projections.PolicyVersionView, error) {
	_, err := s.updatePolicy(ctx, call, func(b *domain.PolicyBook, now time.Time) ([]domain.Event, error) {
		return b.Withdraw(call.Actor, version, reason, now)
	})
	if err != nil {
		return projections.PolicyVersionView{}, err
	}
	return s.policyView(version)
}

func (s *Service) policyView(n int) (projections.PolicyVersionView, error) {
	v, ok := s.Policies.Version(n, s.clock.Now())
	if !ok {
		return projections.PolicyVersionView{}, domain.Errorf(domain.EINTERNAL, "policy version %d missing from the view after it was recorded", n)
	}
	return v, nil
}

// PolicyVersions lists the versions caller may see, oldest first, with
// their state now.
func (s *Service) PolicyVersions(caller Caller) ([]projections.PolicyVersionView, error) {
	if err := caller.Actor.Validate(); err != nil {
		return nil, err
	}
	all := s.Policies.Versions(s.clock.Now())
	out := all[:0]
	for _, v := range all {
		if visiblePolicy(caller, v) {
			out = append(out, v)
		}
	}
	return out, nil
}

// PolicyVersion returns version n if caller may see it.
func (s *Service) PolicyVersion(caller Caller, n int) (projections.PolicyVersionView, error) {
	if err := caller.Actor.Validate(); err != nil {
		return projections.PolicyVersionView{}, err
	}
	v, ok := s.Policies.Version(n, s.clock.Now())
	if !ok || !visiblePolicy(caller, v) {
		return projections.PolicyVersionView{}, policyNotFound(n)
	}
	return v, nil
}

// CurrentPolicy returns the version in force now.
func (s *Service) CurrentPolicy(caller Caller) (projections.PolicyVersionView, error) {
	return s.PolicyVersion(caller, s.Policy().Version)
}

// PolicyDiff compares versions a and b field by field, both of which
// caller must be able to see.
func (s *Service) PolicyDiff(caller Caller, a, b int) ([]domain.PolicyChange, error) {
	va, err := s.PolicyVersion(caller, a)
	if err != nil {
		return nil, err
	}
	vb, err := s.PolicyVersion(caller, b)
	if err != nil {
		return nil, err
	}
	changes := domain.DiffPolicies(va.Policy, vb.Policy)
	if changes == nil {
		changes = []domain.PolicyChange{}
	}
	return changes, nil
}

// AcknowledgePolicy records that the calling partner acknowledged
// published version n; acknowledging again records nothing.
func (s *Service) AcknowledgePolicy(ctx context.Context, call Call, n int) (projections.PolicyAck, error) {
	if err := call.Actor.Validate(); err != nil {
		return projections.PolicyAck{}, err
	}
	if call.Actor.Role != domain.RolePartner {
		return projections.PolicyAck{}, domain.Errorf(domain.EFORBIDDEN, "only partners acknowledge policies")
	}
	_, err := s.execute(ctx, call, domain.PolicyAckStream(call.Actor.PartnerID), func(stored []domain.Event) ([]domain.Event, error) {
		var done []int
		for _, e := range stored {
			if a, ok := e.(domain.PolicyAcknowledged); ok {
				done = append(done, a.Version)
			}
		}
		book, err := s.Policies.Book()
		if err != nil {
			return nil, err
		}
		return domain.AcknowledgePolicy(call.Actor, book, n, done, s.clock.Now())
	})
	if err != nil {
		return projections.PolicyAck{}, err
	}
	return s.Policies.Acknowledgements(n)[call.Actor.PartnerID], nil
}

// PolicyNotice is one partner's line in the notice of a published version:
// told from NotifiedFrom (the publication, or its enrolment if later), and
// its acknowledgement if any.
type PolicyNotice struct {
	PartnerID    string                 `json:"partner_id"`
	NotifiedFrom time.Time              `json:"notified_from"`
	Acknowledged *projections.PolicyAck `json:"acknowledged,omitempty"`
}

// PolicyAcknowledgements lists, for published version n, every partner that
// must be told and whether it acknowledged, for admins, channel leaders and
// auditors.
func (s *Service) PolicyAcknowledgements(caller Caller, n int) (domain.PartnerNotice, []PolicyNotice, error) {
	if err := caller.Actor.Validate(); err != nil {
		return domain.PartnerNotice{}, nil, err
	}
	switch caller.Actor.Role {
	case domain.RoleAdmin, domain.RoleChannelLeader, domain.RoleAuditor:
	default:
		return domain.PartnerNotice{}, nil, domain.Errorf(domain.EFORBIDDEN, "role %q may not read policy acknowledgements", caller.Actor.Role)
	}
	v, ok := s.Policies.Version(n, s.clock.Now())
	if !ok || !v.Published {
		return domain.PartnerNotice{}, nil, policyNotFound(n)
	}
	acks := s.Policies.Acknowledgements(n)
	notice := v.Publication.Notice
	partners := s.Directory.Partners()
	out := make([]PolicyNotice, 0, len(partners))
	for _, p := range partners {
		from := notice.From
		if p.AddedAt.After(from) {
			from = p.AddedAt
		}
		line := PolicyNotice{PartnerID: p.ID, NotifiedFrom: from}
		if a, ok := acks[p.ID]; ok {
			line.Acknowledged = &a
		}
		out = append(out, line)
	}
	return notice, out, nil
}
