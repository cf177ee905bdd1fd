package projections

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"

	json "github.com/goccy/go-json"

	"github.com/dealreg/dealreg/domain"
)

// ListSort is the order of List: a field of ListSorts and the direction.
// The zero ListSort is creation order, oldest first.
type ListSort struct {
	Field string // a key of ListSorts; "" is "created"
	Desc  bool
}

// sortKey is how one sort orders: the columns before pos (the
// registration's creation position, unique, so every order is total), in
// the registrations table and in registration_history, and which of them
// are integers (for the cursor).
type sortKey struct {
	cols, histCols []string
	ints           []bool
}

// ListSorts are the orders List knows. value orders by currency, then by
// the estimated value: amounts are compared only within a currency (with
// a currency filter, purely by value). expires orders by when protection
// lapses, the unprotected last. updated (the latest event) is not kept per
// version, so an as-of list cannot be ordered by it.
var ListSorts = map[string]sortKey{
	"created": {},
	"updated": {cols: []string{"updated_pos"}, ints: []bool{true}},
	"value":   {cols: []string{"currency", "value_e4"}, histCols: []string{"currency", "value_e4"}, ints: []bool{false, true}},
	"expires": {cols: []string{"expires_at"}, histCols: []string{"CASE WHEN protected = 1 THEN lapses_at ELSE 9223372036854775807 END"}, ints: []bool{true}},
	"partner": {cols: []string{"partner_id"}, histCols: []string{"partner_id"}, ints: []bool{false}},
}

// ParseListSort reads a sort parameter: a field of ListSorts, descending
// with a leading "-". An unknown field is an EINVALID error naming the
// field "sort".
func ParseListSort(s string) (ListSort, error) {
	var out ListSort
	out.Field, out.Desc = strings.CutPrefix(s, "-")
	if out.Field == "" && !out.Desc {
		return ListSort{}, nil
	}
	if _, ok := ListSorts[out.Field]; !ok {
		names := make([]string, 0, len(ListSorts))
		for k := range ListSorts {
			names = append(names, k)
		}
		slices.Sort(names)
		return ListSort{}, &domain.Error{Code: domain.EINVALID, Message: "invalid query parameters", Fields: []domain.FieldError{
			{Field: "sort", Code: domain.FieldInvalid, Message: fmt.Sprintf("%q: must be one of %s, each descending with a leading -", s, strings.Join(names, ", "))},
		}}
	}
	return out, nil
}

func (s ListSort) field() string {
	if s.Field == "" {
		return "created"
	}
	return s.Field
}

// cursor is where a page ends: the sort and the last row's key.
type cursor struct {
	Sort string   `json:"s"`
	Desc bool     `json:"d,omitempty"`
	Key  []string `json:"k,omitempty"` // the sort's columns, integers in decimal
	Pos  uint64   `json:"p"`
}

// cursorV2 prefixes a cursor of any sort; cursorVersion (creation order
// only) is still read.
const cursorV2 = 2

func (c cursor) encode() string {
	if c.Sort == "created" && !c.Desc {
		return encodeCursor(c.Pos)
	}
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(append([]byte{cursorV2}, b...))
}

func errBadCursor(why string) error {
	return &domain.Error{Code: domain.EINVALID, Message: "the cursor is invalid", Fields: []domain.FieldError{
		{Field: "cursor", Code: "invalid", Message: why},
	}}
}

// decodeListCursor reads a cursor for a listing in order s.
func decodeListCursor(raw string, s ListSort) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err == nil && len(b) == 9 && b[0] == cursorVersion {
		c := cursor{Sort: "created", Pos: binary.BigEndian.Uint64(b[1:])}
		if s.field() != "created" || s.Desc {
			return cursor{}, errBadCursor("the cursor was returned for another sort")
		}
		return c, nil
	}
	var c cursor
	if err != nil || len(b) < 2 || b[0] != cursorV2 || json.Unmarshal(b[1:], &c) != nil {
		return cursor{}, errBadCursor("must be a cursor returned by a previous page")
	}
	if c.Sort != s.field() || c.Desc != s.Desc {
		return cursor{}, errBadCursor("the cursor was returned for another sort")
	}
	k := ListSorts[c.Sort]
	if len(c.Key) != len(k.ints) {
		return cursor{}, errBadCursor("must be a cursor returned by a previous page")
	}
	for i, isInt := range k.ints {
		if _, err := strconv.ParseInt(c.Key[i], 10, 64); isInt && err != nil {
			return cursor{}, errBadCursor("must be a cursor returned by a previous page")
		}
	}
	if c.Pos > 1<<63-1 {
		return cursor{}, errBadCursor("must be a cursor returned by a previous page")
	}
	return c, nil
}

// keyArgs returns the cursor's key as query arguments.
func (c cursor) keyArgs() []any {
	k := ListSorts[c.Sort]
	out := make([]any, 0, len(c.Key)+1)
	for i, v := range c.Key {
		if k.ints[i] {
			n, _ := strconv.ParseInt(v, 10, 64)
			out = append(out, n)
		} else {
			out = append(out, v)
		}
	}
	return append(out, int64(c.Pos))
}
