package domain

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain/match"
)

// ClaimBook is the duplicate checker's knowledge of the ledger up to some
// position: every submitted registration that still claims its account,
// and the territory grants. Check decides the finding on a submission from
// the book as it stands, so feeding a book the ledger in global order and
// checking each RegistrationSubmitted before applying it computes every
// verdict as a pure function of the ledger before the submission (DESIGN
// §3): replaying the ledger reproduces them.
//
// A ClaimBook is not safe for concurrent use.
type ClaimBook struct {
	claims map[uuid.UUID]*claim
	index  *match.Index // accounts of the claims that may block others
	grants []grantEntry
}

// claim is what the book keeps of one submitted registration: just enough
// to decide whether it blocks a later one.
type claim struct {
	id            uuid.UUID
	partnerID     string
	typ           RegistrationType
	account       Account
	productLines  []string
	status        Status
	firstPosition uint64 // of the first submission: who registered first
	protectionEnd time.Time
	extension     time.Duration // length of one extension, for a pending request
}

type grantEntry struct {
	id    uuid.UUID
	grant TerritoryGrant
}

// NewClaimBook returns an empty book.
func NewClaimBook() *ClaimBook {
	return &ClaimBook{claims: make(map[uuid.UUID]*claim), index: match.NewIndex(nil)}
}

// Len returns the number of claims that may block a later submission.
func (b *ClaimBook) Len() int { return b.index.Len() }

// Apply folds event e, recorded at global position, into the book. Events
// must come in global order. Events the book does not need are ignored.
func (b *ClaimBook) Apply(e Event, position uint64) {
	if g, ok := e.(TerritoryGranted); ok {
		b.grants = append(b.grants, grantEntry{id: g.GrantID, grant: g.Grant})
		return
	}
	re, ok := e.(RegistrationEvent)
	if !ok {
		return
	}
	c := b.claims[re.AggregateID()]
	if s, ok := e.(RegistrationSubmitted); ok {
		if c == nil {
			c = &claim{id: s.RegistrationID, partnerID: s.PartnerID, typ: s.Type, firstPosition: position}
			b.claims[c.id] = c
		}
		c.account = s.Details.Account
		c.productLines = s.Details.Opportunity.ProductLines
	}
	if c == nil {
		return // a draft, or a registration no longer claiming anything
	}
	switch e := e.(type) {
	case RegistrationSubmitted:
		c.status = StatusSubmitted
	case RegistrationVerdictRecorded:
		switch e.Verdict {
		case VerdictClear:
			c.status = StatusCleared
		case VerdictPossibleDuplicate:
			c.status = StatusPossibleDuplicate
		default:
			c.status = StatusDuplicate
		}
	case RegistrationReviewStarted:
		c.status = StatusUnderReview
	case RegistrationReturned:
		c.status = StatusReturned
	case RegistrationApproved:
		c.status, c.protectionEnd, c.extension = StatusActive, e.Terms.ProtectionEnd, e.Terms.ExtensionLength
	case RegistrationRenewed:
		c.status, c.protectionEnd, c.extension = StatusActive, e.Terms.ProtectionEnd, e.Terms.ExtensionLength
	case RegistrationExtensionRequested:
		c.status = StatusExtensionRequested
	case RegistrationExtensionGranted:
		c.status, c.protectionEnd = StatusActive, e.NewEnd
	case RegistrationExtensionDenied:
		c.status = StatusActive
	case RegistrationExpired:
		c.status = StatusExpired
	case RegistrationRejected:
		c.status = StatusRejected
	case RegistrationClosedWon:
		c.status = StatusClosedWon
	case RegistrationClosedLost:
		c.status = StatusClosedLost
	case RegistrationWithdrawn:
		c.status = StatusWithdrawn
	}
	key := c.id.String()
	switch {
	case c.claiming():
		b.index.Add(key, c.matchAccount())
	case c.status == StatusExpired && c.typ == TypeNamedAccount:
		// A named account may be renewed shortly after expiry: keep it,
		// unindexed.
		b.index.Remove(key)
	default:
		b.index.Remove(key)
		delete(b.claims, c.id)
	}
}

// claiming reports whether the claim is alive: waiting for a decision, back
// with the partner, or protected. Whether protection has lapsed by a given
// time is decided at check time (blocksAt).
func (c *claim) claiming() bool {
	switch c.status {
	case StatusSubmitted, StatusCleared, StatusPossibleDuplicate, StatusUnderReview, StatusReturned,
		StatusActive, StatusExtensionRequested:
		return true
	}
	return false
}

