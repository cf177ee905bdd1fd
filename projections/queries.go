package projections

import (
	"cmp"
	"encoding/base64"
	"encoding/binary"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dealreg/dealreg/domain"
)

// Page sizes of List.
const (
	DefaultListLimit = 50
	MaxListLimit     = 500
)

// ListFilter selects registrations for List. Zero fields match everything.
// Country and Region match without regard to case.
type ListFilter struct {
	// Status matches any of the listed statuses.
	Status    []domain.Status
	PartnerID string
	Type      domain.RegistrationType
	Country   string
	Region    string
}

func (f ListFilter) match(v *RegistrationView) bool {
	switch {
	case len(f.Status) > 0 && !slices.Contains(f.Status, v.Status),
		f.PartnerID != "" && v.PartnerID != f.PartnerID,
		f.Type != "" && v.Type != f.Type,
		f.Country != "" && !strings.EqualFold(v.Country, f.Country),
		f.Region != "" && !strings.EqualFold(v.Region, f.Region):
		return false
	}
	return true
}

// cursorVersion prefixes every cursor, so the encoding can change later
// without old cursors being misread.
const cursorVersion = 1

// encodeCursor makes the opaque cursor that resumes a listing after the
// registration created at position pos.
func encodeCursor(pos uint64) string {
	b := make([]byte, 9)
	b[0] = cursorVersion
	binary.BigEndian.PutUint64(b[1:], pos)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (uint64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 9 || b[0] != cursorVersion {
		return 0, &domain.Error{Code: domain.EINVALID, Message: "the cursor is invalid", Fields: []domain.FieldError{
			{Field: "cursor", Code: "invalid", Message: "must be a cursor returned by a previous page"},
		}}
	}
	return binary.BigEndian.Uint64(b[1:]), nil
}

// List returns up to limit registrations matching filter, in creation
// order, after cursor ("" for the first page), and the cursor of the next
// page ("" when there is none). A limit of 0 or less means
// DefaultListLimit; more than MaxListLimit means MaxListLimit. An invalid
// cursor is an EINVALID *domain.Error.
//
// Registrations never change place in this order and new ones come last,
// so paging with the returned cursors visits every registration that
// existed when paging began exactly once, whatever arrives in between.
func (p *Registrations) List(filter ListFilter, cursor string, limit int) ([]RegistrationView, string, error) {
	var start int
	if limit <= 0 {
		limit = DefaultListLimit
	}
	limit = min(limit, MaxListLimit)
	p.mu.RLock()
	defer p.mu.RUnlock()
	if cursor != "" {
		after, err := decodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		start = sort.Search(len(p.ordered), func(i int) bool { return p.ordered[i].position > after })
	}
	var items []RegistrationView
	for _, r := range p.ordered[start:] {
		if !filter.match(&r.view) {
			continue
		}
		if len(items) == limit {
			return items, encodeCursor(items[len(items)-1].Position), nil
		}
		items = append(items, r.view.clone())
	}
	return items, "", nil
}

// ReviewItem is a registration awaiting a reviewer's decision.
type ReviewItem struct {
	RegistrationView
	// DueAt is when the decision is due: the recorded time of the latest
	// submission plus the review SLA of the policy it was submitted under.
	DueAt time.Time `json:"due_at"`
}

// Overdue reports whether the decision is late at time at. The projection
// has no clock, so the caller says what time it is.
func (i ReviewItem) Overdue(at time.Time) bool { return at.After(i.DueAt) }

// awaitsDecision reports whether a registration in status s waits for a
// reviewer: a verdict let it through (clear or possibly a duplicate) or a
// review is under way. A submission still waiting for its verdict does not:
// the duplicate check, not a person, acts next.
func awaitsDecision(s domain.Status) bool {
	return s == domain.StatusCleared || s == domain.StatusPossibleDuplicate || s == domain.StatusUnderReview
}

// ReviewQueue returns up to limit registrations awaiting a decision (all of
// them when limit is 0 or less), oldest submission first by ledger order.
// It is an EINTERNAL error when a submission names a policy version the
// projection's PolicyLookup does not know: that is a wiring mistake, and a
// guessed deadline would be worse than none.
func (p *Registrations) ReviewQueue(limit int) ([]ReviewItem, error) {
	p.mu.RLock()
	waiting := make([]*registration, 0)
	for _, r := range p.ordered {
		if awaitsDecision(r.view.Status) {
			waiting = append(waiting, r)
		}
	}
	slices.SortFunc(waiting, func(a, b *registration) int { return cmp.Compare(a.lastSubmittedPos, b.lastSubmittedPos) })
	if limit > 0 && len(waiting) > limit {
		waiting = waiting[:limit]
	}
	items := make([]ReviewItem, len(waiting))
	for i, r := range waiting {
		items[i] = ReviewItem{RegistrationView: r.view.clone()}
	}
	p.mu.RUnlock()

	for i := range items {
		v := &items[i].RegistrationView
		policy, ok := p.policies(v.SubmittedPolicyVersion)
		if !ok {
			return nil, domain.Errorf(domain.EINTERNAL, "review queue: registration %s was submitted under unknown policy version %d", v.ID, v.SubmittedPolicyVersion)
		}
		items[i].DueAt = v.LastSubmittedAt.Add(policy.ReviewSLA)
	}
	return items, nil
}

// ExpiringBefore returns the protected registrations (active, or with an
// extension request pending) whose protection lapses before t, soonest
// first. For an active registration that is its protection end; while an
// extension request is pending it is the end plus the extension length, as
// domain.Registration.Due decides. The expiry scheduler asks with t = now
// to expire, and with t = now + the reminder lead time to remind; Due then
// decides what is due exactly.
func (p *Registrations) ExpiringBefore(t time.Time) []RegistrationView {
	p.mu.RLock()
	var out []RegistrationView
	for _, r := range p.ordered {
		if r.view.Status.Protected() && r.view.ProtectionLapsesAt.Before(t) {
			out = append(out, r.view.clone())
		}
	}
	p.mu.RUnlock()
	slices.SortStableFunc(out, func(a, b RegistrationView) int { return a.ProtectionLapsesAt.Compare(b.ProtectionLapsesAt) })
	return out
}
