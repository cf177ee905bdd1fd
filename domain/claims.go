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
	know   *match.Knowledge
	// parents maps the normalised name of a subsidiary to the names of
	// its parents (headquarters).
	parents map[string][]string
	tiers   map[string]PartnerTier
	grants  []grantEntry
	// changed, when tracking (TrackChanges), holds the claims changed
	// since the last Changes.
	changed map[uuid.UUID]struct{}
	// indexed remembers the account each claim is indexed under, so an
	// event that changes no account does not index it again.
	indexed map[uuid.UUID]Account
}

// claim is what the book keeps of one submitted registration: just enough
// to decide whether it blocks a later one.
type claim struct {
	id            uuid.UUID
	direct        bool // a direct-sales opportunity, not a registration
	owner         string
	partnerID     string
	typ           RegistrationType
	account       Account
	productLines  []string
	status        Status
	firstPosition uint64 // of the first submission: who registered first
	claimedAt     time.Time
	firstContact  time.Time
	hasProof      bool
	value         Money
	protectionEnd time.Time
	extension     time.Duration // length of one extension, for a pending request
}

type grantEntry struct {
	id    uuid.UUID
	grant TerritoryGrant
}

// NewClaimBook returns an empty book.
func NewClaimBook() *ClaimBook {
	k := match.NewKnowledge()
	return &ClaimBook{
		claims: make(map[uuid.UUID]*claim), index: match.NewIndex(k), know: k,
		parents: make(map[string][]string), tiers: make(map[string]PartnerTier), indexed: make(map[uuid.UUID]Account),
	}
}

// indexKey names a claim in the match index.
func (c *claim) indexKey() string {
	if c.direct {
		return "d:" + c.id.String()
	}
	return c.id.String()
}

// Len returns the number of claims that may block a later submission.
func (b *ClaimBook) Len() int { return b.index.Len() }

// Apply folds event e, recorded at global position, into the book. Events
// must come in global order. Events the book does not need are ignored.
func (b *ClaimBook) Apply(e Event, position uint64) {
	b.ApplyAt(e, position, time.Time{})
}

// ApplyAt is Apply for an event recorded at recordedAt, the time a claim
// it starts is remembered by.
func (b *ClaimBook) ApplyAt(e Event, position uint64, recordedAt time.Time) {
	switch e := e.(type) {
	case TerritoryGranted:
		b.grants = append(b.grants, grantEntry{id: e.GrantID, grant: e.Grant})
		return
	case TerritoryGrantRevoked:
		for i := range b.grants {
			if b.grants[i].id == e.GrantID {
				b.grants[i].grant = b.grants[i].grant.Revoked(e.At)
			}
		}
		return
	case PartnerAdded:
		b.tiers[e.ID] = e.Tier
		return
	case PartnerUpdated:
		b.tiers[e.ID] = e.Tier
		return
	case AccountMatchDecided:
		switch {
		case !e.Same:
			b.know.AddDistinct(e.A, e.B)
		case match.LooksLikeDomain(e.B):
			b.know.AddDomain(e.A, e.B)
		case match.LooksLikeDomain(e.A):
			b.know.AddDomain(e.B, e.A)
		default:
			b.know.AddAlias(e.A, e.B)
		}
		return
	case SubsidiaryLinked:
		k := match.Normalise(e.Subsidiary)
		b.parents[k] = append(b.parents[k], e.Parent)
		return
	case DirectOpportunityRecorded, DirectOpportunityUpdated, DirectOpportunityClosed:
		b.applyDirect(e, position, recordedAt)
		return
	}
	re, ok := e.(RegistrationEvent)
	if !ok {
		return
	}
	c := b.claims[re.AggregateID()]
	if s, ok := e.(RegistrationSubmitted); ok {
		if c == nil {
			c = &claim{id: s.RegistrationID, partnerID: s.PartnerID, typ: s.Type, firstPosition: position, claimedAt: recordedAt}
			b.claims[c.id] = c
		}
		c.account = s.Details.Account
		c.productLines = s.Details.Opportunity.ProductLines
		c.firstContact = s.Details.Relationship.FirstContactDate
		c.value = s.Details.Opportunity.EstimatedValue
		c.hasProof = c.hasProof || len(s.Details.Proof) > 0
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
	case RegistrationRevoked:
		c.status = StatusRevoked
	case RegistrationAttachmentAdded:
		c.hasProof = true
	case RegistrationConflictDecided:
		if e.Result == ConflictLost {
			c.status = StatusRejected
		} else {
			if e.Terms != nil {
				c.protectionEnd, c.extension = e.Terms.ProtectionEnd, e.Terms.ExtensionLength
			}
			c.status = StatusActive
		}
	}
	b.reindex(c)
}

