package projections_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

func TestRegistrations_Get(t *testing.T) {
	t.Run("Approved", func(t *testing.T) {
		l := mustOpenLedger(t)
		r := l.draft(partner1, domain.TypeOpportunity, details("Empresa XYZ", "mx", "Northeast"))
		draftedAt := l.now()
		l.clock.Advance(time.Hour)
		submitAt := l.now()
		l.record(r, partner1)(r.Submit(partner1, domain.DefaultPolicy(), submitAt))
		l.record(r, checker)(r.RecordVerdict(1, domain.VerdictClear, nil, "", l.now()))
		l.clock.Advance(time.Hour)
		l.record(r, manager)(r.StartReview(manager, l.now()))
		l.clock.Advance(time.Hour)
		approvedAt := l.now()
		l.record(r, manager)(r.Approve(manager, domain.DefaultPolicy(), approvedAt))

		v, ok := l.mustReplay(0).Get(r.ID())
		require.True(t, ok)
		require.Equal(t, r.ID(), v.ID)
		require.Equal(t, "partner-1", v.PartnerID)
		require.Equal(t, domain.TypeOpportunity, v.Type)
		require.Equal(t, domain.StatusActive, v.Status)
		require.Equal(t, "Empresa XYZ", v.CompanyName)
		require.Equal(t, "MX", v.Country, "the aggregate's normalised details")
		require.Equal(t, "Northeast", v.Region)
		require.Equal(t, "Healthcare", v.Industry)
		require.Equal(t, []string{"HR Management", "Payroll"}, v.ProductLines)
		require.True(t, decimal.RequireFromString("150000.5").Equal(v.EstimatedValue), v.EstimatedValue.String())
		require.Equal(t, "USD", v.Currency)
		require.Equal(t, t0.Add(120*domain.Day), v.ExpectedCloseDate)
		require.Equal(t, domain.VerdictClear, v.Verdict)
		require.Equal(t, manager.ID, v.ReviewerID)

		require.True(t, v.Approved)
		require.Equal(t, 1, v.PolicyVersion)
		require.Equal(t, approvedAt, v.ProtectionStart)
		require.Equal(t, approvedAt.Add(90*domain.Day), v.ProtectionEnd)
		require.Equal(t, v.ProtectionEnd, v.ProtectionLapsesAt)
		require.Equal(t, &projections.Terms{
			PolicyVersion: 1, Type: domain.TypeOpportunity,
			ProtectionStart: approvedAt, ProtectionEnd: approvedAt.Add(90 * domain.Day),
			MaxExtensions: 2, ExtensionLength: domain.ISODuration(30 * domain.Day),
		}, v.Terms)
		require.Equal(t, 0, v.ExtensionsGranted)
		require.Equal(t, 2, v.ExtensionsLeft)

		require.Equal(t, draftedAt, v.CreatedAt)
		require.Equal(t, submitAt, v.SubmittedAt)
		require.Equal(t, submitAt, v.LastSubmittedAt)
		require.Equal(t, approvedAt, v.UpdatedAt)
		require.Equal(t, uint64(0), v.Position)
		require.True(t, v.Submitted)
		require.Equal(t, uint64(1), v.SubmittedPosition)
		require.Equal(t, 5, v.Version)
	})

	t.Run("Extended", func(t *testing.T) {
		l := mustOpenLedger(t)
		r := l.approved(partner1, details("Acme", "US", ""))
		end := r.ProtectionEnd()
		l.clock.Advance(10 * domain.Day)
		l.record(r, partner1)(r.RequestExtension(partner1, "Procurement takes longer", l.now()))

		v, _ := l.mustReplay(0).Get(r.ID())
		require.Equal(t, domain.StatusExtensionRequested, v.Status)
		require.Equal(t, end.Add(30*domain.Day), v.ProtectionLapsesAt, "a pending request holds off expiry")

		l.record(r, manager)(r.GrantExtension(manager, l.now()))
		v, _ = l.mustReplay(0).Get(r.ID())
		require.Equal(t, domain.StatusActive, v.Status)
		require.Equal(t, 1, v.ExtensionsGranted)
		require.Equal(t, 1, v.ExtensionsLeft)
		require.Equal(t, end.Add(30*domain.Day), v.ProtectionEnd)
		require.Equal(t, end, v.Terms.ProtectionEnd, "the approval terms stay as granted")
	})

	t.Run("Rejected", func(t *testing.T) {
		l := mustOpenLedger(t)
		r := l.submitted(partner1, details("Acme", "US", ""), domain.VerdictPossibleDuplicate)
		l.record(r, manager)(r.Reject(manager, domain.RejectNotQualified, "No budget yet.", "Register again once budget is approved.", l.now()))

		v, _ := l.mustReplay(0).Get(r.ID())
		require.Equal(t, domain.StatusRejected, v.Status)
		require.Equal(t, domain.RejectNotQualified, v.RejectReason)
		require.Equal(t, "No budget yet.", v.RejectExplanation)
		require.Equal(t, "Register again once budget is approved.", v.RejectGuidance)
		require.False(t, v.Approved)
		require.Zero(t, v.PolicyVersion)
	})

	t.Run("Resubmitted", func(t *testing.T) {
		l := mustOpenLedger(t)
		r := l.submitted(partner1, details("Acme", "US", ""), domain.VerdictClear)
		first := l.now()
		l.clock.Advance(time.Hour)
		l.record(r, manager)(r.Return(manager, "Add the decision makers.", []string{"personal.decision_makers"}, l.now()))
		l.clock.Advance(domain.Day)
		again := l.now()
		l.record(r, partner1)(r.Submit(partner1, domain.DefaultPolicy(), again))

		v, _ := l.mustReplay(0).Get(r.ID())
		require.Equal(t, domain.StatusSubmitted, v.Status)
		require.Equal(t, 2, v.Attempt)
		require.Equal(t, first, v.SubmittedAt, "the first submission decides who was first")
		require.Equal(t, again, v.LastSubmittedAt)
		require.Equal(t, uint64(1), v.SubmittedPosition)
	})

	t.Run("NotFound", func(t *testing.T) {
		p := projections.NewRegistrations(nil, nil)
		_, ok := p.Get(uuid.New())
		require.False(t, ok)
		require.Nil(t, p.History(uuid.New()))
	})

	t.Run("ReturnsCopies", func(t *testing.T) {
		l := mustOpenLedger(t)
		r := l.draft(partner1, domain.TypeOpportunity, details("Acme", "US", ""))
		p := l.mustReplay(0)
		v, _ := p.Get(r.ID())
		v.ProductLines[0] = "changed"
		v, _ = p.Get(r.ID())
		require.Equal(t, "HR Management", v.ProductLines[0])
	})
}

