package app

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/domain/match"
	"github.com/dealreg/dealreg/eventstore"
	"github.com/dealreg/dealreg/projections"
)

// A ledger whose verdicts an older matching model decided replays to those
// very verdicts under the current model: the checker folds what is
// recorded and never decides a recorded submission again, even where the
// current model would decide otherwise.
func TestChecker_ReplayKeepsVerdictsOfOldModels(t *testing.T) {
	dir := t.TempDir()
	clock := domain.NewManualClock(stateT0)
	store, err := eventstore.OpenSQLite(filepath.Join(dir, "ledger.db"), eventstore.Options{Clock: clock})
	require.NoError(t, err)
	defer store.Close()
	ctx := context.Background()

	svc := startService(t, store, clock, "")
	first, _, err := svc.Create(ctx, partnerCall("acme"), domain.TypeOpportunity, stateDetails(clock.Now(), 8, "HR"), true)
	require.NoError(t, err)
	require.NoError(t, svc.WaitFor(ctx, store.Head()-1))
	svc.Stop()

	// A second registration whose verdict an old model recorded: a
	// duplicate of the first, although the names have nothing in common.
	second := uuid.New()
	details := stateDetails(clock.Now(), 4, "HR") // Inditex
	stream := domain.RegistrationStream(second)
	sub := domain.RegistrationSubmitted{RegistrationID: second, PartnerID: "globex", Type: domain.TypeOpportunity, Attempt: 1,
		Details: details, PolicyVersion: 1, SubmittedBy: "u-globex", At: clock.Now()}
	old := domain.RegistrationVerdictRecorded{RegistrationID: second, Attempt: 1, Verdict: domain.VerdictDuplicate,
		Matches: []uuid.UUID{first}, Reason: "the account is already registered (company name match)", Model: "lr-000000000000", At: clock.Now()}
	events := []domain.Event{
		domain.RegistrationDrafted{RegistrationID: second, PartnerID: "globex", Type: domain.TypeOpportunity, Details: details, DraftedBy: "u-globex", At: clock.Now()},
		sub, old,
	}
	data, err := encode(checkerCall, stream, events, []uuid.UUID{uuid.New(), uuid.New(), uuid.New()})
	require.NoError(t, err)
	_, err = store.Append(ctx, stream, domain.NoStream(), data...)
	require.NoError(t, err)
	head := store.Head()

	// The current model decides the submission differently.
	book := domain.NewClaimBook()
	all, err := store.ReadAll(ctx, domain.ReadAllOptions{})
	require.NoError(t, err)
	for _, rec := range all {
		if rec.Stream == stream {
			break
		}
		ev, err := domain.DecodeEvent(rec.Type, rec.SchemaVersion, rec.Data)
		require.NoError(t, err)
		book.ApplyAt(ev, rec.Position, rec.RecordedAt)
	}
	now := book.Check(sub, clock.Now())
	require.Equal(t, domain.VerdictClear, now.Verdict)
	require.Equal(t, match.ModelVersion(), now.Model)
	require.NotEqual(t, old.Model, now.Model)

	rebuilt := startService(t, store, clock, "")
	defer rebuilt.Stop()
	require.NoError(t, rebuilt.WaitFor(ctx, head-1))
	require.Equal(t, head, store.Head(), "nothing is decided or appended again")
	d, ok := rebuilt.Registrations.Detail(second)
	require.True(t, ok)
	require.Equal(t, domain.StatusDuplicate, d.Status, "the recorded verdict stands")
	require.Empty(t, rebuilt.Conflicts.Queue(projections.QueueFilter{}), "no case opens from a re-decision")

	// The verdict the current model records names it.
	f, ok := rebuilt.Registrations.Detail(first)
	require.True(t, ok)
	require.NotNil(t, f.Finding)
	require.Equal(t, match.ModelVersion(), f.Finding.Model)
}
