package domain_test

import (
	"encoding/json"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func money(amount, currency string) domain.Money {
	return domain.Money{Amount: dec(amount), Currency: currency}
}

func TestRoundMoney(t *testing.T) {
	for _, tc := range []struct {
		in, currency, want string
	}{
		{"0.125", "USD", "0.12"}, // half to even: down to the even cent
		{"0.135", "USD", "0.14"}, // half to even: up to the even cent
		{"0.1251", "USD", "0.13"},
		{"1234.565", "EUR", "1234.56"},
		{"1234.575", "EUR", "1234.58"},
		{"2700.5", "MXN", "2700.5"},
		{"2.5", "JPY", "2"},
		{"3.5", "JPY", "4"},
		{"1.0005", "KWD", "1"},
		{"1.0015", "KWD", "1.002"},
		{"0.00005", "CLF", "0"},
	} {
		t.Run(tc.in+" "+tc.currency, func(t *testing.T) {
			got := domain.RoundMoney(dec(tc.in), tc.currency)
			require.True(t, dec(tc.want).Equal(got), "got %s", got)
		})
	}
	require.Equal(t, int32(2), domain.MinorUnits("USD"))
	require.Equal(t, int32(0), domain.MinorUnits("JPY"))
	require.Equal(t, int32(3), domain.MinorUnits("KWD"))
}

// Version 1's numbers: tier base registered 0, silver 5, gold 10, platinum
// 15; bonus opportunity 10, named account 5; MDF 2% capped at USD 25000,
// EUR 23000, MXN 450000; presales enterprise from USD 250000 / EUR 230000 /
// MXN 4500000 (engineer and architect), 10 pooled hours below.
func TestPolicy_BenefitsFor(t *testing.T) {
	p := domain.DefaultPolicy()
	enterprise := domain.PresalesEntitlement{Level: "enterprise", Dedicated: []string{domain.PresalesEngineer, domain.SolutionsArchitect}}
	standard := domain.PresalesEntitlement{Level: "standard", PooledHours: 10}
	for _, tc := range []struct {
		name        string
		tier        domain.PartnerTier
		typ         domain.RegistrationType
		value       domain.Money
		discountPct string
		discount    string // "" for none
		mdf         string // "" for none
		capped      bool
		none        string
		presales    domain.PresalesEntitlement
	}{
		{"gold opportunity in USD", domain.TierGold, domain.TypeOpportunity, money("150000.00", "USD"), "20", "30000", "3000", false, "", standard},
		{"odd cents round half to even (down)", domain.TierSilver, domain.TypeOpportunity, money("12345.25", "USD"), "15", "1851.79", "246.9", false, "", standard},
		// 15% of 1234.50 is 185.175 → 185.18 (the 7 is odd: up); 2% is 24.69.
		{"odd cents round half to even (up)", domain.TierSilver, domain.TypeOpportunity, money("1234.50", "EUR"), "15", "185.18", "24.69", false, "", standard},
		// 2% of 0.625 MXN is 0.0125 → 0.01 (even), 20% is 0.125 → 0.12.
		{"a half cent rounds to even", domain.TierGold, domain.TypeOpportunity, money("0.625", "MXN"), "20", "0.12", "0.01", false, "", standard},
		{"EUR at the enterprise threshold", domain.TierPlatinum, domain.TypeOpportunity, money("230000", "EUR"), "25", "57500", "4600", false, "", enterprise},
		// 10% of 249999.99 is 24999.999 → 25000.00, 2% 4999.9998 → 5000.00.
		{"USD just under the threshold", domain.TierRegistered, domain.TypeOpportunity, money("249999.99", "USD"), "10", "25000", "5000", false, "", standard},
		{"MDF capped in USD", domain.TierGold, domain.TypeOpportunity, money("2000000", "USD"), "20", "400000", "25000", true, "", enterprise},
		{"MDF capped in MXN", domain.TierGold, domain.TypeOpportunity, money("30000000", "MXN"), "20", "6000000", "450000", true, "", enterprise},
		{"no cap for the currency: no MDF", domain.TierGold, domain.TypeOpportunity, money("500000", "GBP"), "20", "100000", "", false, domain.MDFNoCurrency, standard},
		{"JPY rounds to the yen", domain.TierGold, domain.TypeOpportunity, money("1234567", "JPY"), "20", "246913", "", false, domain.MDFNoCurrency, standard},
		{"named account without a value", domain.TierPlatinum, domain.TypeNamedAccount, domain.Money{}, "20", "", "", false, domain.MDFNoValue, standard},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := p.BenefitsFor("acme", tc.tier, tc.typ, tc.value)
			require.Equal(t, 1, g.PolicyVersion)
			require.Equal(t, "acme", g.PartnerID)
			require.Equal(t, tc.tier, g.Tier)
			require.True(t, dec(tc.discountPct).Equal(g.Discount.Percent), "discount percent %s", g.Discount.Percent)
			require.True(t, g.Discount.TierBasePercent.Add(g.Discount.RegistrationBonusPercent).Equal(g.Discount.Percent))
			if tc.discount == "" {
				require.True(t, g.Discount.Amount.IsZero())
			} else {
				require.True(t, dec(tc.discount).Equal(g.Discount.Amount.Amount), "discount %s", g.Discount.Amount)
				require.Equal(t, tc.value.Currency, g.Discount.Amount.Currency)
			}
			if tc.mdf == "" {
				require.True(t, g.MDF.Amount.IsZero(), "mdf %s", g.MDF.Amount)
				require.Equal(t, tc.none, g.MDF.NoneReason)
			} else {
				require.True(t, dec(tc.mdf).Equal(g.MDF.Amount.Amount), "mdf %s", g.MDF.Amount)
				require.Equal(t, tc.value.Currency, g.MDF.Amount.Currency)
				require.Empty(t, g.MDF.NoneReason)
			}
			require.Equal(t, tc.capped, g.MDF.Capped)
			require.Equal(t, tc.presales, g.Presales)

			// The grant survives its JSON round trip exactly, as it must
			// inside an approval event.
			raw, err := json.Marshal(g)
			require.NoError(t, err)
			var back domain.GrantedBenefits
			require.NoError(t, json.Unmarshal(raw, &back))
			require.Equal(t, g, back)
		})
	}
}

