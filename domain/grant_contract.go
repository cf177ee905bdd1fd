package domain

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// MaxGrantTerm is the longest term of a contract grant: a territory or
// vertical grant is part of the partner's annual contract (a day of slack
// for a leap year).
const MaxGrantTerm = 366 * Day

// GrantContract makes a territory grant a contract: an annual term and the
// performance the partner must show during it for the grant to be renewed
// at term end. The figures are the ledger's: registrations of the partner
// whose account the grant covers, approved during the term, and those of
// them closed won during it.
type GrantContract struct {
	// Renew says whether the grant is renewed for another term when the
	// requirements are met; a grant without it lapses at term end.
	Renew bool `json:"renew"`
	// MinApproved and MinClosedWon are counts the term must reach;
	// MinApprovedValue the approved estimated value per currency (a
	// currency not listed has no value condition).
	MinApproved      int                        `json:"min_approved"`
	MinApprovedValue map[string]decimal.Decimal `json:"min_approved_value,omitempty"`
	MinClosedWon     int                        `json:"min_closed_won"`
}

// validate checks the contract of g.
func (c *GrantContract) validate(v *validator, g TerritoryGrant) {
	if c == nil {
		return
	}
	if !g.ValidFrom.IsZero() && g.ValidTo.After(g.ValidFrom) && g.ValidTo.Sub(g.ValidFrom) > MaxGrantTerm {
		v.add("valid_to", FieldOutOfRange, "a contract grant's term is at most a year")
	}
	if c.MinApproved < 0 || c.MinApproved > 10000 {
		v.add("contract.min_approved", FieldOutOfRange, "must be between 0 and 10000")
	}
	if c.MinClosedWon < 0 || c.MinClosedWon > 10000 {
		v.add("contract.min_closed_won", FieldOutOfRange, "must be between 0 and 10000")
	}
	v.amounts("contract.min_approved_value", c.MinApprovedValue, true)
}

// GrantFigures are what a grant's partner achieved in a term, from the
// ledger.
type GrantFigures struct {
	Approved      int                        `json:"approved"`
	ApprovedValue map[string]decimal.Decimal `json:"approved_value"`
	ClosedWon     int                        `json:"closed_won"`
	// Registrations are the registrations counted, approved in the term.
	Registrations []uuid.UUID `json:"registrations"`
}

// The outcomes of a grant's term.
const (
	GrantRenewed = "renewed"
	GrantLapsed  = "lapsed"
)

// GrantTermDecided records what happened to a contract grant at the end of
// its term, decided from the ledger's figures: renewed (a new grant,
// RenewedAs, takes the next term, recorded with it as TerritoryGranted) or
// lapsed, with the requirements that were not met.
type GrantTermDecided struct {
	GrantID   uuid.UUID     `json:"grant_id"`
	PartnerID string        `json:"partner_id"`
	Outcome   string        `json:"outcome"`
	TermFrom  time.Time     `json:"term_from"`
	TermTo    time.Time     `json:"term_to"`
	Contract  GrantContract `json:"contract"`
	Figures   GrantFigures  `json:"figures"`
	// Unmet lists the requirements not met, in words; empty when renewed.
	Unmet     []string  `json:"unmet,omitempty"`
	RenewedAs uuid.UUID `json:"renewed_as,omitzero"`
	// PolicyVersion is the policy in force at the decision (the
	// requirements are the contract's own).
	PolicyVersion int       `json:"policy_version"`
	DecidedBy     string    `json:"decided_by"`
	At            time.Time `json:"at"`
}

// EventType returns "GrantTermDecided".
func (GrantTermDecided) EventType() string { return "GrantTermDecided" }

