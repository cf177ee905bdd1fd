package kurrentdb

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/dealreg/dealreg/domain"
)

// expectedRevision maps the contract's expected revision to the client's.
func expectedRevision(e domain.ExpectedRevision) esdb.ExpectedRevision {
	switch {
	case e.IsNoStream():
		return esdb.NoStream{}
	case e.IsStreamExists():
		return esdb.StreamExists{}
	}
	if r, ok := e.Revision(); ok {
		return esdb.Revision(r)
	}
	return esdb.Any{}
}

// envelope is the stored form of an event's metadata. KurrentDB has no field
// for the schema version, so the adapter stores
//
//	{"schema_version":N,"meta":<metadata>}
//
// as the event's user metadata and unwraps it on read.
type envelope struct {
	SchemaVersion *int            `json:"schema_version"`
	Meta          json.RawMessage `json:"meta"`
}

// errNotDealreg marks an event whose metadata is not the adapter's envelope:
// it was not written through this package.
var errNotDealreg = errors.New("event metadata is not a dealreg envelope")

// wrapMetadata returns the stored metadata for an event: the envelope around
// the canonical (compact) metadata, "{}" when meta is empty.
func wrapMetadata(schemaVersion int, meta json.RawMessage) ([]byte, error) {
	if schemaVersion < 1 {
		return nil, fmt.Errorf("schema version %d: must be 1 or more", schemaVersion)
	}
	canon := json.RawMessage("{}")
	if len(meta) > 0 {
		var err error
		if canon, err = domain.CompactJSON(meta); err != nil {
			return nil, fmt.Errorf("metadata is not valid JSON: %w", err)
		}
	}
	out := make([]byte, 0, len(canon)+32)
	out = append(out, `{"schema_version":`...)
	out = strconv.AppendInt(out, int64(schemaVersion), 10)
	out = append(out, `,"meta":`...)
	out = append(out, canon...)
	return append(out, '}'), nil
}

// unwrapMetadata reverses wrapMetadata. Anything else (empty, invalid JSON,
// a JSON value without both keys, a schema version below 1) is errNotDealreg.
func unwrapMetadata(stored []byte) (int, json.RawMessage, error) {
	var env envelope
	if err := json.Unmarshal(stored, &env); err != nil {
		return 0, nil, fmt.Errorf("%w: %v", errNotDealreg, err)
	}
	if env.SchemaVersion == nil || *env.SchemaVersion < 1 || len(env.Meta) == 0 {
		return 0, nil, errNotDealreg
	}
	return *env.SchemaVersion, env.Meta, nil
}

// isSystem reports whether an event belongs to KurrentDB itself ($-prefixed
// stream or type: stream metadata, links, tombstones, statistics, users…).
// Such events are not part of the ledger.
func isSystem(e *esdb.RecordedEvent) bool {
	return strings.HasPrefix(e.EventType, "$") || strings.HasPrefix(e.StreamID, "$")
}

// noPosition is what the client reports when the server gave no log position
// (stream reads on servers older than 22.6).
const noPosition = math.MaxUint64

// recordedEvent converts an event read from KurrentDB. The global position is
// the $all commit position (equal to the prepare position for events written
// by appends); the recorded time is the server's created date in UTC.
func recordedEvent(e *esdb.RecordedEvent) (domain.RecordedEvent, error) {
	version, meta, err := unwrapMetadata(e.UserMetadata)
	if err != nil {
		return domain.RecordedEvent{}, fmt.Errorf("event %s in stream %q: %w", e.EventID, e.StreamID, err)
	}
	if e.Position.Commit == noPosition {
		return domain.RecordedEvent{}, fmt.Errorf("event %s in stream %q: the server reported no log position (KurrentDB or EventStoreDB 22.6 or later is required)", e.EventID, e.StreamID)
	}
	return domain.RecordedEvent{
		ID:            e.EventID,
		Stream:        e.StreamID,
		Revision:      e.EventNumber,
		Position:      e.Position.Commit,
		Type:          e.EventType,
		SchemaVersion: version,
		Data:          json.RawMessage(e.Data),
		Metadata:      meta,
		RecordedAt:    e.CreatedDate.UTC(),
	}, nil
}

// Limits checked before an append. KurrentDB's own limit on a record is
// 16 MiB; events are kept well below it.
var appendLimits = domain.AppendLimits{MaxStreamName: 512, MaxEventType: 256, MaxEvents: 1000, MaxEventBytes: 1 << 20}

