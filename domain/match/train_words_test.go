package match

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A pair is weighed by the organisations other than its own: training must
// see a word as a new claim's word is seen, by a corpus that does not hold
// the claim's organisation. And a held-out organisation is never counted,
// not even as the other side of a training pair.
func TestCorpusLeavesThePairsOwnOrganisationsOut(t *testing.T) {
	name := func(s string) Account { return Account{Name: s} }
	pairs := []Pair{
		{A: name("Zelvora"), B: name("Zelvora Tools Ltd"), Same: true},
		{A: name("Zelvora"), B: name("Zelvora Medical Care"), Same: false},
		{A: name("Kelmar Zelvora"), B: name("Brisbo Optics"), Same: false},
		{A: name("Quantix Bremen"), B: name("Quantix"), Same: true},
		{A: name("Quantix"), B: name("Kelmar Zelvora"), Same: false},
		{A: name("Brisbo Optics"), B: name("Kelmar Zelvora"), Same: false},
		{A: name("Vantro Labs"), B: name("Kelmar Zelvora"), Same: false},
		{A: name("Ostrik"), B: name("Kelmar Zelvora"), Same: false},
	}
	opt := TrainOptions{Folds: 2}.withDefaults()
	tps, orgWords := prepareTraining(pairs, opt)
	orgSets := make([]map[string]bool, len(orgWords))
	for org, ws := range orgWords {
		orgSets[org] = setOf(strings.Join(ws, " "))
	}
	all := corpusWeights(tps, orgWords, orgSets, func(trainPair) bool { return true }, -1, opt.Gamma)
	require.Equal(t, 7, all.all.docs, "Zelvora, Zelvora Medical Care, Kelmar Zelvora, Brisbo Optics, Quantix, Vantro Labs, Ostrik")
	require.Equal(t, 3, all.all.df["zelvora"])

	same, diff := all.forPair(tps[0]), all.forPair(tps[1])
	require.Equal(t, 2, same.others("zelvora"), "a same pair is one organisation: two others use the word")
	require.Equal(t, 1, diff.others("zelvora"), "a different pair is two: only Kelmar Zelvora is another")
	require.Equal(t, 0, all.forPair(tps[3]).others("quantix"), "a word of the pair's own organisation only")
	require.Equal(t, 1.0, all.forPair(tps[3]).weight("quantix", false), "weighs as an unseen word")
	require.Less(t, diff.weight("zelvora", false), 1.0, "a word another organisation uses weighs less")
	require.Less(t, same.weight("zelvora", false), diff.weight("zelvora", false))
	require.Equal(t, 3, all.all.others("zelvora"), "the committed model counts everyone")

	// Hold out the fold of Kelmar Zelvora: its words are not counted, even
	// where the other folds' pairs name it; the other organisations are
	// counted when their fold is trained on.
	fold := func(org int) int {
		for _, p := range tps {
			for j, o := range p.orgs {
				if o == org {
					return p.orgFolds[j]
				}
			}
		}
		return -1
	}
	zelvora, medical, kelmar := tps[0].orgs[0], tps[1].orgs[1], tps[2].orgs[0]
	k := fold(kelmar)
	c := corpusWeights(tps, orgWords, orgSets, func(p trainPair) bool { return p.fold != k }, k, opt.Gamma)
	other := false
	for _, p := range tps[4:] {
		other = other || p.fold != k
	}
	require.True(t, other, "a pair of another fold names Kelmar Zelvora")
	require.False(t, c.counted[kelmar])
	require.Zero(t, c.all.df["kelmar"])
	require.Equal(t, fold(zelvora) != k, c.counted[zelvora])
	require.Equal(t, boolInt(c.counted[zelvora])+boolInt(c.counted[medical]), c.all.df["zelvora"], "Kelmar Zelvora is not among them")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
