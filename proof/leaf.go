package proof

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"
)

// LeafPrefix starts every leaf's bytes, so a leaf of this format can never
// be confused with bytes hashed under another scheme or a later version.
const LeafPrefix = "dealreg/event/v1\n"

// Leaf is one recorded event as its Merkle leaf holds it: every field, and
// nothing about any other event.
type Leaf struct {
	EventID       [16]byte
	Stream        string
	Revision      uint64
	Position      uint64
	Type          string
	SchemaVersion uint64
	RecordedAt    int64 // Unix nanoseconds
	Data          []byte
	Metadata      []byte
}

// Encode returns the leaf bytes hashed into the tree: LeafPrefix, then each
// field as uvarint(length) || bytes in a fixed order, numbers as 8-byte
// big-endian, so that no two different events share leaf bytes.
func (l Leaf) Encode() []byte {
	buf := make([]byte, 0, len(LeafPrefix)+len(l.Stream)+len(l.Type)+len(l.Data)+len(l.Metadata)+96)
	buf = append(buf, LeafPrefix...)
	field := func(b []byte) {
		buf = binary.AppendUvarint(buf, uint64(len(b)))
		buf = append(buf, b...)
	}
	num := func(v uint64) { field(binary.BigEndian.AppendUint64(nil, v)) }
	field(l.EventID[:])
	field([]byte(l.Stream))
	num(l.Revision)
	num(l.Position)
	field([]byte(l.Type))
	num(l.SchemaVersion)
	num(uint64(l.RecordedAt))
	field(l.Data)
	field(l.Metadata)
	return buf
}

var errLeaf = errors.New("the leaf bytes are not an event of this ledger's format (dealreg/event/v1): they were changed or cut")

// DecodeLeaf parses leaf bytes. It accepts exactly the bytes Encode writes.
func DecodeLeaf(b []byte) (Leaf, error) {
	if len(b) < len(LeafPrefix) || string(b[:len(LeafPrefix)]) != LeafPrefix {
		return Leaf{}, errLeaf
	}
	rest := b[len(LeafPrefix):]
	field := func() ([]byte, bool) {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return nil, false
		}
		v := rest[k : k+int(n)]
		rest = rest[k+int(n):]
		return v, true
	}
	num := func() (uint64, bool) {
		v, ok := field()
		if !ok || len(v) != 8 {
			return 0, false
		}
		return binary.BigEndian.Uint64(v), true
	}
	var l Leaf
	id, ok := field()
	if !ok || len(id) != 16 {
		return Leaf{}, errLeaf
	}
	copy(l.EventID[:], id)
	var stream, typ []byte
	var at uint64
	oks := []bool{}
	var ok2 bool
	stream, ok2 = field()
	oks = append(oks, ok2)
	l.Revision, ok2 = num()
	oks = append(oks, ok2)
	l.Position, ok2 = num()
	oks = append(oks, ok2)
	typ, ok2 = field()
	oks = append(oks, ok2)
	l.SchemaVersion, ok2 = num()
	oks = append(oks, ok2)
	at, ok2 = num()
	oks = append(oks, ok2)
	l.Data, ok2 = field()
	oks = append(oks, ok2)
	l.Metadata, ok2 = field()
	oks = append(oks, ok2)
	for _, ok := range oks {
		if !ok {
			return Leaf{}, errLeaf
		}
	}
	if len(rest) != 0 {
		return Leaf{}, errLeaf
	}
	l.Stream, l.Type, l.RecordedAt = string(stream), string(typ), int64(at)
	return l, nil
}

// Event is a leaf shown for people: the same fields, decoded.
type Event struct {
	ID            string          `json:"id"`
	Stream        string          `json:"stream"`
	Revision      uint64          `json:"revision"`
	Position      uint64          `json:"position"`
	Type          string          `json:"type"`
	SchemaVersion uint64          `json:"schema_version"`
	RecordedAt    time.Time       `json:"recorded_at"`
	Data          json.RawMessage `json:"data"`
	Metadata      json.RawMessage `json:"metadata"`
}

// Event returns the leaf's fields for people to read.
func (l Leaf) Event() Event {
	id := hex.EncodeToString(l.EventID[:])
	id = id[:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:]
	return Event{
		ID: id, Stream: l.Stream, Revision: l.Revision, Position: l.Position, Type: l.Type,
		SchemaVersion: l.SchemaVersion, RecordedAt: time.Unix(0, l.RecordedAt).UTC(),
		Data: json.RawMessage(l.Data), Metadata: json.RawMessage(l.Metadata),
	}
}

// sameEvent compares an event as shown with the leaf's own fields.
func sameEvent(shown Event, l Leaf) error {
	want := l.Event()
	switch {
	case shown.ID != want.ID:
		return fmt.Errorf("the event shown has ID %s, the leaf bytes %s", shown.ID, want.ID)
	case shown.Stream != want.Stream || shown.Revision != want.Revision:
		return fmt.Errorf("the event shown is %s revision %d, the leaf bytes say %s revision %d", shown.Stream, shown.Revision, want.Stream, want.Revision)
	case shown.Position != want.Position:
		return fmt.Errorf("the event shown is at position %d, the leaf bytes say %d", shown.Position, want.Position)
	case shown.Type != want.Type || shown.SchemaVersion != want.SchemaVersion:
		return fmt.Errorf("the event shown is a %s (v%d), the leaf bytes a %s (v%d)", shown.Type, shown.SchemaVersion, want.Type, want.SchemaVersion)
	case !shown.RecordedAt.Equal(want.RecordedAt):
		return fmt.Errorf("the event shown was recorded at %s, the leaf bytes say %s", shown.RecordedAt.Format(time.RFC3339Nano), want.RecordedAt.Format(time.RFC3339Nano))
	case !sameJSON(shown.Data, want.Data):
		return fmt.Errorf("the event's data shown differs from the data in the leaf bytes")
	case !sameJSON(shown.Metadata, want.Metadata):
		return fmt.Errorf("the event's metadata shown differs from the metadata in the leaf bytes")
	}
	return nil
}

// sameJSON compares two JSON texts by value: an encoder may escape
// characters (e.g. < as \u003c) that the leaf holds as they are.
func sameJSON(a, b []byte) bool {
	decode := func(t []byte) (any, bool) {
		d := json.NewDecoder(bytes.NewReader(t))
		d.UseNumber()
		var v any
		if d.Decode(&v) != nil || d.More() {
			return nil, false
		}
		return v, true
	}
	va, ok1 := decode(a)
	vb, ok2 := decode(b)
	return ok1 && ok2 && reflect.DeepEqual(va, vb)
}