// Unmet returns the requirements of c the figures do not meet, in words.
func (c GrantContract) Unmet(f GrantFigures) []string {
	var out []string
	if f.Approved < c.MinApproved {
		out = append(out, fmt.Sprintf("%d registrations approved, %d required", f.Approved, c.MinApproved))
	}
	for _, cur := range slices.Sorted(maps.Keys(c.MinApprovedValue)) {
		min, got := c.MinApprovedValue[cur], f.ApprovedValue[cur]
		if got.LessThan(min) {
			out = append(out, fmt.Sprintf("%s %s approved, %s required", got.String(), cur, min.String()))
		}
	}
	if f.ClosedWon < c.MinClosedWon {
		out = append(out, fmt.Sprintf("%d closed won, %d required", f.ClosedWon, c.MinClosedWon))
	}
	return out
}

// DecideGrantTerm decides what happens to contract grant id (g) at the end
// of its term, at now (from the term's end on), from the figures: renewed
// for a term as long as the last when the contract renews and every
// requirement is met (newID names the next term's grant), else lapsed.
// decided tells whether the term's end was decided already; p is the
// policy in force at now, which the decision names.
func DecideGrantTerm(id uuid.UUID, g TerritoryGrant, f GrantFigures, decided bool, newID uuid.UUID, p Policy, now time.Time) ([]Event, error) {
	if g.Contract == nil {
		return nil, Errorf(ECONFLICT, "grant %s is not a contract grant", id)
	}
	if now.Before(g.ValidTo) {
		return nil, Errorf(ECONFLICT, "the term of grant %s ends at %s", id, g.ValidTo.Format(time.RFC3339))
	}
	if decided {
		return nil, Errorf(ECONFLICT, "the term of grant %s was decided already", id)
	}
	if f.ApprovedValue == nil {
		f.ApprovedValue = map[string]decimal.Decimal{}
	}
	unmet := g.Contract.Unmet(f)
	if !g.Contract.Renew {
		unmet = append([]string{"the contract does not renew"}, unmet...)
	}
	now = canonicalTime(now)
	d := GrantTermDecided{
		GrantID: id, PartnerID: g.PartnerID, TermFrom: g.ValidFrom, TermTo: g.ValidTo, Contract: *g.Contract,
		Figures: f, Unmet: unmet, PolicyVersion: p.Version, DecidedBy: "system", At: now,
	}
	if len(unmet) > 0 {
		d.Outcome = GrantLapsed
		return []Event{d}, nil
	}
	d.Outcome, d.RenewedAs = GrantRenewed, newID
	next := g
	next.ValidFrom, next.ValidTo = g.ValidTo, g.ValidTo.Add(g.ValidTo.Sub(g.ValidFrom))
	c := *g.Contract
	c.MinApprovedValue = maps.Clone(c.MinApprovedValue)
	next.Contract = &c
	return []Event{d, TerritoryGranted{GrantID: newID, Grant: next, GrantedBy: "system", At: now}}, nil
}

// CountGrantFigures adds up the figures of grant g's term from its
// partner's registrations: approved (first approval) within the term with
// an account the grant covered then, and of those, closed won within the
// term.
func CountGrantFigures(g TerritoryGrant, regs []GrantRegistration) GrantFigures {
	f := GrantFigures{ApprovedValue: map[string]decimal.Decimal{}, Registrations: []uuid.UUID{}}
	in := func(t time.Time) bool { return !t.IsZero() && !t.Before(g.ValidFrom) && t.Before(g.ValidTo) }
	for _, r := range regs {
		if r.PartnerID != g.PartnerID || !in(r.ApprovedAt) || !g.Covers(r.Country, r.Region, r.Industry, r.ApprovedAt) {
			continue
		}
		f.Approved++
		f.Registrations = append(f.Registrations, r.ID)
		if v := r.Value; !v.IsZero() {
			cur := strings.ToUpper(v.Currency)
			f.ApprovedValue[cur] = f.ApprovedValue[cur].Add(v.Amount)
		}
		if in(r.ClosedWonAt) {
			f.ClosedWon++
		}
	}
	return f
}

// GrantRegistration is what a grant's figures need of one registration.
type GrantRegistration struct {
	ID                        uuid.UUID
	PartnerID                 string
	Country, Region, Industry string
	Value                     Money
	ApprovedAt                time.Time // zero if never approved
	ClosedWonAt               time.Time // zero if not closed won
}
