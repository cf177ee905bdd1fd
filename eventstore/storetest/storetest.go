// Package storetest is the contract every domain.EventStore backend must meet:
// a table of named behaviours (append with each kind of expected revision,
// idempotent retries, reads of a stream and of the global log in both
// directions, catch-up subscriptions, concurrency, close and reopen). A
// backend runs it in a few lines:
//
//	storetest.Run(t, storetest.Backend{Name: "sqlite", Open: ..., Reopen: ...})
//
// The suite names its streams with fresh UUIDs and only relies on events it
// appended itself, so it can run against a shared server.
package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/dealreg/dealreg/domain"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// Backend describes the store under test.
type Backend struct {
	Name string
	// Open returns a store for one test; the backend closes it in tb.Cleanup
	// (closing twice must be harmless).
	Open func(tb testing.TB) domain.EventStore
	// Reopen opens again the ledger behind a store the test has closed.
	Reopen func(tb testing.TB, closed domain.EventStore) domain.EventStore
	// ContiguousPositions: global positions are 0, 1, 2… with no gaps and a
	// new store is empty (the embedded store). Otherwise positions need only
	// increase strictly (KurrentDB's are log offsets).
	ContiguousPositions bool
	// GloballyUniqueIDs: an event ID stored in one stream is refused in any
	// other (the embedded store's unique index). KurrentDB deduplicates per
	// stream only.
	GloballyUniqueIDs bool
}

// behaviour is one named entry of the contract.
type behaviour struct {
	name string
	run  func(t *testing.T, b Backend)
}

// Run runs every behaviour of the contract as a subtest.
func Run(t *testing.T, b Backend) {
	for _, bh := range behaviours {
		t.Run(bh.name, func(t *testing.T) { bh.run(t, b) })
	}
}

var behaviours = []behaviour{
	{"AppendNoStream", testAppendNoStream},
	{"AppendExact", testAppendExact},
	{"AppendStreamExists", testAppendStreamExists},
	{"AppendAny", testAppendAny},
	{"AppendManyIsAtomic", testAppendManyIsAtomic},
	{"AppendInvalid", testAppendInvalid},
	{"RecordedEventFields", testRecordedEventFields},
	{"IdempotentRetry", testIdempotentRetry},
	{"DuplicateIDElsewhere", testDuplicateIDElsewhere},
	{"ReadStream", testReadStream},
	{"ReadStreamNotFound", testReadStreamNotFound},
	{"ReadAll", testReadAll},
	{"SubscribeCatchUpThenLive", testSubscribeCatchUpThenLive},
	{"SubscribeMidHistoryWhileAppending", testSubscribeMidHistoryWhileAppending},
	{"SubscribeCancel", testSubscribeCancel},
	{"ConcurrentSameStream", testConcurrentSameStream},
	{"ConcurrentManyStreams", testConcurrentManyStreams},
	{"Closed", testClosed},
	{"Reopen", testReopen},
}

// Event returns a new event of type typ whose data records n.
func Event(typ string, n int) domain.EventData {
	return domain.EventData{
		ID:            uuid.New(),
		Type:          typ,
		SchemaVersion: 1,
		Data:          json.RawMessage(fmt.Sprintf(`{"n":%d}`, n)),
		Metadata:      json.RawMessage(`{"actor":"storetest"}`),
	}
}

func events(typ string, count int) []domain.EventData {
	out := make([]domain.EventData, count)
	for i := range out {
		out[i] = Event(typ, i)
	}
	return out
}

func stream(prefix string) string { return prefix + "-" + uuid.NewString() }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func requireWrongRevision(t *testing.T, err error, actual uint64, exists bool) {
	t.Helper()
	var wrong *domain.WrongExpectedRevisionError
	require.ErrorAs(t, err, &wrong)
	require.Equal(t, exists, wrong.ActualExists, "actual exists")
	if exists {
		require.Equal(t, actual, wrong.Actual, "actual revision")
	}
	require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err))
}