// reindex puts an alive claim in the index and forgets a dead one.
func (b *ClaimBook) reindex(c *claim) {
	key := c.indexKey()
	if b.changed != nil {
		b.changed[c.id] = struct{}{}
	}
	switch {
	case c.claiming():
		if acc, ok := b.indexed[c.id]; !ok || acc != c.account {
			b.index.Add(key, c.matchAccount())
			b.indexed[c.id] = c.account
		}
	case !c.direct && c.status == StatusExpired && c.typ == TypeNamedAccount:
		// A named account may be renewed shortly after expiry: keep it,
		// unindexed.
		b.index.Remove(key)
		delete(b.indexed, c.id)
	default:
		b.index.Remove(key)
		delete(b.indexed, c.id)
		delete(b.claims, c.id)
	}
}

// applyDirect folds a direct-sales opportunity's event. An open direct
// opportunity claims its account like an active registration.
func (b *ClaimBook) applyDirect(e Event, position uint64, recordedAt time.Time) {
	var id uuid.UUID
	var opp *DirectOpportunity
	closed := false
	switch e := e.(type) {
	case DirectOpportunityRecorded:
		id, opp = e.OpportunityID, &e.Opportunity
	case DirectOpportunityUpdated:
		id, opp = e.OpportunityID, &e.Opportunity
	case DirectOpportunityClosed:
		id, closed = e.OpportunityID, true
	}
	c := b.claims[id]
	if c == nil {
		if opp == nil {
			return
		}
		c = &claim{id: id, direct: true, typ: TypeOpportunity, firstPosition: position, claimedAt: recordedAt, status: StatusActive, hasProof: true}
		b.claims[id] = c
	}
	if opp != nil {
		c.account, c.productLines, c.owner = opp.Account, opp.ProductLines, opp.Owner
		c.firstContact, c.value = opp.FirstContactDate, opp.EstimatedValue
	}
	if closed {
		c.status = StatusClosedLost // any close ends the vendor's claim
	}
	b.reindex(c)
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
	if c.direct {
		return true // open until closed
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

func (c *claim) matchAccount() match.Account { return matchAccount(c.account) }

func matchAccount(a Account) match.Account {
	return match.Account{Name: a.CompanyName, Domain: a.Domain, Country: a.Country, TaxID: a.TaxID}
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

// MatchSignal is one piece of evidence behind a match, for reviewers.
type MatchSignal struct {
	Name   string  `json:"name"`
	Score  float64 `json:"score"`
	Detail string  `json:"detail,omitempty"`
}

// MatchExplanation says why a claim matched a submission: the claim, how
// sure the matcher is (score in [0,1], verdict "same" or "possible") and
// the signals behind it.
type MatchExplanation struct {
	ClaimID uuid.UUID     `json:"claim_id"`
	Direct  bool          `json:"direct,omitempty"`
	Score   float64       `json:"score"`
	Verdict string        `json:"verdict"`
	Signals []MatchSignal `json:"signals,omitempty"`
	Via     string        `json:"via,omitempty"` // e.g. "headquarters named account"
	// Explanation is the signals in a reviewer's words, with what each
	// added to the log-odds ("shared distinctive word 'telefonica' +0.41;
	// different country −1.20"). Like the rest of a finding it names the
	// other claim's account, so it is never shown to the partner.
	Explanation string `json:"explanation,omitempty"`
}

// Check decides the finding on submission s, recorded at time at, from the
// book as it stands (which must not include s yet):
//
//   - duplicate when an earlier partner claim that still blocks is
//     confidently on the same account (or is a named account of its
//     headquarters) and overlaps in scope; the earliest such claim by
//     ledger order is named first, and OwnClaim says whether it is the
//     submitting partner's own;
//   - possible duplicate when such a claim only possibly matches, when an
//     open direct-sales opportunity matches (partner vs direct), or when
//     another partner holds a territory grant covering the account;
//   - clear otherwise.
//
// CoveredByGrant names the submitting partner's own covering grant, if any.
// Every match comes with its explanation.
func (b *ClaimBook) Check(s RegistrationSubmitted, at time.Time) Finding {
	f := Finding{Attempt: s.Attempt, Verdict: VerdictClear, Model: match.ModelVersion()}
	acc := s.Details.Account
	type hit struct {
		c    *claim
		same bool
		ex   MatchExplanation
	}
	var hits []hit
	consider := func(m match.Match, via string, namedOnly bool) {
		id, err := uuid.Parse(strings.TrimPrefix(m.ID, "d:"))
		if err != nil || id == s.RegistrationID {
			return
		}
		c := b.claims[id]
		if c == nil || !c.blocksAt(at) || (namedOnly && c.typ != TypeNamedAccount) ||
			!scopesOverlap(s.Type, s.Details.Opportunity.ProductLines, c.typ, c.productLines) {
			return
		}
		for _, h := range hits {
			if h.c == c {
				return
			}
		}
		ex := MatchExplanation{ClaimID: c.id, Direct: c.direct, Score: m.Result.Score, Verdict: m.Result.Verdict.String(), Via: via,
			Explanation: m.Result.Explain()}
		for _, sig := range m.Result.Signals {
			ex.Signals = append(ex.Signals, MatchSignal{Name: sig.Name, Score: sig.Score, Detail: sig.Detail})
		}
		hits = append(hits, hit{c: c, same: m.Result.Verdict == match.Same, ex: ex})
	}
	for _, m := range b.index.Candidates(matchAccount(acc), maxCandidates) {
		consider(m, "", false)
	}
	// A named account on the headquarters covers its subsidiaries.
	for _, parent := range b.parents[match.Normalise(acc.CompanyName)] {
		for _, m := range b.index.Candidates(match.Account{Name: parent, Country: acc.Country}, maxCandidates) {
			if m.Result.Verdict == match.Same {
				consider(m, "headquarters named account", true)
			}
		}
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
	var firstSame *claim
	for _, h := range hits {
		if h.c.direct {
			f.DirectMatches = append(f.DirectMatches, h.c.id)
		} else {
			f.Matches = append(f.Matches, h.c.id)
			if h.same && firstSame == nil {
				firstSame = h.c
			}
		}
		f.Explanations = append(f.Explanations, h.ex)
	}
	switch {
	case firstSame != nil:
		f.Verdict = VerdictDuplicate
		f.OwnClaim = firstSame.partnerID == s.PartnerID
		f.Reason = fmt.Sprintf("the account is already registered (%s match)", describeHit(firstSame, acc))
		// Only partner claims decide a duplicate; direct ones are for a
		// conflict case, which a duplicate does not open.
		f.DirectMatches = nil
		f.Explanations = slices.DeleteFunc(f.Explanations, func(e MatchExplanation) bool { return e.Direct })
	case len(f.DirectMatches) > 0:
		f.Verdict = VerdictPossibleDuplicate
		f.Reason = "the account is in the direct-sales pipeline; a conflict case decides"
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
	if len(f.DirectMatches) > MaxVerdictMatches {
		f.DirectMatches = f.DirectMatches[:MaxVerdictMatches]
	}
	if len(f.Explanations) > 2*MaxVerdictMatches {
		f.Explanations = f.Explanations[:2*MaxVerdictMatches]
	}
	return f
}

// ClaimInfo is what the book knows of one claim, for opening a conflict.
type ClaimInfo struct {
	ID           uuid.UUID
	Direct       bool
	PartnerID    string
	Tier         PartnerTier
	Owner        string
	Type         RegistrationType
	Account      Account
	Value        Money
	Position     uint64
	ClaimedAt    time.Time
	FirstContact time.Time
	HasProof     bool
	Status       Status
}

// Claim returns what the book knows of claim id (a registration or a
// direct opportunity) and whether it still claims anything.
func (b *ClaimBook) Claim(id uuid.UUID) (ClaimInfo, bool) {
	c, ok := b.claims[id]
	if !ok {
		return ClaimInfo{}, false
	}
	return ClaimInfo{
		ID: c.id, Direct: c.direct, PartnerID: c.partnerID, Tier: b.tiers[c.partnerID], Owner: c.owner, Type: c.typ,
		Account: c.account, Value: c.value, Position: c.firstPosition, ClaimedAt: c.claimedAt,
		FirstContact: c.firstContact, HasProof: c.hasProof, Status: c.status,
	}, true
}

// describeHit names the signal that matched, for reviewers.
func describeHit(c *claim, acc Account) string {
	if c.account.Domain != "" && strings.EqualFold(c.account.Domain, acc.Domain) {
		return "website domain"
	}
	return "company name"
}
