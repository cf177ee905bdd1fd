// Package kurrentdb is the scale-out backend of the ledger: a thin adapter
// that implements domain.EventStore on KurrentDB (EventStoreDB), typically a
// 3-node cluster, through the official gRPC client
// (github.com/EventStore/EventStore-Client-Go/v4/esdb). It needs KurrentDB or
// EventStoreDB 22.6 or later (earlier servers report no log position on
// stream reads) and credentials allowed to read $all.
//
// The contract is the one the embedded SQLite store meets; what differs:
//
//   - Global positions are KurrentDB's $all commit positions: byte offsets in
//     the transaction log. They are unique and strictly increasing along the
//     global order but not contiguous, and a new ledger does not start at 0.
//     The contract's "no gaps" checks (storetest's ContiguousPositions) are
//     for the embedded store only.
//   - Positions are opaque. ReadAll and SubscribeAll are exact and cheap from
//     0 or from a position this store returned; from any other value (say a
//     checkpoint plus one) they are still exact, but first scan $all backwards
//     from its end down to that value, because KurrentDB can only start a read
//     at a record boundary.
//   - KurrentDB has no field for the schema version. Each event's metadata is
//     stored wrapped as {"schema_version":N,"meta":<metadata>} and unwrapped
//     on read, so a RecordedEvent round-trips exactly. Data and metadata are
//     stored in compact JSON, as the embedded store keeps them; empty
//     metadata reads back as {}.
//   - RecordedAt is the server's created date (UTC), stamped by the leader at
//     commit. It can step back if a leader change moves the cluster to a node
//     whose clock is behind; the embedded store's "never decreases" is only as
//     good as the cluster's clock synchronisation here.
//   - Event IDs are deduplicated per stream (KurrentDB's idempotent appends),
//     not across the ledger: ErrDuplicateEventID is never returned.
//   - ReadAll and SubscribeAll skip KurrentDB's own events ($-prefixed stream
//     or type) and events not written through this adapter (no envelope), so a
//     server may be shared with other applications. Stream names and event
//     types starting with $ are refused on append.
package kurrentdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/dealreg/dealreg/domain"
)

// Store is a domain.EventStore on a KurrentDB server or cluster. It is safe
// for concurrent use.
type Store struct {
	client *esdb.Client
	done   chan struct{} // closed by Close

	mu     sync.RWMutex
	closed bool
	ops    sync.WaitGroup // calls in flight, awaited by Close
	subs   map[*subscription]struct{}
	once   sync.Once
}

var _ domain.EventStore = (*Store)(nil)

// Option adjusts the client configuration parsed from the connection string
// (credentials, TLS, logging, deadlines…) before the client is created.
type Option func(*esdb.Configuration)

// Open connects to the server named by connectionString (for instance
// "esdb://admin:changeit@node1:2113,node2:2113,node3:2113?tls=true") and
// checks that $all can be read, giving up when ctx is done.
func Open(ctx context.Context, connectionString string, opts ...Option) (*Store, error) {
	conf, err := esdb.ParseConnectionString(connectionString)
	if err != nil {
		return nil, fmt.Errorf("kurrentdb: connection string: %w", err)
	}
	for _, opt := range opts {
		opt(conf)
	}
	client, err := esdb.NewClient(conf)
	if err != nil {
		return nil, fmt.Errorf("kurrentdb: %w", err)
	}
	s := &Store{client: client, done: make(chan struct{}), subs: make(map[*subscription]struct{})}
	// The client connects lazily and its discovery does not watch ctx.
	checked := make(chan error, 1)
	go func() {
		_, err := s.before(ctx, math.MaxUint64)
		checked <- err
	}()
	select {
	case err = <-checked:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("kurrentdb: cannot read $all: %w", err)
	}
	return s, nil
}

// begin registers a call in flight; it reports false once the store is closed.
func (s *Store) begin() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return false
	}
	s.ops.Add(1)
	return true
}

// fail maps an error of a call made with ctx.
func (s *Store) fail(ctx context.Context, err error) error {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return domain.ErrClosed
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return translate(err)
}

