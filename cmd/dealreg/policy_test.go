package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// The demo ledger simulated under its own policy finds nothing; under a
// draft with 30 more days of protection every compared approval ends 30
// days later; the ledger is unchanged.
func TestPolicySimulate(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runCLI(t, "", "demo", "--data", dir)
	require.Equal(t, 0, code, errOut)
	before, err := os.ReadFile(ledgerPath(dir))
	require.NoError(t, err)

	write := func(name string, edit func(p *domain.Policy)) string {
		p := domain.DefaultPolicy()
		edit(&p)
		raw, err := json.Marshal(p)
		require.NoError(t, err)
		path := filepath.Join(t.TempDir(), name)
		require.NoError(t, os.WriteFile(path, raw, 0o600))
		return path
	}
	sim := func(draft string) map[string]any {
		t.Helper()
		code, out, errOut := runCLI(t, "", "policy", "simulate", "--data", dir, "--draft", draft, "--from", "2000-01-01T00:00:00Z")
		require.Equal(t, 0, code, errOut)
		var a struct {
			Summary map[string]any `json:"summary"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &a), out)
		return a.Summary
	}
	same := sim(write("same.json", func(*domain.Policy) {}))
	require.Greater(t, same["registrations"], 0.0)
	require.Greater(t, same["approvals"], 0.0)
	require.Equal(t, 0.0, same["changed"], "the policy in force changes nothing")

	longer := sim(write("longer.json", func(p *domain.Policy) { p.OpportunityProtection += 30 * domain.Day }))
	require.Greater(t, longer["protection_longer"], 0.0)
	require.Equal(t, 0.0, longer["protection_shorter"])

	after, err := os.ReadFile(ledgerPath(dir))
	require.NoError(t, err)
	require.Equal(t, before, after, "a simulation writes nothing")

	code, _, errOut = runCLI(t, "", "policy", "simulate", "--data", dir, "--draft", write("bad.json", func(p *domain.Policy) { p.OpportunityProtection = time.Hour }), "--from", "2000-01-01T00:00:00Z")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "protection.opportunity.term")
	code, _, errOut = runCLI(t, "", "policy", "simulate", "--data", dir, "--draft", write("same2.json", func(*domain.Policy) {}), "--from", "yesterday")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "--from")
}
