package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// demoPolicies returns the demo ledger's published versions after version
// 1: their documents and effective dates.
func demoPolicies(t *testing.T, dir string) (docs []domain.Policy, from []time.Time) {
	t.Helper()
	store, err := openExisting(dir)
	require.NoError(t, err)
	defer store.Close()
	recs, err := store.ReadStream(context.Background(), "policy", domain.ReadStreamOptions{})
	require.NoError(t, err)
	proposed := map[int]domain.Policy{}
	for _, r := range recs {
		ev, err := domain.DecodeEvent(r.Type, r.SchemaVersion, r.Data)
		require.NoError(t, err)
		switch e := ev.(type) {
		case domain.PolicyProposed:
			proposed[e.Version] = e.Document
		case domain.PolicyPublished:
			docs, from = append(docs, proposed[e.Version]), append(from, e.EffectiveFrom)
		}
	}
	return docs, from
}

// The demo ledger simulated under the policy each period was decided
// under finds nothing; under a draft with 30 more days of protection the
// approvals end 30 days later; the ledger is unchanged.
func TestPolicySimulate(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runCLI(t, "", "demo", "--data", dir)
	require.Equal(t, 0, code, errOut)
	before, err := os.ReadFile(ledgerPath(dir))
	require.NoError(t, err)
	later, effective := demoPolicies(t, dir)
	require.NotEmpty(t, later, "the demo publishes a version 2")

	write := func(name string, p domain.Policy) string {
		raw, err := json.Marshal(p)
		require.NoError(t, err)
		path := filepath.Join(t.TempDir(), name)
		require.NoError(t, os.WriteFile(path, raw, 0o600))
		return path
	}
	sim := func(draft string, period ...string) map[string]any {
		t.Helper()
		code, out, errOut := runCLI(t, "", append([]string{"policy", "simulate", "--data", dir, "--draft", draft}, period...)...)
		require.Equal(t, 0, code, errOut)
		var a struct {
			Summary map[string]any `json:"summary"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &a), out)
		return a.Summary
	}
	start, v2 := "--from=2000-01-01T00:00:00Z", effective[0].Format(time.RFC3339Nano)
	v1 := sim(write("v1.json", domain.DefaultPolicy()), start, "--to="+v2)
	require.Greater(t, v1["registrations"], 0.0)
	require.Greater(t, v1["approvals"], 0.0)
	require.Equal(t, 0.0, v1["changed"], "version 1 over its own period changes nothing")
	if len(later) == 1 {
		second := sim(write("v2.json", later[0]), "--from="+v2)
		require.Greater(t, second["registrations"], 0.0)
		require.Equal(t, 0.0, second["changed"], "version 2 over its own period changes nothing")
	}

	longer := domain.DefaultPolicy()
	longer.OpportunityProtection += 30 * domain.Day
	got := sim(write("longer.json", longer), start, "--to="+v2)
	// Every opportunity approval (a named account's term is another).
	require.Greater(t, got["protection_longer"], 0.0)
	require.Equal(t, 0.0, got["protection_shorter"])
	require.Equal(t, fmt.Sprintf("P%dD", 30*int(got["protection_longer"].(float64))), got["protection_delta"])

	after, err := os.ReadFile(ledgerPath(dir))
	require.NoError(t, err)
	require.Equal(t, before, after, "a simulation writes nothing")

	bad := domain.DefaultPolicy()
	bad.OpportunityProtection = time.Hour
	code, _, errOut = runCLI(t, "", "policy", "simulate", "--data", dir, "--draft", write("bad.json", bad), start)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "protection.opportunity.term")
	code, _, errOut = runCLI(t, "", "policy", "simulate", "--data", dir, "--draft", write("v1b.json", domain.DefaultPolicy()), "--from", "yesterday")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "--from")
}