func TestRegistrations_History(t *testing.T) {
	l := mustOpenLedger(t)
	other := l.draft(partner2, domain.TypeOpportunity, details("Other", "US", ""))
	r := l.submitted(partner1, details("Empresa XYZ", "MX", ""), domain.VerdictClear)
	l.record(other, partner2)(other.Withdraw(partner2, "", l.now()))
	l.clock.Advance(time.Hour)
	l.record(r, manager)(r.Approve(manager, domain.DefaultPolicy(), l.now()))

	stored, err := l.store.ReadStream(context.Background(), domain.RegistrationStream(r.ID()), domain.ReadStreamOptions{})
	require.NoError(t, err)
	history := l.mustReplay(0).History(r.ID())
	require.Len(t, history, len(stored))

	want := []struct {
		typ     string
		actor   string
		role    domain.Role
		summary string
	}{
		{"RegistrationDrafted", partner1.ID, domain.RolePartner, "Drafted an opportunity registration for Empresa XYZ"},
		{"RegistrationSubmitted", partner1.ID, domain.RolePartner, "Submitted (attempt 1) under policy v1"},
		{"RegistrationVerdictRecorded", checker.ID, domain.RoleAdmin, "Duplicate check verdict: clear"},
		{"RegistrationApproved", manager.ID, domain.RoleChannelManager, "Approved under policy v1: protected until 2026-05-31"},
	}
	for i, h := range history {
		require.Equal(t, stored[i].ID, h.EventID)
		require.Equal(t, stored[i].Position, h.Position)
		require.Equal(t, uint64(i), h.Revision)
		require.Equal(t, want[i].typ, h.Type)
		require.Equal(t, stored[i].RecordedAt, h.RecordedAt)
		require.Equal(t, want[i].actor, h.ActorID)
		require.Equal(t, want[i].role, h.Role)
		require.Equal(t, want[i].summary, h.Summary)
		require.JSONEq(t, string(stored[i].Data), string(h.Data))
	}
	require.Equal(t, []uint64{1, 2, 3, 5}, []uint64{history[0].Position, history[1].Position, history[2].Position, history[3].Position},
		"positions are global: the other registration's events lie between")
}

