package match_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain/match"
)

func TestReadPairs(t *testing.T) {
	in := "name_a,name_b,same,source,kind\n" +
		"Acme Inc.,acme.com,1,x,pos_domain\n" +
		"\"Acme, S.A.\",Acme,1,x,pos_variant\n" +
		"Acme,Beta,0,x,neg_shared_word\n"
	pairs, err := match.ReadPairs(strings.NewReader(in))
	require.NoError(t, err)
	require.Len(t, pairs, 3)
	require.Equal(t, match.Account{Domain: "acme.com"}, pairs[0].B)
	require.Equal(t, "Acme, S.A.", pairs[1].A.Name)
	require.Equal(t, 3, pairs[1].Line)
	require.False(t, pairs[2].Same)

	rep := match.Evaluate(pairs)
	js, err := json.Marshal(rep)
	require.NoError(t, err)
	for _, key := range []string{`"duplicate":`, `"possible":`, `"precision":`, `"recall":`, `"by_kind":`,
		`"pos_domain":`, `"tp":`, `"fp":`, `"fn":`, `"n":`, `"false_positive_rate":`} {
		require.Contains(t, string(js), key)
	}
	require.Equal(t, 1.0, rep.Possible.Recall)
	require.Nil(t, rep.Possible.ByKind["neg_shared_word"].Recall, "recall is undefined for negative kinds")
}

func TestReadPairsErrors(t *testing.T) {
	for in, want := range map[string]string{
		"":                                 "empty input",
		"a,b\n":                            `missing column "name_a"`,
		"name_a,name_b,same\nx,y,maybe\n":  "line 2: same",
		"name_a,name_b,same\nx,y,1\nx,y\n": "line 3: 2 fields",
		"name_a,name_b,same\nx,,1\n":       "line 2: empty name",
		"name_a,name_b,same\n\"x,y,1\n":    "pairs:",
	} {
		_, err := match.ReadPairs(strings.NewReader(in))
		require.ErrorContains(t, err, want, in)
	}
}
