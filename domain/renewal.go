package domain

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dealreg/dealreg/domain/match"
)

// A named account "puede renovarse basada en rendimiento" (seed): the
// policy's renewal conditions (protection.named_account.renewal_min_closed_won
// and .renewal_min_won_value) are checked against what the partner won on
// the account during the term being renewed, and the renewal records the
// figures it was decided on. See docs/policy.md.

// RenewalDeal is what a renewal needs of one of the partner's deals.
type RenewalDeal struct {
	ID                           uuid.UUID
	PartnerID                    string
	Type                         RegistrationType
	CompanyName, Domain, Country string
	// Value is the final value when the close gave one, else the
	// estimated value.
	Value       Money
	ClosedWonAt time.Time // zero if not closed won
}

// RenewalFigures are what a named account's partner won on the account
// in [From, To): the deals closed won and their value per currency.
type RenewalFigures struct {
	From      time.Time                  `json:"from"`
	To        time.Time                  `json:"to"`
	ClosedWon int                        `json:"closed_won"`
	WonValue  map[string]decimal.Decimal `json:"won_value"`
	Deals     []uuid.UUID                `json:"deals"`
}

// RenewalFigures counts, among deals, the opportunities of r's partner on
// r's account closed won from the start of r's current term until to. A
// deal is on the account when its registrable domain is the account's,
// or, without a domain, when its name normalises to the account's in the
// same country (accountDomain).
func (r *Registration) RenewalFigures(deals []RenewalDeal, to time.Time) RenewalFigures {
	f := RenewalFigures{From: r.protectionStart, To: canonicalTime(to), WonValue: map[string]decimal.Decimal{}, Deals: []uuid.UUID{}}
	acct := r.details.Account
	own, name := accountDomain(acct.Domain), match.Normalise(acct.CompanyName)
	for _, d := range deals {
		if d.ID == r.id || d.PartnerID != r.partnerID || d.Type != TypeOpportunity || d.ClosedWonAt.IsZero() ||
			d.ClosedWonAt.Before(f.From) || !d.ClosedWonAt.Before(f.To) {
			continue
		}
		onAccount := false
		switch {
		case d.Domain != "":
			onAccount = own != "" && accountDomain(d.Domain) == own
		default:
			onAccount = name != "" && match.Normalise(d.CompanyName) == name && strings.EqualFold(d.Country, acct.Country)
		}
		if !onAccount {
			continue
		}
		f.ClosedWon++
		f.Deals = append(f.Deals, d.ID)
		if v := d.Value.normalize(); !v.IsZero() {
			f.WonValue[v.Currency] = f.WonValue[v.Currency].Add(v.Amount)
		}
	}
	return f
}

// accountDomain is the registrable part of a web domain (eTLD+1), or, for
// a domain under no known public suffix (the reserved .example, a company
// intranet name), the domain itself without "www.".
func accountDomain(s string) string {
	if reg := match.RegistrableDomain(s); reg != "" {
		return reg
	}
	return strings.TrimPrefix(normalizeDomain(s), "www.")
}

// Any reports whether c asks for anything.
func (c RenewalConditions) Any() bool { return c.MinClosedWon > 0 || len(c.MinWonValue) > 0 }

// Unmet returns a field error for each condition of c that f does not
// meet: at least MinClosedWon deals closed won, and, when MinWonValue lists
// currencies, a won value reaching the minimum in one of them (values in
// different currencies are never added up).
func (c RenewalConditions) Unmet(f RenewalFigures) []FieldError {
	var out []FieldError
	if f.ClosedWon < c.MinClosedWon {
		out = append(out, FieldError{Field: "renewal.min_closed_won", Code: FieldOutOfRange,
			Message: fmt.Sprintf("%d deals of the account closed won in the term; %d required", f.ClosedWon, c.MinClosedWon)})
	}
	if len(c.MinWonValue) > 0 {
		met := false
		var need []string
		for _, cur := range slices.Sorted(maps.Keys(c.MinWonValue)) {
			least := c.MinWonValue[cur]
			met = met || !f.WonValue[cur].LessThan(least)
			need = append(need, Money{Amount: least, Currency: cur}.String())
		}
		if !met {
			var won []string
			for _, cur := range slices.Sorted(maps.Keys(f.WonValue)) {
				won = append(won, Money{Amount: f.WonValue[cur], Currency: cur}.String())
			}
			if len(won) == 0 {
				won = []string{"nothing"}
			}
			out = append(out, FieldError{Field: "renewal.min_won_value", Code: FieldOutOfRange,
				Message: fmt.Sprintf("won %s in the term; at least %s required", strings.Join(won, " and "), strings.Join(need, " or "))})
		}
	}
	return out
}