func TestRegistrations_Apply(t *testing.T) {
	t.Run("RedeliveryIsIgnored", func(t *testing.T) {
		l := mustOpenLedger(t)
		r := l.approved(partner1, details("Acme", "US", ""))
		events, err := l.store.ReadAll(context.Background(), domain.ReadAllOptions{})
		require.NoError(t, err)

		p := projections.NewRegistrations(nil, l.store)
		for _, e := range events {
			require.NoError(t, p.Apply(e))
		}
		before, _ := p.Get(r.ID())
		history := p.History(r.ID())
		for _, e := range events {
			require.NoError(t, p.Apply(e))
		}
		after, _ := p.Get(r.ID())
		require.Equal(t, before, after)
		require.Equal(t, history, p.History(r.ID()))
		require.Equal(t, uint64(len(events)), p.Checkpoint())
	})

	t.Run("SkipsOtherStreams", func(t *testing.T) {
		l := mustOpenLedger(t)
		ctx := context.Background()
		_, err := l.store.Append(ctx, "partner-1", domain.Any(), domain.EventData{
			ID: uuid.New(), Type: "PartnerOnboarded", SchemaVersion: 1, Data: json.RawMessage(`{}`),
		})
		require.NoError(t, err)
		// Even a registration event type, outside a registration stream.
		_, err = l.store.Append(ctx, "conflict-1", domain.Any(), domain.EventData{
			ID: uuid.New(), Type: "RegistrationDrafted", SchemaVersion: 1, Data: json.RawMessage(`{}`),
		})
		require.NoError(t, err)
		r := l.draft(partner1, domain.TypeOpportunity, details("Acme", "US", ""))

		p := l.mustReplay(0)
		require.Equal(t, uint64(3), p.Checkpoint())
		v, ok := p.Get(r.ID())
		require.True(t, ok)
		require.Equal(t, domain.StatusDraft, v.Status)
		require.Len(t, p.History(r.ID()), 1)
		all, _, err := p.List(projections.ListFilter{}, "", 0)
		require.NoError(t, err)
		require.Len(t, all, 1)
	})

	t.Run("StopsAtUnknownRegistrationEvent", func(t *testing.T) {
		l := mustOpenLedger(t)
		r := l.draft(partner1, domain.TypeOpportunity, details("Acme", "US", ""))
		// A schema version from the future: folding over it would give a
		// wrong view, so the projection stops there until upgraded.
		_, err := l.store.Append(context.Background(), domain.RegistrationStream(r.ID()), domain.Exact(0), domain.EventData{
			ID: uuid.New(), Type: "RegistrationSubmitted", SchemaVersion: 99, Data: json.RawMessage(`{}`),
		})
		require.NoError(t, err)

		p := projections.NewRegistrations(nil, l.store)
		err = p.CatchUp(context.Background(), l.store, 0)
		require.Equal(t, domain.EINTERNAL, domain.ErrorCode(err))
		require.Equal(t, uint64(1), p.Checkpoint())
		v, _ := p.Get(r.ID())
		require.Equal(t, domain.StatusDraft, v.Status)
	})

	t.Run("RefusesBrokenEvents", func(t *testing.T) {
		id := uuid.New()
		drafted := func(pos, rev uint64) domain.RecordedEvent {
			typ, version, data, err := domain.EncodeEvent(domain.RegistrationDrafted{
				RegistrationID: id, PartnerID: "partner-1", Type: domain.TypeOpportunity, DraftedBy: "u", At: t0,
			})
			require.NoError(t, err)
			return domain.RecordedEvent{ID: uuid.New(), Stream: domain.RegistrationStream(id), Revision: rev,
				Position: pos, Type: typ, SchemaVersion: version, Data: data, RecordedAt: t0}
		}
		for name, e := range map[string]domain.RecordedEvent{
			"MalformedData": func() domain.RecordedEvent {
				e := drafted(4, 0)
				e.Data = json.RawMessage(`{"registration_id": 7}`)
				return e
			}(),
			"RevisionGap": drafted(4, 1),
			"WrongStream": func() domain.RecordedEvent {
				e := drafted(4, 0)
				e.Stream = domain.RegistrationStream(uuid.New())
				return e
			}(),
		} {
			t.Run(name, func(t *testing.T) {
				p := projections.NewRegistrations(nil, nil)
				err := p.Apply(e)
				require.Error(t, err)
				require.Equal(t, domain.EINTERNAL, domain.ErrorCode(err))
				require.Zero(t, p.Checkpoint(), "a failed event is retried, never skipped")
				_, ok := p.Get(id)
				require.False(t, ok)
			})
		}
	})

	t.Run("MetadataMissing", func(t *testing.T) {
		l := mustOpenLedger(t)
		id := uuid.New()
		events, err := domain.Draft(id, partner1, domain.TypeOpportunity, details("Acme", "US", ""), l.now())
		require.NoError(t, err)
		typ, version, data, err := domain.EncodeEvent(events[0])
		require.NoError(t, err)
		_, err = l.store.Append(context.Background(), domain.RegistrationStream(id), domain.NoStream(),
			domain.EventData{ID: uuid.New(), Type: typ, SchemaVersion: version, Data: data})
		require.NoError(t, err)

		h := l.mustReplay(0).History(id)
		require.Len(t, h, 1)
		require.Equal(t, partner1.ID, h[0].ActorID, "the actor the event names")
		require.Empty(t, h[0].Role)
	})
}

