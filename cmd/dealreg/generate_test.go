package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// readLedger returns every event of the ledger in dir.
func readLedger(t *testing.T, dir string) []domain.RecordedEvent {
	t.Helper()
	store, err := openExisting(dir)
	require.NoError(t, err)
	defer store.Close()
	var all []domain.RecordedEvent
	for {
		page, err := store.ReadAll(context.Background(), domain.ReadAllOptions{From: uint64(len(all)), Count: 1000})
		require.NoError(t, err)
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
	}
}

// TestGenerate builds a small programme: it verifies, has about the events
// asked for, holds every kind of lifecycle, duplicate and conflict event,
// and is the same ledger, byte for byte, for the same seed.
func TestGenerate(t *testing.T) {
	const n = 2000
	dir := t.TempDir()
	code, out, errOut := runCLI(t, "", "generate", "--data", dir, "--events", "2000", "--seed", "4")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "generate: ")
	require.Empty(t, errOut, "no progress bar when stderr is not a terminal")

	code, out, errOut = runCLI(t, "", "verify", "--data", dir)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "ok: ")

	events := readLedger(t, dir)
	require.InDelta(t, n, len(events), n/10)
	types := map[string]int{}
	verdicts := map[string]int{}
	outcomes := map[string]int{}
	for _, e := range events {
		types[e.Type]++
		var v struct {
			Verdict string `json:"verdict"`
			Outcome string `json:"outcome"`
		}
		require.NoError(t, json.Unmarshal(e.Data, &v))
		switch e.Type {
		case "RegistrationVerdictRecorded":
			verdicts[v.Verdict]++
		case "ConflictDecided":
			outcomes[v.Outcome]++
		}
	}
	for _, typ := range []string{
		"PartnerAdded", "TerritoryGranted",
		"RegistrationDrafted", "RegistrationAmended", "RegistrationSubmitted", "RegistrationVerdictRecorded",
		"RegistrationReviewStarted", "RegistrationApproved", "RegistrationRejected", "RegistrationReturned",
		"RegistrationProgressed", "RegistrationExtensionRequested", "RegistrationExtensionGranted",
		"RegistrationExtensionDenied", "RegistrationRenewed", "RegistrationExpiryReminderSent", "RegistrationExpired",
		"RegistrationClosedWon", "RegistrationClosedLost", "RegistrationWithdrawn", "RegistrationConflictDecided",
		"DirectOpportunityRecorded", "DirectOpportunityUpdated", "DirectOpportunityClosed",
		"AccountMatchDecided", "SubsidiaryLinked",
		"ConflictOpened", "ConflictEvidenceRequested", "ConflictEvidenceSubmitted", "ConflictEscalated", "ConflictDecided",
	} {
		require.NotZero(t, types[typ], "the ledger holds a %s", typ)
	}
	for _, v := range []string{"clear", "duplicate", "possible_duplicate"} {
		require.NotZero(t, verdicts[v], "a %s verdict", v)
	}
	require.Greater(t, verdicts["clear"], verdicts["duplicate"]+verdicts["possible_duplicate"], "most submissions are clear")
	for _, o := range []string{"award", "co_register", "reject_all"} {
		require.NotZero(t, outcomes[o], "a conflict decided by %s", o)
	}

	t.Run("DecodedAsEncodingJSONDoes", func(t *testing.T) {
		// domain.DecodeEvent uses github.com/goccy/go-json for speed: it
		// must build exactly what encoding/json builds from every shape
		// of event the generator writes.
		for _, e := range events {
			got, err := domain.DecodeEvent(e.Type, e.SchemaVersion, e.Data)
			require.NoError(t, err, "event %d", e.Position)
			want := reflect.New(reflect.TypeOf(got))
			require.NoError(t, json.Unmarshal(e.Data, want.Interface()))
			require.Equal(t, want.Elem().Interface(), got, "event %d (%s)", e.Position, e.Type)
		}
	})
	t.Run("SameSeed", func(t *testing.T) {
		again := t.TempDir()
		code, _, errOut := runCLI(t, "", "generate", "--data", again, "--events", "2000", "--seed", "4")
		require.Equal(t, 0, code, errOut)
		require.Equal(t, events, readLedger(t, again), "IDs, streams, types, data, metadata and recorded times")
		first, err := os.ReadFile(ledgerPath(dir))
		require.NoError(t, err)
		second, err := os.ReadFile(ledgerPath(again))
		require.NoError(t, err)
		require.True(t, bytes.Equal(first, second), "the ledger files are byte-identical")
	})
	t.Run("OtherSeed", func(t *testing.T) {
		other := t.TempDir()
		code, _, errOut := runCLI(t, "", "generate", "--data", other, "--events", "300", "--seed", "9")
		require.Equal(t, 0, code, errOut)
		got := readLedger(t, other)
		require.NotEqual(t, events[:len(got)], got)
	})
	t.Run("NotEmpty", func(t *testing.T) {
		code, _, errOut := runCLI(t, "", "generate", "--data", dir, "--events", "300")
		require.Equal(t, 2, code)
		require.Contains(t, errOut, "already holds")
		require.Len(t, readLedger(t, dir), len(events), "nothing appended")
	})
}

// A programme of a million events has hundreds of partners: every one is
// enrolled before its first registration (an unknown partner may register
// nothing), so the generator gets past the first days. Stopped after a few
// seconds; anything but the cancellation is a failure.
func TestGenerate_LargeProgrammeGetsGoing(t *testing.T) {
	if testing.Short() {
		t.Skip("generates for a few seconds")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"generate", "--data", t.TempDir(), "--events", "1000000", "--seed", "1"}, strings.NewReader(""), &out, &errOut)
	require.NotZero(t, code, "it cannot have finished a million events in seconds")
	require.Regexp(t, `context (canceled|deadline exceeded)`, errOut.String())
	require.NotContains(t, errOut.String(), "not_eligible")
}