func testAppendNoStream(t *testing.T, b Backend) {
	s, ctx, name := b.Open(t), ctxT(t), stream("nostream")
	res, err := s.Append(ctx, name, domain.NoStream(), Event("Created", 0))
	require.NoError(t, err)
	require.Equal(t, uint64(0), res.NextExpectedRevision)

	_, err = s.Append(ctx, name, domain.NoStream(), Event("Created", 1))
	requireWrongRevision(t, err, 0, true)
	got, err := s.ReadStream(ctx, name, domain.ReadStreamOptions{})
	require.NoError(t, err)
	require.Len(t, got, 1, "a refused append writes nothing")
}

func testAppendExact(t *testing.T, b Backend) {
	s, ctx, name := b.Open(t), ctxT(t), stream("exact")
	_, err := s.Append(ctx, name, domain.Exact(0), Event("E", 0))
	requireWrongRevision(t, err, 0, false)

	_, err = s.Append(ctx, name, domain.NoStream(), Event("E", 0))
	require.NoError(t, err)
	res, err := s.Append(ctx, name, domain.Exact(0), Event("E", 1), Event("E", 2))
	require.NoError(t, err)
	require.Equal(t, uint64(2), res.NextExpectedRevision)

	_, err = s.Append(ctx, name, domain.Exact(1), Event("E", 3))
	requireWrongRevision(t, err, 2, true)
	_, err = s.Append(ctx, name, domain.Exact(2), Event("E", 3))
	require.NoError(t, err)
}

func testAppendStreamExists(t *testing.T, b Backend) {
	s, ctx, name := b.Open(t), ctxT(t), stream("exists")
	_, err := s.Append(ctx, name, domain.StreamExists(), Event("E", 0))
	requireWrongRevision(t, err, 0, false)
	_, err = s.Append(ctx, name, domain.Any(), Event("E", 0))
	require.NoError(t, err)
	res, err := s.Append(ctx, name, domain.StreamExists(), Event("E", 1))
	require.NoError(t, err)
	require.Equal(t, uint64(1), res.NextExpectedRevision)
}

func testAppendAny(t *testing.T, b Backend) {
	s, ctx, name := b.Open(t), ctxT(t), stream("any")
	for i := range 3 {
		res, err := s.Append(ctx, name, domain.Any(), Event("E", i))
		require.NoError(t, err)
		require.Equal(t, uint64(i), res.NextExpectedRevision)
	}
}

func testAppendManyIsAtomic(t *testing.T, b Backend) {
	s, ctx, name := b.Open(t), ctxT(t), stream("many")
	batch := events("E", 5)
	res, err := s.Append(ctx, name, domain.NoStream(), batch...)
	require.NoError(t, err)
	require.Equal(t, uint64(4), res.NextExpectedRevision)
	got, err := s.ReadStream(ctx, name, domain.ReadStreamOptions{})
	require.NoError(t, err)
	require.Len(t, got, 5)
	for i, e := range got {
		require.Equal(t, uint64(i), e.Revision)
		require.Equal(t, batch[i].ID, e.ID)
		if i > 0 {
			require.Greater(t, e.Position, got[i-1].Position)
			if b.ContiguousPositions {
				require.Equal(t, got[i-1].Position+1, e.Position, "one append takes consecutive positions")
			}
		}
	}
	require.Equal(t, got[4].Position, res.Position, "the result names the last event's position")

	// A batch refused for its revision writes none of its events.
	_, err = s.Append(ctx, name, domain.Exact(0), events("E", 3)...)
	requireWrongRevision(t, err, 4, true)
	got, err = s.ReadStream(ctx, name, domain.ReadStreamOptions{})
	require.NoError(t, err)
	require.Len(t, got, 5)
}

func testAppendInvalid(t *testing.T, b Backend) {
	s, ctx := b.Open(t), ctxT(t)
	bad := Event("E", 0)
	bad.Data = json.RawMessage(`{"n":`)
	noID := Event("E", 0)
	noID.ID = uuid.Nil
	twice := Event("E", 0)
	for name, tc := range map[string]struct {
		stream string
		events []domain.EventData
	}{
		"EmptyStream": {"", []domain.EventData{Event("E", 0)}},
		"NoEvents":    {stream("invalid"), nil},
		"BadJSON":     {stream("invalid"), []domain.EventData{bad}},
		"NilID":       {stream("invalid"), []domain.EventData{noID}},
		"IDTwice":     {stream("invalid"), []domain.EventData{twice, twice}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.Append(ctx, tc.stream, domain.Any(), tc.events...)
			require.Error(t, err)
			require.Equal(t, domain.EINVALID, domain.ErrorCode(err), "%v", err)
			if tc.stream != "" {
				_, err = s.ReadStream(ctx, tc.stream, domain.ReadStreamOptions{})
				require.ErrorIs(t, err, domain.ErrStreamNotFound, "nothing was written")
			}
		})
	}
}