// eventData validates an append and converts its events, with data and
// metadata in canonical form. Failures are EINVALID domain errors with one
// field error per problem, as the embedded store reports them.
func eventData(stream string, events []domain.EventData) ([]esdb.EventData, error) {
	canon, fields := domain.CanonicalAppend(stream, events, appendLimits)
	if strings.HasPrefix(stream, "$") {
		fields = append(fields, domain.FieldError{Field: "stream", Code: "reserved", Message: "stream names starting with $ are reserved for KurrentDB"})
	}
	out := make([]esdb.EventData, len(canon))
	for i, e := range canon {
		if strings.HasPrefix(e.Type, "$") {
			fields = append(fields, domain.FieldError{Field: fmt.Sprintf("events[%d].type", i), Code: "reserved", Message: "event types starting with $ are reserved for KurrentDB"})
		}
		meta, err := wrapMetadata(max(e.SchemaVersion, 1), e.Metadata)
		if err != nil {
			continue // CanonicalAppend has reported the metadata
		}
		out[i] = esdb.EventData{
			EventID:     e.ID,
			EventType:   e.Type,
			ContentType: esdb.ContentTypeJson,
			Data:        e.Data,
			Metadata:    meta,
		}
	}
	if err := domain.InvalidAppend(fields); err != nil {
		return nil, err
	}
	return out, nil
}

// esdbCode returns the client error code carried anywhere in err's chain
// (the client wraps some of its errors with fmt.Errorf, which esdb.FromError
// does not see through).
func esdbCode(err error) (esdb.ErrorCode, bool) {
	var e *esdb.Error
	if errors.As(err, &e) {
		return e.Code(), true
	}
	return esdb.ErrorCodeUnknown, false
}

// translate maps a client error to the contract's errors (see mapCode).
func translate(err error) error {
	if err == nil {
		return nil
	}
	code, _ := esdbCode(err)
	return mapCode(code, err)
}

// mapCode maps a client error with the given code: stream not found or
// deleted is ErrStreamNotFound, a closed client is ErrClosed, anything else is
// returned wrapped. Wrong expected version is handled by wrongRevision, which
// needs the stream and the expectation.
func mapCode(code esdb.ErrorCode, err error) error {
	switch code {
	case esdb.ErrorCodeResourceNotFound, esdb.ErrorCodeStreamDeleted:
		return domain.ErrStreamNotFound
	case esdb.ErrorCodeConnectionClosed:
		return domain.ErrClosed
	}
	return fmt.Errorf("kurrentdb: %w", err)
}

// actualRevisionRE matches the client's wrong-expected-version message, the
// only place esdb v4 reports the stream's actual revision:
// "wrong expected version: expecting '<expected>' but got '<current>'",
// current being a revision or "no_stream".
var actualRevisionRE = regexp.MustCompile(`but got '([^']*)'`)

// wrongRevision builds the contract's error from the message of the client's
// wrong-expected-version error. ok is false when the message carries no
// parsable actual revision.
func wrongRevision(stream string, expected domain.ExpectedRevision, msg string) (_ *domain.WrongExpectedRevisionError, ok bool) {
	m := actualRevisionRE.FindStringSubmatch(msg)
	if m == nil {
		return nil, false
	}
	w := &domain.WrongExpectedRevisionError{Stream: stream, Expected: expected}
	if m[1] == "no_stream" {
		return w, true
	}
	actual, err := strconv.ParseUint(m[1], 10, 64)
	if err != nil {
		return nil, false
	}
	w.Actual, w.ActualExists = actual, true
	return w, true
}

// ledgerEvent converts an event read from $all if it belongs to the ledger.
// ok is false for KurrentDB's own events and for events not written through
// this adapter (a shared server may hold other applications' streams); both
// are skipped by ReadAll and SubscribeAll.
func ledgerEvent(re *esdb.ResolvedEvent) (_ domain.RecordedEvent, ok bool, _ error) {
	e := re.Event
	if e == nil || isSystem(e) {
		return domain.RecordedEvent{}, false, nil
	}
	r, err := recordedEvent(e)
	switch {
	case errors.Is(err, errNotDealreg):
		return domain.RecordedEvent{}, false, nil
	case err != nil:
		return domain.RecordedEvent{}, false, err
	}
	return r, true, nil
}
