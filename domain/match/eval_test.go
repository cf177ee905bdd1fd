package match_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain/match"
)

// devSet is the labelled development set the repository carries.
const devSet = "../../testdata/company-names/dev.csv"

func loadDevSet(t *testing.T) []match.Pair {
	t.Helper()
	f, err := os.Open(devSet)
	if err != nil {
		abs, _ := filepath.Abs(devSet)
		t.Fatalf("labelled dev set not found at %s (%v): it is part of the repository", abs, err)
	}
	defer f.Close()
	pairs, err := match.ReadPairs(f)
	require.NoError(t, err)
	require.Greater(t, len(pairs), 5000)
	return pairs
}

func TestEvaluateDevSet(t *testing.T) {
	pairs := loadDevSet(t)
	start := time.Now()
	rep := match.Evaluate(pairs)
	elapsed := time.Since(start)
	js, err := json.MarshalIndent(rep, "", "  ")
	require.NoError(t, err)
	t.Logf("evaluated %d pairs in %v\n%s", len(pairs), elapsed, js)

	require.GreaterOrEqual(t, rep.Duplicate.Precision, 0.99, "duplicate precision")
	// The committed model's word counts hold these very organisations, so
	// each name's own words weigh as if another organisation used them too
	// (training leaves a pair's organisations out of the counts, as a new
	// claim's are not in them): on its own training pairs the model is a
	// little harsher than on new ones. TestCrossValidatedGoals holds the
	// fair figures.
	require.GreaterOrEqual(t, rep.Possible.Recall, 0.88, "possible recall")
	require.GreaterOrEqual(t, rep.Possible.Precision, 0.85, "possible precision")
}

// TestDumpMisclassified lists the rows the matcher gets wrong, by kind, when
// MATCH_DUMP is set; it is a tool for studying phenomena, not a check.
func TestDumpMisclassified(t *testing.T) {
	kind := os.Getenv("MATCH_DUMP")
	if kind == "" {
		t.Skip("set MATCH_DUMP=<kind|all> to list misclassified dev pairs")
	}
	for _, p := range loadDevSet(t) {
		if kind != "all" && !strings.HasPrefix(p.Kind, kind) {
			continue
		}
		r := match.Compare(p.A, p.B)
		wrong := (p.Same && r.Verdict == match.NoMatch) || (!p.Same && r.Verdict != match.NoMatch)
		if os.Getenv("MATCH_DUMP_SAME") != "" {
			wrong = !p.Same && r.Verdict == match.Same
		}
		if !wrong {
			continue
		}
		top := ""
		if len(r.Signals) > 0 {
			top = r.Signals[0].Name
		}
		t.Logf("%s %d %.2f %-22s | %s | %s%s", p.Kind, p.Line, r.Score, top, p.A.Name, p.B.Name, p.B.Domain)
	}
}