func testRecordedEventFields(t *testing.T, b Backend) {
	s, ctx, name := b.Open(t), ctxT(t), stream("fields")
	in := domain.EventData{
		ID:            uuid.New(),
		Type:          "RegistrationSubmitted",
		SchemaVersion: 3,
		Data:          json.RawMessage(`{"company":"Telefónica","value":"150000.00"}`),
		Metadata:      json.RawMessage(`{"actor":"u1","role":"partner","correlation_id":"c1"}`),
	}
	before := time.Now().Add(-time.Minute)
	res, err := s.Append(ctx, name, domain.NoStream(), in)
	require.NoError(t, err)
	got, err := s.ReadStream(ctx, name, domain.ReadStreamOptions{})
	require.NoError(t, err)
	require.Len(t, got, 1)
	e := got[0]
	require.Equal(t, in.ID, e.ID)
	require.Equal(t, name, e.Stream)
	require.Equal(t, uint64(0), e.Revision)
	require.Equal(t, res.Position, e.Position)
	require.Equal(t, in.Type, e.Type)
	require.Equal(t, in.SchemaVersion, e.SchemaVersion)
	require.JSONEq(t, string(in.Data), string(e.Data))
	require.JSONEq(t, string(in.Metadata), string(e.Metadata))
	require.True(t, e.RecordedAt.After(before), "recorded time %s is assigned by the store", e.RecordedAt)
	require.Equal(t, time.UTC, e.RecordedAt.Location())

	all, err := s.ReadAll(ctx, domain.ReadAllOptions{From: res.Position, Count: 1})
	require.NoError(t, err)
	require.Len(t, all, 1)
	require.Equal(t, e, all[0], "ReadAll and ReadStream return the same recorded event")
}

func testIdempotentRetry(t *testing.T, b Backend) {
	s, ctx, name := b.Open(t), ctxT(t), stream("idem")
	batch := events("E", 3)
	first, err := s.Append(ctx, name, domain.NoStream(), batch...)
	require.NoError(t, err)

	// The retry carries the same IDs and the same (now stale) expectation.
	again, err := s.Append(ctx, name, domain.NoStream(), batch...)
	require.NoError(t, err)
	require.Equal(t, first, again)

	got, err := s.ReadStream(ctx, name, domain.ReadStreamOptions{})
	require.NoError(t, err)
	require.Len(t, got, 3, "a retry writes nothing")

	// New events after a retry continue the stream normally.
	res, err := s.Append(ctx, name, domain.Exact(2), Event("E", 9))
	require.NoError(t, err)
	require.Equal(t, uint64(3), res.NextExpectedRevision)
}

func testDuplicateIDElsewhere(t *testing.T, b Backend) {
	if !b.GloballyUniqueIDs {
		t.Skipf("%s deduplicates event IDs per stream only", b.Name)
	}
	s, ctx := b.Open(t), ctxT(t)
	e := Event("E", 0)
	_, err := s.Append(ctx, stream("one"), domain.Any(), e)
	require.NoError(t, err)
	other := stream("two")
	_, err = s.Append(ctx, other, domain.Any(), Event("E", 1), e)
	require.ErrorIs(t, err, domain.ErrDuplicateEventID)
	_, err = s.ReadStream(ctx, other, domain.ReadStreamOptions{})
	require.ErrorIs(t, err, domain.ErrStreamNotFound, "the refused append wrote nothing")
}

func revisions(events []domain.RecordedEvent) []uint64 {
	out := make([]uint64, len(events))
	for i, e := range events {
		out[i] = e.Revision
	}
	return out
}

