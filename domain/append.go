package domain

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
)

// AppendLimits bound one append. Each backend sets its own; the checks are
// the same for all, so both report an invalid append identically.
type AppendLimits struct {
	MaxEvents     int // events in one append
	MaxEventBytes int // data + metadata of one event
	MaxStreamName int // bytes
	MaxEventType  int // bytes
}

// CanonicalAppend checks an append and returns its events in the canonical
// form every backend stores and hashes: data and metadata as compact JSON,
// empty metadata as {}. (An export compacts JSON, so only a ledger that
// stores compact JSON re-imports to the same hashes.) It reports every
// failing field at once; the caller may add its own before calling
// InvalidAppend.
func CanonicalAppend(stream string, events []EventData, l AppendLimits) ([]EventData, []FieldError) {
	var fields []FieldError
	add := func(field, code, msg string) {
		fields = append(fields, FieldError{Field: field, Code: code, Message: msg})
	}
	switch {
	case stream == "":
		add("stream", "required", "stream name is required")
	case len(stream) > l.MaxStreamName:
		add("stream", "too_long", fmt.Sprintf("stream name is longer than %d bytes", l.MaxStreamName))
	}
	switch {
	case len(events) == 0:
		add("events", "required", "at least one event is required")
	case len(events) > l.MaxEvents:
		add("events", "too_long", fmt.Sprintf("more than %d events in one append", l.MaxEvents))
	}
	var seen map[uuid.UUID]struct{}
	if len(events) > 1 {
		seen = make(map[uuid.UUID]struct{}, len(events))
	}
	out := make([]EventData, len(events))
	for i, e := range events {
		// Build the field prefix only when something is wrong: a Sprintf
		// per event showed up in the append profile.
		f := func(name string) string { return fmt.Sprintf("events[%d].%s", i, name) }
		if e.ID == uuid.Nil {
			add(f("id"), "required", "event ID is required")
		} else if _, dup := seen[e.ID]; dup {
			add(f("id"), "duplicate", "event ID appears twice in one append")
		}
		if seen != nil {
			seen[e.ID] = struct{}{}
		}
		if e.Type == "" {
			add(f("type"), "required", "event type is required")
		} else if len(e.Type) > l.MaxEventType {
			add(f("type"), "too_long", fmt.Sprintf("event type is longer than %d bytes", l.MaxEventType))
		}
		if e.SchemaVersion < 1 {
			add(f("schema_version"), "out_of_range", "schema version must be 1 or more")
		}
		c := e
		var err error
		// One pass over the JSON both validates and compacts it.
		if c.Data, err = CompactJSON(e.Data); err != nil {
			add(f("data"), "invalid", "data must be valid JSON")
		}
		if len(bytes.TrimSpace(e.Metadata)) == 0 {
			c.Metadata = json.RawMessage("{}")
		} else if c.Metadata, err = CompactJSON(e.Metadata); err != nil {
			add(f("metadata"), "invalid", "metadata must be valid JSON")
		}
		if len(e.Data)+len(e.Metadata) > l.MaxEventBytes {
			add(f("data"), "too_long", fmt.Sprintf("event is larger than %d bytes", l.MaxEventBytes))
		}
		out[i] = c
	}
	return out, fields
}

// InvalidAppend returns the EINVALID error for fields, or nil if there are none.
func InvalidAppend(fields []FieldError) error {
	if len(fields) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "the append is invalid", Fields: fields}
}

// CompactJSON returns b as compact JSON in a new slice; it fails, as
// json.Valid would, on invalid JSON.
func CompactJSON(b []byte) (json.RawMessage, error) {
	var buf bytes.Buffer
	buf.Grow(len(b))
	if err := json.Compact(&buf, b); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
