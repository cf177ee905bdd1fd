package domain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// EventStore is the ledger: an append-only log of immutable events grouped in
// streams, with one total (global) order over all streams. Its semantics are
// those of KurrentDB (EventStoreDB), so the embedded SQLite backend and the
// KurrentDB adapter are interchangeable.
//
// Errors: Append returns a *WrongExpectedRevisionError when the expected
// revision does not hold, ErrDuplicateEventID when an event ID is already
// stored in a different position that cannot be an idempotent retry, and
// ErrStorageFull when the disk is full. ReadStream returns ErrStreamNotFound
// for a stream with no events. Every method returns ErrClosed after Close.
type EventStore interface {
	// Append writes events to the end of stream atomically, if the stream's
	// current revision matches expected. It returns only after the events
	// are durable. Appending events whose IDs are all already stored, in
	// order, at the end of a matching earlier append is idempotent: the
	// original result is returned and nothing is written.
	Append(ctx context.Context, stream string, expected ExpectedRevision, events ...EventData) (AppendResult, error)

	// ReadStream reads up to opts.Count events of one stream.
	ReadStream(ctx context.Context, stream string, opts ReadStreamOptions) ([]RecordedEvent, error)

	// ReadAll reads up to opts.Count events of all streams in global order.
	ReadAll(ctx context.Context, opts ReadAllOptions) ([]RecordedEvent, error)

	// SubscribeAll returns a subscription that delivers every event with a
	// global position >= from, first those already stored (catch-up), then
	// new ones as they are committed, without gaps or repeats.
	SubscribeAll(ctx context.Context, from uint64) (Subscription, error)

	// Close stops accepting work, waits for queued appends to finish and
	// releases resources. It is safe to call more than once.
	Close() error
}

// Subscription delivers events in global order. It is not safe for
// concurrent use by several goroutines.
type Subscription interface {
	// Next blocks until the next event is available, ctx is done, the
	// subscription is closed, or the store is closed (ErrClosed).
	Next(ctx context.Context) (RecordedEvent, error)
	// Close releases the subscription. It is safe to call more than once.
	Close() error
}

// EventData is an event as the writer proposes it. The writer sets ID, so a
// retried append of the same event is recognised by the store.
type EventData struct {
	ID            uuid.UUID
	Type          string
	SchemaVersion int
	Data          json.RawMessage
	Metadata      json.RawMessage
}

// RecordedEvent is an event as the store recorded it. Position and RecordedAt
// are assigned by the store inside the committing transaction; RecordedAt
// never decreases along the global order.
type RecordedEvent struct {
	ID            uuid.UUID       `json:"id"`
	Stream        string          `json:"stream"`
	Revision      uint64          `json:"revision"`
	Position      uint64          `json:"position"`
	Type          string          `json:"type"`
	SchemaVersion int             `json:"schema_version"`
	Data          json.RawMessage `json:"data"`
	Metadata      json.RawMessage `json:"metadata"`
	RecordedAt    time.Time       `json:"recorded_at"`
}

// AppendResult tells where an append landed: the stream revision and the
// global position of its last event.
type AppendResult struct {
	NextExpectedRevision uint64 `json:"next_expected_revision"`
	Position             uint64 `json:"position"`
}

// ExpectedRevision is the optimistic-concurrency condition of an append.
// Use Any, NoStream, StreamExists or Exact.
type ExpectedRevision struct {
	kind     revisionKind
	revision uint64
}

type revisionKind uint8

const (
	revisionAny revisionKind = iota
	revisionNoStream
	revisionStreamExists
	revisionExact
)

// Any accepts the append whatever the stream's state.
func Any() ExpectedRevision { return ExpectedRevision{kind: revisionAny} }

// NoStream accepts the append only if the stream has no events.
func NoStream() ExpectedRevision { return ExpectedRevision{kind: revisionNoStream} }

// StreamExists accepts the append only if the stream has at least one event.
func StreamExists() ExpectedRevision { return ExpectedRevision{kind: revisionStreamExists} }

// Exact accepts the append only if the stream's last event has revision r.
func Exact(r uint64) ExpectedRevision { return ExpectedRevision{kind: revisionExact, revision: r} }

// IsAny, IsNoStream, IsStreamExists report the kind; Revision reports the
// exact revision and whether there is one.
func (e ExpectedRevision) IsAny() bool          { return e.kind == revisionAny }
func (e ExpectedRevision) IsNoStream() bool     { return e.kind == revisionNoStream }
func (e ExpectedRevision) IsStreamExists() bool { return e.kind == revisionStreamExists }
func (e ExpectedRevision) Revision() (uint64, bool) {
	return e.revision, e.kind == revisionExact
}

// Check reports whether a stream whose last revision is current (exists is
// false for a stream with no events) satisfies e.
func (e ExpectedRevision) Check(current uint64, exists bool) bool {
	switch e.kind {
	case revisionNoStream:
		return !exists
	case revisionStreamExists:
		return exists
	case revisionExact:
		return exists && current == e.revision
	}
	return true
}

func (e ExpectedRevision) String() string {
	switch e.kind {
	case revisionNoStream:
		return "no stream"
	case revisionStreamExists:
		return "stream exists"
	case revisionExact:
		return fmt.Sprintf("revision %d", e.revision)
	}
	return "any"
}

// Direction is the order of a read.
type Direction uint8

const (
	Forwards Direction = iota
	Backwards
)

// ReadStreamOptions selects events of one stream. From is the first revision
// to return (inclusive); reading backwards with FromEnd starts at the last
// event. A Count of 0 means no limit.
type ReadStreamOptions struct {
	Direction Direction
	From      uint64
	FromEnd   bool
	Count     int
}

// ReadAllOptions selects events of the global log. From is the first
// position to return (inclusive); reading backwards with FromEnd starts at
// the newest event. A Count of 0 means no limit.
type ReadAllOptions struct {
	Direction Direction
	From      uint64
	FromEnd   bool
	Count     int
}

// Sentinel errors of the store contract.
var (
	ErrStreamNotFound   = errors.New("stream not found")
	ErrClosed           = errors.New("event store closed")
	ErrStorageFull      = errors.New("storage full: the ledger cannot accept writes until space is freed")
	ErrDuplicateEventID = &Error{Code: ECONFLICT, Message: "an event with this ID is already stored elsewhere in the ledger"}
)

// WrongExpectedRevisionError is returned by Append when the stream's revision
// does not satisfy the expected revision.
type WrongExpectedRevisionError struct {
	Stream   string
	Expected ExpectedRevision
	// Actual is the stream's last revision; ActualExists is false when the
	// stream has no events.
	Actual       uint64
	ActualExists bool
}

func (e *WrongExpectedRevisionError) Error() string {
	actual := "no stream"
	if e.ActualExists {
		actual = fmt.Sprintf("revision %d", e.Actual)
	}
	return fmt.Sprintf("wrong expected revision for stream %q: expected %s, stream is at %s", e.Stream, e.Expected, actual)
}