// A version with other numbers grants other benefits; a currency listed by
// one level but not another falls through to the next level.
func TestPolicy_BenefitsFor_OtherVersion(t *testing.T) {
	p := domain.DefaultPolicy()
	p.Version = 2
	p.Benefits.RegistrationBonus[domain.TypeOpportunity] = dec("12.5")
	p.Benefits.MDFPercent = dec("3.75")
	p.Benefits.MDFCaps["USD"] = dec("4000")
	p.Benefits.Presales = []domain.PresalesLevel{
		{Name: "strategic", MinValue: map[string]decimal.Decimal{"EUR": dec("100000")}, Dedicated: []string{domain.SolutionsArchitect}},
		{Name: "pooled", PooledHours: 25},
	}
	require.NoError(t, p.Validate())
	g := p.BenefitsFor("acme", domain.TierGold, domain.TypeOpportunity, money("100000", "USD"))
	require.Equal(t, 2, g.PolicyVersion)
	require.Equal(t, "22.5", g.Discount.Percent.String())
	require.Equal(t, "22500", g.Discount.Amount.Amount.String())
	require.Equal(t, "3750", g.MDF.Amount.Amount.String())
	require.Equal(t, domain.PresalesEntitlement{Level: "pooled", PooledHours: 25}, g.Presales, "USD is not a strategic currency")
	g = p.BenefitsFor("acme", domain.TierGold, domain.TypeOpportunity, money("200000", "USD"))
	require.Equal(t, "4000", g.MDF.Amount.Amount.String())
	require.True(t, g.MDF.Capped)
	g = p.BenefitsFor("acme", domain.TierGold, domain.TypeOpportunity, money("100000", "EUR"))
	require.Equal(t, domain.PresalesEntitlement{Level: "strategic", Dedicated: []string{domain.SolutionsArchitect}}, g.Presales)
}

// A cap finer than the currency's minor unit could grant what cannot be
// paid; the document is refused.
func TestPolicy_ValidateMDFCapsMinorUnit(t *testing.T) {
	p := domain.DefaultPolicy()
	p.Benefits.MDFCaps["JPY"] = dec("1000.5")
	p.Benefits.MDFCaps["USD"] = dec("25000.125")
	require.ElementsMatch(t, []string{"benefits.mdf.caps.JPY", "benefits.mdf.caps.USD"}, fieldNames(p.Validate()))
}

// The approval event embeds the benefits; a registration approved without
// them (an approval recorded before benefits) still replays, granting none.
func TestRegistration_ApproveGranting(t *testing.T) {
	r := reach(t, domain.StatusUnderReview)
	events := must(t)(r.ApproveGranting(manager, domain.DefaultPolicy(), domain.TierPlatinum, approvedAt))
	a := events[0].(domain.RegistrationApproved)
	require.NotNil(t, a.Benefits)
	require.Equal(t, "partner-1", a.Benefits.PartnerID)
	require.Equal(t, "25", a.Benefits.Discount.Percent.String())
	require.Equal(t, "37500", a.Benefits.Discount.Amount.Amount.String())
	require.Equal(t, "3000", a.Benefits.MDF.Amount.Amount.String())
	typ, version, data, err := domain.EncodeEvent(a)
	require.NoError(t, err)
	decoded, err := domain.DecodeEvent(typ, version, data)
	require.NoError(t, err)
	require.Equal(t, a, decoded)
	apply(t, r, events)
	got, ok := r.Benefits()
	require.True(t, ok)
	require.Equal(t, *a.Benefits, got)

	_, err = reach(t, domain.StatusUnderReview).ApproveGranting(manager, domain.DefaultPolicy(), "", approvedAt)
	require.Equal(t, domain.EINTERNAL, domain.ErrorCode(err))

	// An approval as recorded before benefits existed.
	old := reach(t, domain.StatusUnderReview)
	legacy := []byte(`{"registration_id":"` + old.ID().String() + `","approved_by":"user-cm","terms":{"policy_version":1,"type":"opportunity","protection_start":"2026-01-05T12:00:00Z","protection_end":"2026-04-05T12:00:00Z","max_extensions":2,"extension_length_ns":2592000000000000},"at":"2026-01-05T12:00:00Z"}`)
	ev, err := domain.DecodeEvent("RegistrationApproved", 1, legacy)
	require.NoError(t, err)
	require.Nil(t, ev.(domain.RegistrationApproved).Benefits)
	require.NoError(t, old.Apply(ev))
	require.Equal(t, domain.StatusActive, old.Status())
	_, ok = old.Benefits()
	require.False(t, ok)
}