func testReadStream(t *testing.T, b Backend) {
	s, ctx, name := b.Open(t), ctxT(t), stream("read")
	_, err := s.Append(ctx, name, domain.NoStream(), events("E", 10)...)
	require.NoError(t, err)
	_, err = s.Append(ctx, stream("noise"), domain.NoStream(), events("E", 3)...)
	require.NoError(t, err)

	for _, tc := range []struct {
		name string
		opts domain.ReadStreamOptions
		want []uint64
	}{
		{"All", domain.ReadStreamOptions{}, []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"FromCount", domain.ReadStreamOptions{From: 3, Count: 4}, []uint64{3, 4, 5, 6}},
		{"PastEnd", domain.ReadStreamOptions{From: 10}, []uint64{}},
		{"Backwards", domain.ReadStreamOptions{Direction: domain.Backwards, FromEnd: true, Count: 3}, []uint64{9, 8, 7}},
		{"BackwardsFrom", domain.ReadStreamOptions{Direction: domain.Backwards, From: 2}, []uint64{2, 1, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ReadStream(ctx, name, tc.opts)
			require.NoError(t, err)
			require.Equal(t, tc.want, revisions(got))
			for _, e := range got {
				require.Equal(t, name, e.Stream)
			}
		})
	}
}

func testReadStreamNotFound(t *testing.T, b Backend) {
	s, ctx := b.Open(t), ctxT(t)
	_, err := s.ReadStream(ctx, stream("missing"), domain.ReadStreamOptions{})
	require.ErrorIs(t, err, domain.ErrStreamNotFound)
	require.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))
}

func testReadAll(t *testing.T, b Backend) {
	s, ctx := b.Open(t), ctxT(t)
	a, c := stream("all-a"), stream("all-b")
	var appended []uuid.UUID
	var firstPos uint64
	for i := range 6 {
		name := a
		if i%2 == 1 {
			name = c
		}
		e := Event("E", i)
		res, err := s.Append(ctx, name, domain.Any(), e)
		require.NoError(t, err)
		if i == 0 {
			firstPos = res.Position
		}
		appended = append(appended, e.ID)
	}
	if b.ContiguousPositions {
		require.Equal(t, uint64(0), firstPos, "a new embedded store starts at position 0")
	}
	mine := func(events []domain.RecordedEvent) []uuid.UUID {
		var ids []uuid.UUID
		for _, e := range events {
			if e.Stream == a || e.Stream == c {
				ids = append(ids, e.ID)
			}
		}
		return ids
	}

	fwd, err := s.ReadAll(ctx, domain.ReadAllOptions{From: firstPos})
	require.NoError(t, err)
	require.Equal(t, appended, mine(fwd))
	for i := 1; i < len(fwd); i++ {
		require.Greater(t, fwd[i].Position, fwd[i-1].Position)
		require.False(t, fwd[i].RecordedAt.Before(fwd[i-1].RecordedAt), "recorded time never decreases")
		if b.ContiguousPositions {
			require.Equal(t, fwd[i-1].Position+1, fwd[i].Position)
		}
	}

	page, err := s.ReadAll(ctx, domain.ReadAllOptions{From: fwd[2].Position, Count: 2})
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{appended[2], appended[3]}, mine(page))

	back, err := s.ReadAll(ctx, domain.ReadAllOptions{Direction: domain.Backwards, From: fwd[3].Position})
	require.NoError(t, err)
	ids := mine(back)
	require.GreaterOrEqual(t, len(ids), 4)
	require.Equal(t, []uuid.UUID{appended[3], appended[2], appended[1], appended[0]}, ids[:4])

	last, err := s.ReadAll(ctx, domain.ReadAllOptions{Direction: domain.Backwards, FromEnd: true, Count: 1})
	require.NoError(t, err)
	require.Len(t, last, 1)
	if b.ContiguousPositions {
		require.Equal(t, appended[5], last[0].ID)
	}
}

func next(t *testing.T, sub domain.Subscription) domain.RecordedEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e, err := sub.Next(ctx)
	require.NoError(t, err)
	return e
}

// nextOf returns the next event of the given streams, skipping others (a
// shared server may carry unrelated traffic).
func nextOf(t *testing.T, sub domain.Subscription, streams ...string) domain.RecordedEvent {
	t.Helper()
	for {
		e := next(t, sub)
		for _, s := range streams {
			if e.Stream == s {
				return e
			}
		}
	}
}

