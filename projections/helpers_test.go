package projections_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
	"github.com/dealreg/dealreg/projections"
)

// t0 is when every test's clock starts.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

var (
	partner1 = domain.Actor{ID: "user-p1", Role: domain.RolePartner, PartnerID: "partner-1"}
	partner2 = domain.Actor{ID: "user-p2", Role: domain.RolePartner, PartnerID: "partner-2"}
	manager  = domain.Actor{ID: "user-cm", Role: domain.RoleChannelManager}
	// checker stands for the duplicate checker, which records verdicts.
	checker = domain.Actor{ID: "conflict-checker", Role: domain.RoleAdmin}
)

// ledger is a real SQLite store whose recorded times come from a manual
// clock, and the same clock gives the command times, so both agree.
type ledger struct {
	tb    testing.TB
	store *eventstore.SQLite
	clock *domain.ManualClock
}

// mustOpenLedger opens a new ledger in a temporary directory, closed at the
// end of the test.
func mustOpenLedger(tb testing.TB) *ledger {
	tb.Helper()
	clock := domain.NewManualClock(t0)
	s, err := eventstore.OpenSQLite(filepath.Join(tb.TempDir(), "ledger.db"), eventstore.Options{Clock: clock})
	require.NoError(tb, err)
	tb.Cleanup(func() { s.Close() })
	return &ledger{tb: tb, store: s, clock: clock}
}

func (l *ledger) now() time.Time { return l.clock.Now() }

// record returns a func that appends the events a command decided (failing
// the test if it failed) to r's stream, with r's version as the expected
// revision and actor in the metadata, applies them to r and returns the
// global position of the last one. It reads as
// l.record(r, actor)(r.Approve(actor, p, l.now())).
func (l *ledger) record(r *domain.Registration, actor domain.Actor) func([]domain.Event, error) uint64 {
	l.tb.Helper()
	return func(events []domain.Event, err error) uint64 {
		l.tb.Helper()
		return l.append(r, actor, events, err)
	}
}

func (l *ledger) append(r *domain.Registration, actor domain.Actor, events []domain.Event, err error) uint64 {
	l.tb.Helper()
	require.NoError(l.tb, err)
	require.NotEmpty(l.tb, events)
	md, err := json.Marshal(projections.Metadata{
		ActorID: actor.ID, Role: actor.Role, PartnerID: actor.PartnerID,
		CorrelationID: uuid.NewString(), IdempotencyKey: uuid.NewString(),
	})
	require.NoError(l.tb, err)
	data := make([]domain.EventData, len(events))
	for i, e := range events {
		typ, version, payload, err := domain.EncodeEvent(e)
		require.NoError(l.tb, err)
		data[i] = domain.EventData{ID: uuid.New(), Type: typ, SchemaVersion: version, Data: payload, Metadata: md}
	}
	expected := domain.NoStream()
	if r.Version() > 0 {
		expected = domain.Exact(uint64(r.Version() - 1))
	}
	id := events[0].(domain.RegistrationEvent).AggregateID()
	res, err := l.store.Append(context.Background(), domain.RegistrationStream(id), expected, data...)
	require.NoError(l.tb, err)
	for _, e := range events {
		require.NoError(l.tb, r.Apply(e))
	}
	return res.Position
}

// draft drafts a registration for actor's partner now.
func (l *ledger) draft(actor domain.Actor, typ domain.RegistrationType, d domain.Details) *domain.Registration {
	l.tb.Helper()
	r := &domain.Registration{}
	l.record(r, actor)(domain.Draft(uuid.New(), actor, typ, d, l.now()))
	return r
}

// submitted drafts and submits an opportunity, and records verdict v on it.
func (l *ledger) submitted(actor domain.Actor, d domain.Details, v domain.Verdict) *domain.Registration {
	l.tb.Helper()
	r := l.draft(actor, domain.TypeOpportunity, d)
	l.record(r, actor)(r.Submit(actor, domain.DefaultPolicy(), l.now()))
	var matches []uuid.UUID
	if v != domain.VerdictClear {
		matches = []uuid.UUID{uuid.New()}
	}
	l.record(r, checker)(r.RecordVerdict(r.Attempt(), v, matches, "", l.now()))
	return r
}

// approved returns a cleared and approved opportunity.
func (l *ledger) approved(actor domain.Actor, d domain.Details) *domain.Registration {
	l.tb.Helper()
	r := l.submitted(actor, d, domain.VerdictClear)
	l.record(r, manager)(r.Approve(manager, domain.DefaultPolicy(), l.now()))
	return r
}

// details returns details that satisfy the submission minimum during the
// first weeks after t0.
func details(company, country, region string) domain.Details {
	return domain.Details{
		Account: domain.Account{CompanyName: company, Country: country, Region: region, Industry: "Healthcare"},
		Opportunity: domain.Opportunity{
			ProductLines:      []string{"HR Management", "Payroll"},
			EstimatedValue:    domain.Money{Amount: decimal.RequireFromString("150000.50"), Currency: "USD"},
			ExpectedCloseDate: t0.Add(120 * domain.Day),
		},
		Relationship: domain.Relationship{HowFound: domain.SourceReferral, FirstContactDate: t0.Add(-10 * domain.Day)},
	}
}

// head returns the position of the last event in the ledger.
func (l *ledger) head() uint64 {
	l.tb.Helper()
	require.NotZero(l.tb, l.store.Head())
	return l.store.Head() - 1
}

// mustReplay replays the whole ledger into a fresh projection.
func (l *ledger) mustReplay(upTo uint64) *projections.Registrations {
	l.tb.Helper()
	p, err := projections.Replay(context.Background(), l.store, upTo)
	require.NoError(l.tb, err)
	return p
}

// listAll pages through List with the given page size and filter.
func listAll(tb testing.TB, p *projections.Registrations, f projections.ListFilter, size int) []projections.RegistrationView {
	tb.Helper()
	var all []projections.RegistrationView
	cursor := ""
	for {
		items, next, err := p.List(f, cursor, size)
		require.NoError(tb, err)
		all = append(all, items...)
		if next == "" {
			return all
		}
		cursor = next
	}
}

func ids(views []projections.RegistrationView) []uuid.UUID {
	out := make([]uuid.UUID, len(views))
	for i, v := range views {
		out[i] = v.ID
	}
	return out
}

// mustFollower returns a Follower feeding handlers from l's store, with
// their state in a new state database in a temporary directory.
func mustFollower(tb testing.TB, l *ledger, handlers ...projections.Handler) *projections.Follower {
	tb.Helper()
	st, err := projections.OpenState(context.Background(), filepath.Join(tb.TempDir(), "views.db"), l.store)
	require.NoError(tb, err)
	tb.Cleanup(func() { st.Close() })
	f := projections.NewFollower(l.store, st, handlers...)
	require.NoError(tb, f.Load(context.Background()))
	return f
}
