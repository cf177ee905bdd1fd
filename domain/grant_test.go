package domain_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

func TestCoveredByGrant(t *testing.T) {
	year := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	next := year.AddDate(1, 0, 0)
	grants := []domain.TerritoryGrant{
		{PartnerID: "p1", Country: "US", Region: "Northeast", Vertical: "Healthcare", ValidFrom: year, ValidTo: next},
		{PartnerID: "p1", Country: "US", Region: "West", ValidFrom: year, ValidTo: next},
		{PartnerID: "p2", Country: "MX", Vertical: "Retail", ValidFrom: year, ValidTo: next},
		{PartnerID: "p3", Country: "MX", ValidFrom: year, ValidTo: next},
		{PartnerID: "p1", Country: "US", ValidFrom: next, ValidTo: next.AddDate(1, 0, 0)},
	}
	mid := year.AddDate(0, 6, 0)
	for _, tc := range []struct {
		name                        string
		partner, country, region, v string
		at                          time.Time
		want                        int // index into grants, -1 for none
	}{
		{"RegionAndVertical", "p1", "US", "Northeast", "Healthcare", mid, 0},
		{"CaseAndSpaceInsensitive", "p1", "us", " northeast ", "HEALTHCARE", mid, 0},
		{"OtherVertical", "p1", "US", "Northeast", "Retail", mid, -1},
		{"RegionOnlyAnyVertical", "p1", "US", "West", "Finance", mid, 1},
		{"OtherPartnerNotCovered", "p2", "US", "West", "Finance", mid, -1},
		{"VerticalOnlyAnyRegion", "p2", "MX", "Jalisco", "Retail", mid, 2},
		{"VerticalMismatch", "p2", "MX", "Jalisco", "Banking", mid, -1},
		{"WholeCountry", "p3", "MX", "", "", mid, 3},
		{"AnyPartnerMostSpecific", "", "MX", "Jalisco", "Retail", mid, 2},
		{"AnyPartnerFallsBackToCountry", "", "MX", "Jalisco", "Banking", mid, 3},
		{"ValidFromInclusive", "p1", "US", "West", "", year, 1},
		{"ValidToExclusive", "p1", "US", "West", "", next, 4},
		{"BeforeValidity", "p1", "US", "West", "", year.Add(-time.Second), -1},
		{"NoGrants", "p1", "DE", "", "", mid, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, ok := domain.CoveredByGrant(grants, tc.partner, tc.country, tc.region, tc.v, tc.at)
			if tc.want < 0 {
				require.False(t, ok)
				require.Equal(t, domain.TerritoryGrant{}, g)
				return
			}
			require.True(t, ok)
			require.Equal(t, grants[tc.want], g)
		})
	}
	t.Run("EarliestWinsATie", func(t *testing.T) {
		gs := []domain.TerritoryGrant{
			{PartnerID: "p1", Country: "US", ValidFrom: mid, ValidTo: next},
			{PartnerID: "p1", Country: "US", ValidFrom: year, ValidTo: next},
		}
		g, ok := domain.CoveredByGrant(gs, "p1", "US", "", "", mid)
		require.True(t, ok)
		require.Equal(t, gs[1], g)
	})
}

func TestTerritoryGrant_Validate(t *testing.T) {
	year := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(t, domain.TerritoryGrant{PartnerID: "p1", Country: "US", ValidFrom: year, ValidTo: year.AddDate(1, 0, 0)}.Validate())
	err := domain.TerritoryGrant{Country: "USA", ValidFrom: year, ValidTo: year}.Validate()
	require.Equal(t, []string{"partner_id:required", "country:invalid", "valid_to:out_of_range"}, fieldCodes(err))
}