// Append implements domain.EventStore. The server acknowledges an append
// once it is durable on a majority of the cluster; Append then reads the last
// event back from the leader for its position (one extra round trip).
func (s *Store) Append(ctx context.Context, stream string, expected domain.ExpectedRevision, events ...domain.EventData) (domain.AppendResult, error) {
	if !s.begin() {
		return domain.AppendResult{}, domain.ErrClosed
	}
	defer s.ops.Done()
	proposed, err := eventData(stream, events)
	if err != nil {
		return domain.AppendResult{}, err
	}
	res, err := s.client.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: expectedRevision(expected)}, proposed...)
	if err != nil {
		return domain.AppendResult{}, s.appendError(ctx, stream, expected, err)
	}
	// The append reports no position for an idempotent retry, and does not
	// document its position as the last event's; read that event's position.
	last, err := s.readOne(ctx, stream, esdb.Forwards, esdb.Revision(res.NextExpectedVersion))
	if err == nil && last == nil {
		err = fmt.Errorf("event %d of stream %q is not readable after its append", res.NextExpectedVersion, stream)
	}
	if err != nil {
		return domain.AppendResult{}, s.fail(ctx, err)
	}
	if last.Position.Commit == noPosition {
		return domain.AppendResult{}, errors.New("kurrentdb: the server reports no log position on stream reads (KurrentDB or EventStoreDB 22.6 or later is required)")
	}
	return domain.AppendResult{NextExpectedRevision: res.NextExpectedVersion, Position: last.Position.Commit}, nil
}

// appendError maps an append failure; a wrong expected version becomes a
// *domain.WrongExpectedRevisionError with the stream's actual revision.
func (s *Store) appendError(ctx context.Context, stream string, expected domain.ExpectedRevision, err error) error {
	var e *esdb.Error
	if !errors.As(err, &e) || e.Code() != esdb.ErrorCodeWrongExpectedVersion {
		return s.fail(ctx, err)
	}
	if e.Err() != nil {
		if wrong, ok := wrongRevision(stream, expected, e.Err().Error()); ok {
			return wrong
		}
	}
	// The client's message did not carry the actual revision: ask the stream.
	last, rerr := s.readOne(ctx, stream, esdb.Backwards, esdb.End{})
	if rerr != nil {
		return s.fail(ctx, rerr)
	}
	wrong := &domain.WrongExpectedRevisionError{Stream: stream, Expected: expected}
	if last != nil {
		wrong.Actual, wrong.ActualExists = last.EventNumber, true
	}
	return wrong
}

