package match_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain/match"
)

func TestIndexCandidates(t *testing.T) {
	idx := match.NewIndex(nil)
	idx.Add("c1", match.Account{Name: "Telefónica, S.A.", Country: "ES"})
	idx.Add("c2", match.Account{Name: "International Business Machines Corp."})
	idx.Add("c3", match.Account{Name: "Terrafix Geosynthetics Inc.", Domain: "terrafixgeo.com"})
	idx.Add("c4", match.Account{Name: "Acme Ltd", TaxID: "GB123456789", Country: "GB"})
	idx.Add("c5", match.Account{Name: "Clinical Research Group"})
	for i := range 3000 {
		idx.Add(fmt.Sprintf("filler-%d", i), match.Account{Name: fmt.Sprintf("Filler %d Systems Group", i)})
	}
	require.Equal(t, 3005, idx.Len())

	for _, tt := range []struct {
		q    match.Account
		want string
	}{
		{match.Account{Name: "TELEFONICA"}, "c1"},
		{match.Account{Name: "Telefnica SA"}, "c1"}, // typo: found through trigrams
		{match.Account{Name: "IBM"}, "c2"},
		{match.Account{Domain: "www.terrafixgeo.co.uk"}, "c3"},
		{match.Account{Name: "Terrafix"}, "c3"},
		{match.Account{Name: "Zeta", TaxID: "GB 123 456 789"}, "c4"},
	} {
		got := idx.Candidates(tt.q, 5)
		require.NotEmpty(t, got, "%+v", tt.q)
		require.Equal(t, tt.want, got[0].ID, "%+v: %+v", tt.q, got)
		require.Equal(t, match.Compare(tt.q, mustAccount(t, idx, tt.want)), got[0].Result)
	}

	require.Empty(t, idx.Candidates(match.Account{Name: "Zymurgy Brewing"}, 5))
	require.Empty(t, idx.Candidates(match.Account{Name: "Telefonica"}, 0))

	idx.Remove("c1")
	require.Empty(t, idx.Candidates(match.Account{Name: "Telefonica"}, 5))
	idx.Add("c2", match.Account{Name: "Telefonica"}) // replaces c2
	got := idx.Candidates(match.Account{Name: "Telefonica"}, 5)
	require.Len(t, got, 1)
	require.Equal(t, "c2", got[0].ID)
	require.Equal(t, 3004, idx.Len())
}

var indexAccounts = map[string]match.Account{
	"c1": {Name: "Telefónica, S.A.", Country: "ES"},
	"c2": {Name: "International Business Machines Corp."},
	"c3": {Name: "Terrafix Geosynthetics Inc.", Domain: "terrafixgeo.com"},
	"c4": {Name: "Acme Ltd", TaxID: "GB123456789", Country: "GB"},
}

func mustAccount(t *testing.T, _ *match.Index, id string) match.Account {
	t.Helper()
	a, ok := indexAccounts[id]
	require.True(t, ok, id)
	return a
}

func TestIndexKnowledge(t *testing.T) {
	k := match.NewKnowledge()
	k.AddAlias("Aptiv", "Delphi Automotive")
	idx := match.NewIndex(k)
	idx.Add("d", match.Account{Name: "Delphi Automotive LLP"})
	got := idx.Candidates(match.Account{Name: "Aptiv PLC"}, 3)
	require.Len(t, got, 1)
	require.Equal(t, "d", got[0].ID)
	require.Equal(t, match.Same, got[0].Result.Verdict)

	k.AddDistinct("Aptiv", "Delphi Automotive")
	require.Empty(t, idx.Candidates(match.Account{Name: "Aptiv PLC"}, 3))
}

func TestIndexDeterministic(t *testing.T) {
	build := func() *match.Index {
		idx := match.NewIndex(nil)
		for i := range 500 {
			idx.Add(fmt.Sprintf("id-%03d", i), match.Account{Name: "Acme Systems"}) // all equal: ties
		}
		return idx
	}
	a := build().Candidates(match.Account{Name: "ACME SYSTEMS"}, 10)
	b := build().Candidates(match.Account{Name: "ACME SYSTEMS"}, 10)
	require.Equal(t, a, b)
	require.Len(t, a, 10)
	require.Equal(t, "id-000", a[0].ID)
}
