package domain

import (
	"strings"
	"time"
)

// TerritoryGrant gives a partner exclusive rights in a territory, a vertical,
// or both ("Healthcare — Northeast US"), usually for the term of its annual
// partner contract. Every qualifying opportunity there belongs to the partner
// by default, without deal-by-deal registration.
//
// Country is required. An empty Region covers the whole country; an empty
// Vertical covers every industry. Region and Vertical match the
// registration's account region and industry without regard to case or
// surrounding white space. The grant is valid from ValidFrom (inclusive) to
// ValidTo (exclusive).
type TerritoryGrant struct {
	PartnerID string    `json:"partner_id"`
	Country   string    `json:"country"`
	Region    string    `json:"region,omitempty"`
	Vertical  string    `json:"vertical,omitempty"`
	ValidFrom time.Time `json:"valid_from"`
	ValidTo   time.Time `json:"valid_to"`
	// Contract, when set, makes the grant an annual contract with
	// performance requirements, renewed or lapsed at term end from the
	// ledger's figures (grant_contract.go).
	Contract *GrantContract `json:"contract,omitempty"`
}

// Validate checks the grant and returns one EINVALID *Error listing every
// failing field, or nil.
func (g TerritoryGrant) Validate() error {
	var v validator
	v.requiredText("partner_id", g.PartnerID, 100, false)
	switch {
	case g.Country == "":
		v.add("country", FieldRequired, "is required")
	case !ValidCountry(g.Country):
		v.add("country", FieldInvalid, "must be an ISO 3166-1 alpha-2 country code such as US")
	}
	v.text("region", g.Region, MaxRegionLen, false)
	v.text("vertical", g.Vertical, MaxIndustryLen, false)
	switch {
	case g.ValidFrom.IsZero():
		v.add("valid_from", FieldRequired, "is required")
	case g.ValidTo.IsZero():
		v.add("valid_to", FieldRequired, "is required")
	case !g.ValidTo.After(g.ValidFrom):
		v.add("valid_to", FieldOutOfRange, "must be after valid_from")
	}
	g.Contract.validate(&v, g)
	return v.err("the territory grant is invalid")
}

// Covers reports whether the grant, whoever holds it, covers an account in
// country and region with industry at time at.
func (g TerritoryGrant) Covers(country, region, industry string, at time.Time) bool {
	if at.Before(g.ValidFrom) || !at.Before(g.ValidTo) {
		return false
	}
	if !strings.EqualFold(strings.TrimSpace(g.Country), strings.TrimSpace(country)) {
		return false
	}
	if g.Region != "" && !sameName(g.Region, region) {
		return false
	}
	return g.Vertical == "" || sameName(g.Vertical, industry)
}

// specificity ranks grants: a region-and-vertical grant is more specific
// than a region-only or vertical-only one, which beat a whole-country grant.
func (g TerritoryGrant) specificity() int {
	n := 0
	if g.Region != "" {
		n++
	}
	if g.Vertical != "" {
		n++
	}
	return n
}

func sameName(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// CoveredByGrant reports whether one of grants held by partnerID covers an
// account in country and region with industry at time at, and returns that
// grant. An empty partnerID matches grants of any partner, which tells who
// holds a territory. When several grants cover, the most specific wins
// (region and vertical, then either, then the whole country), then the one
// valid earliest, then the first in grants, so the answer is deterministic.
func CoveredByGrant(grants []TerritoryGrant, partnerID, country, region, industry string, at time.Time) (TerritoryGrant, bool) {
	var best TerritoryGrant
	found := false
	for _, g := range grants {
		if partnerID != "" && g.PartnerID != partnerID {
			continue
		}
		if !g.Covers(country, region, industry, at) {
			continue
		}
		if !found || g.specificity() > best.specificity() ||
			(g.specificity() == best.specificity() && g.ValidFrom.Before(best.ValidFrom)) {
			best, found = g, true
		}
	}
	return best, found
}