// TestRegistrations_ReplayIsDeterministic folds the same ledger twice, once
// by following it live and once by replaying it, and requires identical
// projections.
func TestRegistrations_ReplayIsDeterministic(t *testing.T) {
	l := mustOpenLedger(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	live := projections.NewRegistrations(nil, l.store)
	done := make(chan error, 1)
	f := mustFollower(t, l, live)
	go func() { done <- f.Run(ctx) }()

	a := l.approved(partner1, details("Acme", "US", "West"))
	b := l.submitted(partner2, details("Globex", "DE", "Bavaria"), domain.VerdictPossibleDuplicate)
	l.clock.Advance(time.Hour)
	l.record(b, manager)(b.StartReview(manager, l.now()))
	c := l.submitted(partner1, details("Initech", "US", "East"), domain.VerdictClear)
	l.record(c, manager)(c.Reject(manager, domain.RejectOther, "Not a fit.", "Try the SMB program.", l.now()))
	l.clock.Advance(5 * domain.Day)
	l.record(a, partner1)(a.Progress(partner1, domain.ProgressUpdate{BuyingStage: domain.StageProposal}, l.now()))
	l.record(a, partner1)(a.CloseWon(partner1, domain.Money{Amount: decimal.NewFromInt(99000), Currency: "USD"}, "", l.now()))
	l.draft(partner2, domain.TypeNamedAccount, domain.Details{Account: domain.Account{CompanyName: "Umbrella", Domain: "umbrella.example"}})

	require.NoError(t, live.WaitFor(ctx, l.head()))
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)

	replayed := l.mustReplay(0)
	again := l.mustReplay(0)
	for _, p := range []*projections.Registrations{replayed, again} {
		require.Equal(t, live.Checkpoint(), p.Checkpoint())
		require.Equal(t, listAll(t, live, projections.ListFilter{}, 0), listAll(t, p, projections.ListFilter{}, 0))
		for _, id := range ids(listAll(t, live, projections.ListFilter{}, 0)) {
			require.Equal(t, live.History(id), p.History(id))
		}
		q1, err := live.ReviewQueue(0)
		require.NoError(t, err)
		q2, err := p.ReviewQueue(0)
		require.NoError(t, err)
		require.Equal(t, q1, q2)
	}
	v, _ := replayed.Get(a.ID())
	require.Equal(t, domain.StatusClosedWon, v.Status)
}