// blocksAt reports whether the claim blocks a submission recorded at at:
// it is alive and, when protected, its protection has not lapsed (a
// pending extension request holds it for at most one extension).
func (c *claim) blocksAt(at time.Time) bool {
	if !c.claiming() {
		return false
	}
	if c.status.Protected() {
		end := c.protectionEnd
		if c.status == StatusExtensionRequested {
			end = end.Add(c.extension)
		}
		return at.Before(end)
	}
	return true
}

func (c *claim) matchAccount() match.Account {
	return match.Account{Name: c.account.CompanyName, Domain: c.account.Domain, Country: c.account.Country}
}

// scopesOverlap reports whether two claims on the same account compete. A
// named account covers every opportunity at the account; two opportunity
// registrations compete unless both name product lines and they share
// none (product-based protection).
func scopesOverlap(aType RegistrationType, aLines []string, bType RegistrationType, bLines []string) bool {
	if aType == TypeNamedAccount || bType == TypeNamedAccount || len(aLines) == 0 || len(bLines) == 0 {
		return true
	}
	for _, a := range aLines {
		for _, b := range bLines {
			if strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b)) {
				return true
			}
		}
	}
	return false
}

// maxCandidates bounds the claims a check scores.
const maxCandidates = 20

// Check decides the finding on submission s, recorded at time at, from the
// book as it stands (which must not include s yet):
//
//   - duplicate when an earlier claim that still blocks is confidently on
//     the same account and overlaps in scope; the earliest such claim by
//     ledger order is named first, and OwnClaim says whether it is the
//     submitting partner's own;
//   - possible duplicate when such a claim only possibly matches, or when
//     another partner holds a territory grant covering the account;
//   - clear otherwise.
//
// CoveredByGrant names the submitting partner's own covering grant, if any.
func (b *ClaimBook) Check(s RegistrationSubmitted, at time.Time) Finding {
	f := Finding{Attempt: s.Attempt, Verdict: VerdictClear}
	acc := s.Details.Account
	type hit struct {
		c    *claim
		same bool
	}
	var hits []hit
	for _, m := range b.index.Candidates(match.Account{Name: acc.CompanyName, Domain: acc.Domain, Country: acc.Country}, maxCandidates) {
		id, err := uuid.Parse(m.ID)
		if err != nil || id == s.RegistrationID {
			continue
		}
		c := b.claims[id]
		if c == nil || !c.blocksAt(at) || !scopesOverlap(s.Type, s.Details.Opportunity.ProductLines, c.typ, c.productLines) {
			continue
		}
		hits = append(hits, hit{c: c, same: m.Result.Verdict == match.Same})
	}
	// Confident matches first, then ledger order: the first registrant.
	slices.SortFunc(hits, func(x, y hit) int {
		if x.same != y.same {
			if x.same {
				return -1
			}
			return 1
		}
		return cmp.Compare(x.c.firstPosition, y.c.firstPosition)
	})
	for _, h := range hits {
		f.Matches = append(f.Matches, h.c.id)
	}
	switch {
	case len(hits) > 0 && hits[0].same:
		f.Verdict = VerdictDuplicate
		f.OwnClaim = hits[0].c.partnerID == s.PartnerID
		f.Reason = fmt.Sprintf("the account is already registered (%s match)", describeHit(hits[0].c, acc))
	case len(hits) > 0:
		f.Verdict = VerdictPossibleDuplicate
		f.Reason = "the account may already be registered; a reviewer decides"
	}
	var own bool
	for _, g := range b.grants {
		if !g.grant.Covers(acc.Country, acc.Region, acc.Industry, at) {
			continue
		}
		if g.grant.PartnerID == s.PartnerID {
			if !own {
				f.CoveredByGrant, own = g.id, true
			}
			continue
		}
		f.GrantConflicts = append(f.GrantConflicts, g.id)
	}
	if len(f.GrantConflicts) > 0 && f.Verdict == VerdictClear && !own {
		f.Verdict = VerdictPossibleDuplicate
		f.Reason = "another partner holds exclusive rights in this territory; a reviewer decides"
	}
	if own || f.Verdict == VerdictDuplicate {
		// A partner's own grant outranks other grants; a duplicate is
		// decided by the claim alone.
		f.GrantConflicts = nil
	}
	if len(f.Matches) > MaxVerdictMatches {
		f.Matches = f.Matches[:MaxVerdictMatches]
	}
	return f
}

// describeHit names the signal that matched, for reviewers.
func describeHit(c *claim, acc Account) string {
	if c.account.Domain != "" && strings.EqualFold(c.account.Domain, acc.Domain) {
		return "website domain"
	}
	return "company name"
}
