package domain_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

var (
	termFrom = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	termTo   = termFrom.Add(365 * domain.Day)
)

func contractGrant(c domain.GrantContract) domain.TerritoryGrant {
	return domain.TerritoryGrant{PartnerID: "p1", Country: "MX", Region: "Northeast", Vertical: "Healthcare", ValidFrom: termFrom, ValidTo: termTo, Contract: &c}
}

func TestGrantContract_Validate(t *testing.T) {
	g := contractGrant(domain.GrantContract{Renew: true, MinApproved: -1, MinClosedWon: 10001, MinApprovedValue: map[string]decimal.Decimal{"USD": dec("0"), "usd": dec("5")}})
	g.ValidTo = termFrom.Add(367 * domain.Day)
	require.ElementsMatch(t, []string{"valid_to", "contract.min_approved", "contract.min_closed_won", "contract.min_approved_value.USD", "contract.min_approved_value.usd"}, fieldNames(g.Validate()))
	require.NoError(t, contractGrant(domain.GrantContract{Renew: true, MinApproved: 2}).Validate())
	// Without a contract a grant may run longer, as before.
	long := contractGrant(domain.GrantContract{})
	long.Contract, long.ValidTo = nil, termFrom.Add(3*365*domain.Day)
	require.NoError(t, long.Validate())
}

func TestCountGrantFigures(t *testing.T) {
	g := contractGrant(domain.GrantContract{})
	mid := termFrom.Add(100 * domain.Day)
	id := func(n byte) uuid.UUID { return uuid.UUID{15: n} }
	reg := func(n byte, approved, won time.Time, mods ...func(*domain.GrantRegistration)) domain.GrantRegistration {
		r := domain.GrantRegistration{ID: id(n), PartnerID: "p1", Country: "MX", Region: "northeast", Industry: "Healthcare",
			Value: money("100000.50", "USD"), ApprovedAt: approved, ClosedWonAt: won}
		for _, m := range mods {
			m(&r)
		}
		return r
	}
	f := domain.CountGrantFigures(g, []domain.GrantRegistration{
		reg(1, mid, mid.Add(domain.Day)), // counted, won in term
		reg(2, mid, termTo),              // counted; won after the term
		reg(3, termFrom, time.Time{}, func(r *domain.GrantRegistration) { r.Value = money("5000", "mxn") }), // the term's first instant
		reg(4, termTo, time.Time{}),                                                              // after the term
		reg(5, termFrom.Add(-time.Second), mid),                                                  // before the term
		reg(6, mid, mid, func(r *domain.GrantRegistration) { r.Industry = "Retail" }),            // not covered
		reg(7, mid, mid, func(r *domain.GrantRegistration) { r.PartnerID = "p2" }),               // another partner's
		reg(8, time.Time{}, time.Time{}),                                                         // never approved
		reg(9, mid, time.Time{}, func(r *domain.GrantRegistration) { r.Value = domain.Money{} }), // no value
	})
	require.Equal(t, 4, f.Approved)
	require.Equal(t, []uuid.UUID{id(1), id(2), id(3), id(9)}, f.Registrations)
	require.Equal(t, 1, f.ClosedWon)
	require.Len(t, f.ApprovedValue, 2)
	require.Equal(t, "200001", f.ApprovedValue["USD"].String())
	require.Equal(t, "5000", f.ApprovedValue["MXN"].String())
}

func TestDecideGrantTerm(t *testing.T) {
	id, next := uuid.UUID{15: 1}, uuid.UUID{15: 2}
	figures := domain.GrantFigures{Approved: 3, ApprovedValue: map[string]decimal.Decimal{"USD": dec("300000")}, ClosedWon: 1}
	for _, tc := range []struct {
		name     string
		contract domain.GrantContract
		figures  domain.GrantFigures
		at       time.Time
		decided  bool
		code     string
		outcome  string
		unmet    []string
	}{
		{"requirements met: renewed", domain.GrantContract{Renew: true, MinApproved: 3, MinClosedWon: 1, MinApprovedValue: map[string]decimal.Decimal{"USD": dec("300000")}}, figures, termTo, false, "", domain.GrantRenewed, nil},
		{"every unmet requirement named", domain.GrantContract{Renew: true, MinApproved: 4, MinClosedWon: 2, MinApprovedValue: map[string]decimal.Decimal{"USD": dec("300000.01"), "EUR": dec("1")}}, figures, termTo.Add(domain.Day), false, "", domain.GrantLapsed,
			[]string{"3 registrations approved, 4 required", "0 EUR approved, 1 required", "300000 USD approved, 300000.01 required", "1 closed won, 2 required"}},
		{"a contract that does not renew lapses", domain.GrantContract{Renew: false}, figures, termTo, false, "", domain.GrantLapsed, []string{"the contract does not renew"}},
		{"no figures at all", domain.GrantContract{Renew: true, MinApproved: 1}, domain.GrantFigures{}, termTo, false, "", domain.GrantLapsed, []string{"0 registrations approved, 1 required"}},
		{"before the term ends", domain.GrantContract{Renew: true}, figures, termTo.Add(-time.Nanosecond), false, domain.ECONFLICT, "", nil},
		{"decided already", domain.GrantContract{Renew: true}, figures, termTo, true, domain.ECONFLICT, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := contractGrant(tc.contract)
			events, err := domain.DecideGrantTerm(id, g, tc.figures, tc.decided, next, domain.DefaultPolicy(), tc.at)
			require.Equal(t, tc.code, domain.ErrorCode(err), "%v", err)
			if tc.code != "" {
				return
			}
			d := events[0].(domain.GrantTermDecided)
			require.Equal(t, tc.outcome, d.Outcome)
			require.Equal(t, tc.unmet, d.Unmet)
			require.Equal(t, termFrom, d.TermFrom)
			require.Equal(t, termTo, d.TermTo)
			require.Equal(t, 1, d.PolicyVersion)
			if tc.outcome == domain.GrantLapsed {
				require.Len(t, events, 1)
				require.Equal(t, uuid.Nil, d.RenewedAs)
				return
			}
			require.Len(t, events, 2)
			require.Equal(t, next, d.RenewedAs)
			renewal := events[1].(domain.TerritoryGranted)
			require.Equal(t, next, renewal.GrantID)
			require.Equal(t, termTo, renewal.Grant.ValidFrom)
			require.Equal(t, termTo.Add(365*domain.Day), renewal.Grant.ValidTo, "a term as long as the last")
			require.Equal(t, g.Region, renewal.Grant.Region)
			require.Equal(t, tc.contract, *renewal.Grant.Contract)
			require.NoError(t, renewal.Grant.Validate())
		})
	}
	_, err := domain.DecideGrantTerm(id, domain.TerritoryGrant{PartnerID: "p1", Country: "MX", ValidFrom: termFrom, ValidTo: termTo}, figures, false, next, domain.DefaultPolicy(), termTo)
	require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err), "not a contract grant")
}