func testSubscribeCatchUpThenLive(t *testing.T, b Backend) {
	s, ctx, name := b.Open(t), ctxT(t), stream("sub")
	res, err := s.Append(ctx, name, domain.NoStream(), events("E", 3)...)
	require.NoError(t, err)
	first := res.Position
	if !b.ContiguousPositions {
		got, err := s.ReadStream(ctx, name, domain.ReadStreamOptions{Count: 1})
		require.NoError(t, err)
		first = got[0].Position
	} else {
		first -= 2
	}
	sub, err := s.SubscribeAll(ctx, first)
	require.NoError(t, err)
	defer sub.Close()
	for i := range 3 {
		require.Equal(t, uint64(i), nextOf(t, sub, name).Revision, "catch-up")
	}
	// Live: an event appended while the subscriber waits.
	got := make(chan domain.RecordedEvent, 1)
	go func() {
		e, err := sub.Next(ctx)
		if err == nil {
			got <- e
		}
		close(got)
	}()
	time.Sleep(20 * time.Millisecond)
	live := Event("Live", 3)
	_, err = s.Append(ctx, name, domain.Exact(2), live)
	require.NoError(t, err)
	select {
	case e, ok := <-got:
		require.True(t, ok, "subscription failed")
		if b.ContiguousPositions {
			require.Equal(t, live.ID, e.ID)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("live event not delivered")
	}
}

func testSubscribeMidHistoryWhileAppending(t *testing.T, b Backend) {
	s, ctx := b.Open(t), ctxT(t)
	name := stream("mid")
	const before, during = 50, 300
	var mid uint64
	for i := range before {
		res, err := s.Append(ctx, name, domain.Any(), Event("E", i))
		require.NoError(t, err)
		if i == before/2 {
			mid = res.Position
		}
	}
	sub, err := s.SubscribeAll(ctx, mid)
	require.NoError(t, err)
	defer sub.Close()

	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range during / 4 {
				if _, err := s.Append(ctx, name, domain.Any(), Event("E", w*1000+i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	want := before - before/2 + during
	seen := make(map[uuid.UUID]bool, want)
	var last domain.RecordedEvent
	for i := range want {
		e := nextOf(t, sub, name)
		require.False(t, seen[e.ID], "event %s delivered twice", e.ID)
		seen[e.ID] = true
		if i == 0 {
			require.Equal(t, mid, e.Position, "the subscription starts at the requested position")
			require.Equal(t, uint64(before/2), e.Revision)
		} else {
			require.Greater(t, e.Position, last.Position)
			require.Equal(t, last.Revision+1, e.Revision, "no gaps")
			if b.ContiguousPositions {
				require.Equal(t, last.Position+1, e.Position, "no gaps")
			}
		}
		last = e
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, seen, want)
}

func testSubscribeCancel(t *testing.T, b Backend) {
	s := b.Open(t)
	ctx, cancel := context.WithCancel(context.Background())
	head, err := s.ReadAll(context.Background(), domain.ReadAllOptions{Direction: domain.Backwards, FromEnd: true, Count: 1})
	require.NoError(t, err)
	from := uint64(0)
	if len(head) > 0 {
		from = head[0].Position + 1
	}
	sub, err := s.SubscribeAll(ctx, from)
	require.NoError(t, err)
	defer sub.Close()
	done := make(chan error, 1)
	go func() {
		for {
			if _, err := sub.Next(ctx); err != nil {
				done <- err
				return
			}
		}
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("Next did not return after its context was cancelled")
	}
}

func testConcurrentSameStream(t *testing.T, b Backend) {
	s, ctx, name := b.Open(t), ctxT(t), stream("race")
	_, err := s.Append(ctx, name, domain.NoStream(), Event("E", 0))
	require.NoError(t, err)
	const racers = 32
	var wg sync.WaitGroup
	results := make(chan error, racers)
	start := make(chan struct{})
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := s.Append(ctx, name, domain.Exact(0), Event("E", i+1))
			results <- err
		}()
	}
	close(start)
	wg.Wait()
	close(results)
	wins := 0
	for err := range results {
		if err == nil {
			wins++
			continue
		}
		requireWrongRevision(t, err, 1, true)
	}
	require.Equal(t, 1, wins, "exactly one racer wins")
	got, err := s.ReadStream(ctx, name, domain.ReadStreamOptions{})
	require.NoError(t, err)
	require.Len(t, got, 2)
}

func testConcurrentManyStreams(t *testing.T, b Backend) {
	s, ctx := b.Open(t), ctxT(t)
	const writers, each = 16, 40
	names := make([]string, writers)
	for i := range names {
		names[i] = stream(fmt.Sprintf("w%d", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// Half the writers use exact revisions, half any.
				exp := domain.Any()
				if w%2 == 0 {
					exp = domain.Exact(uint64(i - 1))
					if i == 0 {
						exp = domain.NoStream()
					}
				}
				if _, err := s.Append(ctx, names[w], exp, Event("E", i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	var positions []uint64
	for _, name := range names {
		got, err := s.ReadStream(ctx, name, domain.ReadStreamOptions{})
		require.NoError(t, err)
		require.Len(t, got, each)
		for i, e := range got {
			require.Equal(t, uint64(i), e.Revision)
			positions = append(positions, e.Position)
		}
	}
	sort.Slice(positions, func(i, j int) bool { return positions[i] < positions[j] })
	for i := 1; i < len(positions); i++ {
		require.NotEqual(t, positions[i-1], positions[i], "no two events share a position")
	}
	if b.ContiguousPositions {
		all, err := s.ReadAll(ctx, domain.ReadAllOptions{})
		require.NoError(t, err)
		require.Len(t, all, writers*each)
		for i, e := range all {
			require.Equal(t, uint64(i), e.Position, "no gaps in the global order")
		}
	}
}

func testClosed(t *testing.T, b Backend) {
	s, ctx, name := b.Open(t), ctxT(t), stream("closed")
	_, err := s.Append(ctx, name, domain.NoStream(), Event("E", 0))
	require.NoError(t, err)
	sub, err := s.SubscribeAll(ctx, 1<<62)
	require.NoError(t, err)
	waiting := make(chan error, 1)
	go func() {
		_, err := sub.Next(ctx)
		waiting <- err
	}()
	time.Sleep(20 * time.Millisecond)

	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "closing twice is harmless")

	select {
	case err := <-waiting:
		require.ErrorIs(t, err, domain.ErrClosed)
	case <-time.After(10 * time.Second):
		t.Fatal("a waiting subscription was not released by Close")
	}
	_, err = s.Append(ctx, name, domain.Any(), Event("E", 1))
	require.ErrorIs(t, err, domain.ErrClosed)
	_, err = s.ReadStream(ctx, name, domain.ReadStreamOptions{})
	require.ErrorIs(t, err, domain.ErrClosed)
	_, err = s.ReadAll(ctx, domain.ReadAllOptions{})
	require.ErrorIs(t, err, domain.ErrClosed)
	_, err = s.SubscribeAll(ctx, 0)
	require.ErrorIs(t, err, domain.ErrClosed)
}

func testReopen(t *testing.T, b Backend) {
	if b.Reopen == nil {
		t.Skipf("%s cannot reopen a ledger", b.Name)
	}
	s, ctx, name := b.Open(t), ctxT(t), stream("reopen")
	batch := events("E", 3)
	first, err := s.Append(ctx, name, domain.NoStream(), batch...)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s = b.Reopen(t, s)
	got, err := s.ReadStream(ctx, name, domain.ReadStreamOptions{})
	require.NoError(t, err)
	require.Len(t, got, 3)
	for i, e := range got {
		require.Equal(t, batch[i].ID, e.ID)
	}
	// The retry of the acknowledged append is still recognised after reopening.
	again, err := s.Append(ctx, name, domain.NoStream(), batch...)
	require.NoError(t, err)
	require.Equal(t, first, again)

	res, err := s.Append(ctx, name, domain.Exact(2), Event("E", 3))
	require.NoError(t, err)
	require.Equal(t, uint64(3), res.NextExpectedRevision)
	require.Greater(t, res.Position, first.Position)
	if b.ContiguousPositions {
		require.Equal(t, first.Position+1, res.Position, "positions continue without a gap")
	}
}
