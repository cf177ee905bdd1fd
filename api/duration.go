package api

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/dealreg/dealreg/domain"
)

// Duration is a period as the API shows it (domain.ISODuration): an ISO
// 8601 duration, "P90D", "PT48H". The ledger keeps durations as integer
// nanoseconds under names ending in _ns; only the HTTP representation is
// this one.
type Duration = domain.ISODuration

// ParseDuration parses an ISO 8601 duration of days, hours, minutes and
// (fractional) seconds, a day being 24 hours (domain.ParseISODuration).
func ParseDuration(s string) (Duration, error) {
	d, err := domain.ParseISODuration(s)
	return Duration(d), err
}

// nsSuffix ends the names under which the ledger stores durations.
const nsSuffix = "_ns"

// presentEventData returns an event's stored JSON as the API shows it:
// every duration, stored as integer nanoseconds under a name ending in
// "_ns", becomes a Duration under the name without the suffix, at any
// depth (so "terms.extension_length_ns": 2592000000000000 is shown as
// "terms.extension_length": "P30D"). Data without such a name is returned
// as it is.
func presentEventData(data json.RawMessage) json.RawMessage {
	if !bytes.Contains(data, []byte(nsSuffix+`"`)) {
		return data
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return data
	}
	out, err := json.Marshal(humanDurations(v))
	if err != nil {
		return data
	}
	return out
}

func humanDurations(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			if name, ok := strings.CutSuffix(k, nsSuffix); ok && name != "" {
				if d, ok := nanoseconds(x); ok {
					out[name] = d
					continue
				}
			}
			out[k] = humanDurations(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = humanDurations(x)
		}
		return out
	}
	return v
}

// nanoseconds reads a stored duration: an integer, or a list of them.
func nanoseconds(v any) (any, bool) {
	switch v := v.(type) {
	case json.Number:
		n, err := v.Int64()
		return Duration(n), err == nil
	case []any:
		out := make([]Duration, len(v))
		for i, x := range v {
			d, ok := nanoseconds(x)
			if !ok {
				return nil, false
			}
			out[i], ok = d.(Duration)
			if !ok {
				return nil, false
			}
		}
		return out, true
	case nil:
		return nil, true
	}
	return nil, false
}
