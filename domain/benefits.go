package domain

import (
	"slices"
	"strings"

	"github.com/shopspring/decimal"
)

// GrantedBenefits are what an approval granted besides protection: the
// discount, the MDF allocation and the presales entitlement, computed by
// the policy in force at the approval from the partner's tier, the
// registration's type and its estimated value. They are embedded in the
// approval event, so a later policy (or a later tier) never changes them.
type GrantedBenefits struct {
	// PolicyVersion is the version that computed them (the approval's).
	PolicyVersion int `json:"policy_version"`
	// PartnerID and Tier are the partner and its tier at the approval.
	PartnerID string      `json:"partner_id"`
	Tier      PartnerTier `json:"tier"`
	// Value is the estimated value the amounts were computed from; zero
	// (omitted) for a registration without one.
	Value    Money               `json:"value,omitzero"`
	Discount DiscountGrant       `json:"discount"`
	MDF      MDFAllocation       `json:"mdf"`
	Presales PresalesEntitlement `json:"presales"`
}

// DiscountGrant is the discount a registration unlocked: the tier's base
// plus the registration bonus of its type, in percent, and that share of
// the estimated value rounded to the currency's minor unit.
type DiscountGrant struct {
	TierBasePercent          decimal.Decimal `json:"tier_base_percent"`
	RegistrationBonusPercent decimal.Decimal `json:"registration_bonus_percent"`
	Percent                  decimal.Decimal `json:"percent"`
	// Amount is Percent of the estimated value; zero (omitted) without
	// one.
	Amount Money `json:"amount,omitzero"`
}

// MDFAllocation is the marketing development funds set aside for the
// registration: the policy's share of the estimated value, rounded to the
// currency's minor unit and capped by the policy's cap for the currency.
type MDFAllocation struct {
	Percent decimal.Decimal `json:"percent"`
	// Amount is the allocation, in the deal's currency; zero when there
	// is none (then NoneReason says why).
	Amount Money `json:"amount,omitzero"`
	// Cap is the policy's cap for the currency, and Capped whether it
	// applied.
	Cap        decimal.Decimal `json:"cap,omitzero"`
	Capped     bool            `json:"capped"`
	NoneReason string          `json:"none_reason,omitempty"`
}

// PresalesEntitlement is the presales support a registration unlocked:
// the policy's level for its deal size, with dedicated resource kinds
// (enterprise deals) or hours of pooled support (smaller ones).
type PresalesEntitlement struct {
	Level       string   `json:"level"`
	Dedicated   []string `json:"dedicated,omitempty"`
	PooledHours int      `json:"pooled_hours,omitempty"`
}

// Entitled reports whether the entitlement gives any presales support.
func (e PresalesEntitlement) Entitled() bool { return len(e.Dedicated) > 0 || e.PooledHours > 0 }

// Reasons a registration gets no MDF allocation.
const (
	MDFNoValue    = "the registration has no estimated value"
	MDFNoCurrency = "the policy sets no MDF cap for the currency"
)

// minorUnits lists the ISO 4217 currencies whose minor unit is not the
// cent: the number of decimals of each. Every other currency has 2.
var minorUnits = map[string]int32{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
	"RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	"CLF": 4, "UYW": 4,
}

// MinorUnits returns the number of decimals of currency's minor unit (2 for
// the cent, 0 for the yen, 3 for the dinar of Kuwait).
func MinorUnits(currency string) int32 {
	if n, ok := minorUnits[strings.ToUpper(currency)]; ok {
		return n
	}
	return 2
}

// RoundMoney rounds amount to currency's minor unit, half to even (banker's
// rounding: 0.125 → 0.12, 0.135 → 0.14), the rounding of every benefit
// amount (see docs/policy.md).
func RoundMoney(amount decimal.Decimal, currency string) decimal.Decimal {
	return amount.RoundBank(MinorUnits(currency))
}

// share returns pct percent of m, rounded to its currency's minor unit.
func share(m Money, pct decimal.Decimal) Money {
	return Money{Amount: RoundMoney(m.Amount.Mul(pct).Div(hundred), m.Currency), Currency: m.Currency}.normalize()
}

// BenefitsFor computes what an approval under p grants a partner of tier
// on a registration of type t with estimated value (zero when it has
// none):
//
//   - discount: the tier's base plus the type's bonus, in percent, exact;
//     and that share of the value, rounded to the minor unit;
//   - MDF: MDFPercent of the value, rounded to the minor unit, at most the
//     cap for the value's currency; none without a value or a cap;
//   - presales: the first level whose threshold for the value's currency
//     the value reaches (a level without a threshold, the last, takes
//     every deal, and one without a value).
func (p Policy) BenefitsFor(partnerID string, tier PartnerTier, t RegistrationType, value Money) GrantedBenefits {
	b := p.Benefits
	value = value.normalize()
	if value.Amount.IsZero() {
		value = Money{}
	}
	g := GrantedBenefits{PolicyVersion: p.Version, PartnerID: partnerID, Tier: tier, Value: value}

	base, bonus := b.TierDiscount[tier], b.RegistrationBonus[t]
	g.Discount = DiscountGrant{TierBasePercent: base, RegistrationBonusPercent: bonus, Percent: base.Add(bonus)}
	if !value.IsZero() {
		g.Discount.Amount = share(value, g.Discount.Percent)
	}

	g.MDF = MDFAllocation{Percent: b.MDFPercent}
	cap, capped := b.MDFCaps[value.Currency]
	switch {
	case value.IsZero():
		g.MDF.NoneReason = MDFNoValue
	case !capped:
		g.MDF.NoneReason = MDFNoCurrency
	default:
		g.MDF.Cap = cap
		g.MDF.Amount = share(value, b.MDFPercent)
		if g.MDF.Amount.Amount.GreaterThan(cap) {
			g.MDF.Amount = Money{Amount: cap, Currency: value.Currency}.normalize()
			g.MDF.Capped = true
		}
	}

	for _, l := range b.Presales {
		if len(l.MinValue) > 0 {
			min, ok := l.MinValue[value.Currency]
			if value.IsZero() || !ok || value.Amount.LessThan(min) {
				continue
			}
		}
		g.Presales = PresalesEntitlement{Level: l.Name, Dedicated: slices.Clone(l.Dedicated), PooledHours: l.PooledHours}
		break
	}
	return g
}
