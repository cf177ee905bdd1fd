package domain_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

func usdMoney(s string) domain.Money {
	return domain.Money{Amount: decimal.RequireFromString(s), Currency: "USD"}
}

// What a named account's partner won on the account in the term: its own
// opportunities on the same registrable domain (or, without a domain, the
// same name in the same country), closed won from the term's start.
func TestRegistration_RenewalFigures(t *testing.T) {
	r := reachTyped(t, domain.TypeNamedAccount, domain.StatusActive) // Empresa XYZ, xyz.example, MX
	start, to := r.ProtectionStart(), r.ProtectionEnd().Add(-10*domain.Day)
	in := start.Add(20 * domain.Day)
	deal := func(edit func(*domain.RenewalDeal)) domain.RenewalDeal {
		d := domain.RenewalDeal{ID: uuid.New(), PartnerID: r.PartnerID(), Type: domain.TypeOpportunity, CompanyName: "Empresa XYZ",
			Domain: "xyz.example", Country: "MX", Value: usdMoney("100000"), ClosedWonAt: in}
		edit(&d)
		return d
	}
	counted := []domain.RenewalDeal{
		deal(func(*domain.RenewalDeal) {}),
		deal(func(d *domain.RenewalDeal) { d.Domain = "www.xyz.example"; d.Value = usdMoney("0.505") }),
		deal(func(d *domain.RenewalDeal) { d.Domain, d.CompanyName = "", "EMPRESA XYZ" }),
		deal(func(d *domain.RenewalDeal) { d.Value = domain.Money{Amount: decimal.NewFromInt(9000), Currency: "EUR"} }),
		deal(func(d *domain.RenewalDeal) { d.ClosedWonAt = start }),
	}
	ignored := []domain.RenewalDeal{
		deal(func(d *domain.RenewalDeal) { d.PartnerID = "another" }),
		deal(func(d *domain.RenewalDeal) { d.Type = domain.TypeNamedAccount }),
		deal(func(d *domain.RenewalDeal) { d.ClosedWonAt = time.Time{} }),
		deal(func(d *domain.RenewalDeal) { d.ClosedWonAt = start.Add(-time.Second) }),
		deal(func(d *domain.RenewalDeal) { d.ClosedWonAt = to }),
		deal(func(d *domain.RenewalDeal) { d.Domain = "other.example" }),
		deal(func(d *domain.RenewalDeal) { d.Domain, d.Country = "", "ES" }),
		deal(func(d *domain.RenewalDeal) { d.ID = r.ID() }),
	}
	f := r.RenewalFigures(append(append([]domain.RenewalDeal{}, ignored...), counted...), to)
	require.Equal(t, len(counted), f.ClosedWon)
	require.Equal(t, "300000.505", f.WonValue["USD"].String(), "exact, never rounded")
	require.Equal(t, "9000", f.WonValue["EUR"].String())
	require.Len(t, f.Deals, len(counted))
	require.Equal(t, start, f.From)
	require.Equal(t, to, f.To)
}

func TestRenewalConditions_Unmet(t *testing.T) {
	figures := domain.RenewalFigures{ClosedWon: 2, WonValue: map[string]decimal.Decimal{"USD": decimal.NewFromInt(150000), "EUR": decimal.NewFromInt(10)}}
	values := func(kv ...string) map[string]decimal.Decimal {
		m := map[string]decimal.Decimal{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = decimal.RequireFromString(kv[i+1])
		}
		return m
	}
	for _, tc := range []struct {
		name string
		c    domain.RenewalConditions
		want []string
	}{
		{"none (version 1)", domain.RenewalConditions{}, nil},
		{"count met exactly", domain.RenewalConditions{MinClosedWon: 2}, nil},
		{"count not met", domain.RenewalConditions{MinClosedWon: 3}, []string{"renewal.min_closed_won"}},
		{"value met exactly", domain.RenewalConditions{MinWonValue: values("USD", "150000")}, nil},
		{"value short by a cent", domain.RenewalConditions{MinWonValue: values("USD", "150000.01")}, []string{"renewal.min_won_value"}},
		{"value met in one of the currencies", domain.RenewalConditions{MinWonValue: values("USD", "900000", "EUR", "10")}, nil},
		{"never added across currencies", domain.RenewalConditions{MinWonValue: values("MXN", "1")}, []string{"renewal.min_won_value"}},
		{"both unmet at once", domain.RenewalConditions{MinClosedWon: 5, MinWonValue: values("USD", "200000")}, []string{"renewal.min_closed_won", "renewal.min_won_value"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, f := range tc.c.Unmet(figures) {
				got = append(got, f.Field)
			}
			require.Equal(t, tc.want, got)
		})
	}
}

// A renewal under a policy with conditions is refused, naming what is
// missing, until the figures meet them, and then records them.
func TestRegistration_RenewUnderConditions(t *testing.T) {
	p := domain.DefaultPolicy()
	p.Renewal = domain.RenewalConditions{MinClosedWon: 1, MinWonValue: map[string]decimal.Decimal{"USD": decimal.NewFromInt(50000)}}
	r := reachTyped(t, domain.TypeNamedAccount, domain.StatusActive)
	at := r.ProtectionEnd().Add(-10 * domain.Day)
	_, err := r.Renew(manager, p, domain.RenewalFigures{WonValue: map[string]decimal.Decimal{}}, at)
	require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err))
	require.Equal(t, []string{"renewal.min_closed_won", "renewal.min_won_value"}, fieldNames(err))
	f := domain.RenewalFigures{ClosedWon: 1, WonValue: map[string]decimal.Decimal{"USD": decimal.NewFromInt(50000)}, Deals: []uuid.UUID{uuid.New()}}
	events := must(t)(r.Renew(manager, p, f, at))
	require.Equal(t, &f, events[0].(domain.RegistrationRenewed).Figures)
	events = must(t)(r.Renew(manager, domain.DefaultPolicy(), domain.RenewalFigures{}, at))
	require.Nil(t, events[0].(domain.RegistrationRenewed).Figures, "version 1 has no conditions and records none")
}
