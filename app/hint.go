package app

import (
	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
)

// Hint is what a partner is told while typing an account, before it
// submits: never who holds it, nor how the match was made.
type Hint string

// The duplicate hints.
const (
	HintRegistered  Hint = "registered"   // a submission now would be a duplicate
	HintLooksFree   Hint = "looks_free"   // nothing in the book matches
	HintNeedsReview Hint = "needs_review" // something possibly matches: a reviewer will look
	HintTooLittle   Hint = "too_little"   // not enough typed to look
)

// DuplicateHint asks the duplicate checker's book, as it stands now, what
// a submission of account a by the calling partner would be found to be.
// It appends nothing and is advisory: the verdict recorded at submission,
// in ledger order, is what counts (DESIGN §3). self is the registration
// being edited (uuid.Nil for a new one), which never matches itself.
func (s *Service) DuplicateHint(caller Caller, self uuid.UUID, typ domain.RegistrationType, a domain.Account, productLines []string) (Hint, error) {
	if err := caller.Actor.Validate(); err != nil {
		return "", err
	}
	if caller.Actor.Role != domain.RolePartner {
		return "", domain.Errorf(domain.EFORBIDDEN, "the duplicate hint is for partners; reviewers see the matches")
	}
	d := domain.Details{Account: a, Opportunity: domain.Opportunity{ProductLines: productLines}}.Normalize()
	if len([]rune(d.Account.CompanyName)) < 3 && d.Account.Domain == "" {
		return HintTooLittle, nil
	}
	if typ == "" {
		typ = domain.TypeOpportunity
	}
	sub := domain.RegistrationSubmitted{RegistrationID: self, PartnerID: caller.Actor.PartnerID, Type: typ, Details: d}
	s.checker.mu.Lock()
	f := s.checker.book.Check(sub, s.clock.Now())
	s.checker.mu.Unlock()
	switch f.Verdict {
	case domain.VerdictDuplicate:
		return HintRegistered, nil
	case domain.VerdictPossibleDuplicate:
		return HintNeedsReview, nil
	}
	return HintLooksFree, nil
}