func TestReplay_AsOf(t *testing.T) {
	l := mustOpenLedger(t)
	r := l.submitted(partner1, details("Acme", "US", ""), domain.VerdictClear)
	clearedAt := l.now()
	l.clock.Advance(time.Hour)
	approvedPos := l.record(r, manager)(r.Approve(manager, domain.DefaultPolicy(), l.now()))

	t.Run("Position", func(t *testing.T) {
		p := l.mustReplay(approvedPos)
		require.Equal(t, approvedPos, p.Checkpoint())
		v, _ := p.Get(r.ID())
		require.Equal(t, domain.StatusCleared, v.Status)
		require.False(t, v.Approved)

		p = l.mustReplay(approvedPos - 1)
		v, _ = p.Get(r.ID())
		require.Equal(t, domain.StatusSubmitted, v.Status)

		v, _ = l.mustReplay(0).Get(r.ID())
		require.Equal(t, domain.StatusActive, v.Status)
	})

	t.Run("Time", func(t *testing.T) {
		p, err := projections.ReplayUntil(context.Background(), l.store, clearedAt)
		require.NoError(t, err)
		v, _ := p.Get(r.ID())
		require.Equal(t, domain.StatusCleared, v.Status)

		p, err = projections.ReplayUntil(context.Background(), l.store, t0.Add(-time.Second))
		require.NoError(t, err)
		_, ok := p.Get(r.ID())
		require.False(t, ok)
	})

	t.Run("ManyPages", func(t *testing.T) {
		l := mustOpenLedger(t)
		const n = 600 // more than one ReadAll page of Replay
		for range n {
			l.draft(partner1, domain.TypeOpportunity, details("Acme", "US", ""))
		}
		p := l.mustReplay(0)
		require.Equal(t, uint64(n), p.Checkpoint())
		require.Len(t, listAll(t, p, projections.ListFilter{}, projections.MaxListLimit), n)
		require.Equal(t, uint64(550), l.mustReplay(550).Checkpoint())
	})
}

func TestParseMetadata(t *testing.T) {
	md, err := projections.ParseMetadata(json.RawMessage(`{"actor_id":"u1","role":"partner","partner_id":"p1","correlation_id":"c","causation_id":"d","idempotency_key":"k","extra":1}`))
	require.NoError(t, err)
	require.Equal(t, projections.Metadata{ActorID: "u1", Role: domain.RolePartner, PartnerID: "p1", CorrelationID: "c", CausationID: "d", IdempotencyKey: "k"}, md)

	md, err = projections.ParseMetadata(json.RawMessage(`{"actor_id":"u1"}`))
	require.NoError(t, err)
	require.Equal(t, projections.Metadata{ActorID: "u1"}, md)

	md, err = projections.ParseMetadata(nil)
	require.NoError(t, err)
	require.Zero(t, md)

	_, err = projections.ParseMetadata(json.RawMessage(`[1]`))
	require.Error(t, err)
}