// readOne reads one event of stream from the leader, nil if there is none.
func (s *Store) readOne(ctx context.Context, stream string, dir esdb.Direction, from esdb.StreamPosition) (*esdb.RecordedEvent, error) {
	rs, err := s.client.ReadStream(ctx, stream, esdb.ReadStreamOptions{Direction: dir, From: from, RequiresLeader: true}, 1)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	re, err := rs.Recv()
	switch {
	case errors.Is(err, io.EOF), errors.Is(translate(err), domain.ErrStreamNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return re.Event, nil
}

// count is the client's read count for the contract's Count (0: no limit).
func count(n int) uint64 {
	if n <= 0 {
		return math.MaxInt64
	}
	return uint64(n)
}

// ReadStream implements domain.EventStore.
func (s *Store) ReadStream(ctx context.Context, stream string, opts domain.ReadStreamOptions) ([]domain.RecordedEvent, error) {
	if !s.begin() {
		return nil, domain.ErrClosed
	}
	defer s.ops.Done()
	ro := esdb.ReadStreamOptions{Direction: esdb.Forwards, From: esdb.Revision(opts.From)}
	if opts.Direction == domain.Backwards {
		ro.Direction = esdb.Backwards
		if opts.FromEnd {
			ro.From = esdb.End{}
		}
	}
	rs, err := s.client.ReadStream(ctx, stream, ro, count(opts.Count))
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	defer rs.Close()
	out := []domain.RecordedEvent{}
	for {
		re, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		if re.Event == nil {
			continue
		}
		e, err := recordedEvent(re.Event)
		if err != nil {
			return nil, fmt.Errorf("kurrentdb: %w", err)
		}
		out = append(out, e)
	}
}

// ReadAll implements domain.EventStore; see the package documentation for
// which positions are cheap to read from.
func (s *Store) ReadAll(ctx context.Context, opts domain.ReadAllOptions) ([]domain.RecordedEvent, error) {
	if !s.begin() {
		return nil, domain.ErrClosed
	}
	defer s.ops.Done()
	out, err := s.readAll(ctx, opts)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return out, nil
}

func (s *Store) readAll(ctx context.Context, opts domain.ReadAllOptions) ([]domain.RecordedEvent, error) {
	from := opts.From
	all := func(uint64) bool { return true }
	if opts.Direction == domain.Backwards {
		if opts.FromEnd {
			return s.collect(ctx, esdb.Backwards, esdb.End{}, opts.Count, all)
		}
		first, err := s.probe(ctx, from)
		switch {
		case err != nil:
			return nil, err
		case first == nil && from == 0:
			return []domain.RecordedEvent{}, nil // no event at or before the start
		case first == nil:
			return s.collect(ctx, esdb.Backwards, esdb.End{}, opts.Count, func(p uint64) bool { return p <= from })
		}
		// A backward read of $all excludes its starting position.
		out := []domain.RecordedEvent{}
		if e, ok, err := ledgerEvent(first); err != nil {
			return nil, err
		} else if ok {
			out = append(out, e)
		}
		if opts.Count > 0 && len(out) == opts.Count {
			return out, nil
		}
		rest, err := s.collect(ctx, esdb.Backwards, first.Event.Position, opts.Count-len(out), all)
		return append(out, rest...), err
	}
	start, err := s.startAt(ctx, from)
	if err != nil {
		return nil, err
	}
	// A forward read of $all includes its starting position.
	return s.collect(ctx, esdb.Forwards, start.position, opts.Count, func(p uint64) bool { return p >= from })
}

// collect reads $all from a position and returns up to count (0: all)
// ledger events whose position is kept.
func (s *Store) collect(ctx context.Context, dir esdb.Direction, from esdb.AllPosition, count int, keep func(uint64) bool) ([]domain.RecordedEvent, error) {
	rs, err := s.client.ReadAll(ctx, esdb.ReadAllOptions{Direction: dir, From: from}, math.MaxInt64)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := []domain.RecordedEvent{}
	for count <= 0 || len(out) < count {
		re, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if re.Event == nil || !keep(re.Event.Position.Commit) {
			continue
		}
		e, ok, err := ledgerEvent(re)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// start is where a forward read or subscription of $all begins so as to
// see every event at or after a position.
type start struct {
	position esdb.AllPosition
	// exact is the event at exactly the position, when there is one; a read
	// from position includes it, a subscription from position excludes it.
	exact *esdb.ResolvedEvent
}

// startAt resolves a contract position into a KurrentDB one. 0 is the start
// of $all; a position this store returned is used as is; anything else is
// replaced by the newest record before it, found by reading $all backwards
// from its end, since KurrentDB cannot start a read inside a record.
func (s *Store) startAt(ctx context.Context, from uint64) (start, error) {
	if from == 0 {
		return start{position: esdb.Start{}}, nil
	}
	exact, err := s.probe(ctx, from)
	if err != nil {
		return start{}, err
	}
	if exact != nil {
		return start{position: exact.Event.Position, exact: exact}, nil
	}
	before, err := s.before(ctx, from)
	if err != nil || before == nil {
		return start{position: esdb.Start{}}, err
	}
	return start{position: *before}, nil
}

// probe returns the event (of any kind) at exactly position pos, or nil if
// there is none: pos is past the head, or not where a record starts. Reading
// from a position inside a record fails or returns another record, so
// failures other than ctx's are not errors here.
func (s *Store) probe(ctx context.Context, pos uint64) (*esdb.ResolvedEvent, error) {
	rs, err := s.client.ReadAll(ctx, esdb.ReadAllOptions{From: esdb.Position{Commit: pos, Prepare: pos}}, 1)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	re, err := rs.Recv()
	if err != nil || re.Event == nil || re.Event.Position.Commit != pos {
		return nil, ctx.Err()
	}
	return re, nil
}

// before returns the position of the newest event (of any kind) whose
// position is below pos, nil if there is none.
func (s *Store) before(ctx context.Context, pos uint64) (*esdb.Position, error) {
	rs, err := s.client.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, math.MaxInt64)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	for {
		re, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if re.Event != nil && re.Event.Position.Commit < pos {
			p := re.Event.Position
			return &p, nil
		}
	}
}

// Close implements domain.EventStore: it refuses new calls, ends the
// subscriptions (their Next returns ErrClosed), waits for calls in flight and
// closes the client.
func (s *Store) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		subs := s.subs
		s.subs = nil
		s.mu.Unlock()
		close(s.done)
		for sub := range subs {
			sub.Close()
		}
		s.ops.Wait()
		s.client.Close()
	})
	return nil
}
