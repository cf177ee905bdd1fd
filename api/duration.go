package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dealreg/dealreg/domain"
)

// Duration is a period as the API shows it: an ISO 8601 duration in the
// RFC 3339 (Appendix A) grammar, "P90D", "PT48H", "P1DT12H30M", "PT0S". A
// day is exactly 24 hours, as in the policy (domain.Day); years, months and
// weeks are never used, since months and years have no fixed length. Whole
// days are written as days, so that the value reads as the policy says.
//
// The ledger keeps durations as integer nanoseconds under names ending in
// _ns; only the HTTP representation is this one.
type Duration time.Duration

// String returns d in ISO 8601.
func (d Duration) String() string {
	v := time.Duration(d)
	if v == 0 {
		return "PT0S"
	}
	var b strings.Builder
	u := uint64(v)
	if v < 0 {
		b.WriteByte('-')
		u = -u
	}
	b.WriteByte('P')
	if days := u / uint64(domain.Day); days > 0 {
		b.WriteString(strconv.FormatUint(days, 10) + "D")
		u %= uint64(domain.Day)
	}
	if u == 0 {
		return b.String()
	}
	b.WriteByte('T')
	if h := u / uint64(time.Hour); h > 0 {
		b.WriteString(strconv.FormatUint(h, 10) + "H")
		u %= uint64(time.Hour)
	}
	if m := u / uint64(time.Minute); m > 0 {
		b.WriteString(strconv.FormatUint(m, 10) + "M")
		u %= uint64(time.Minute)
	}
	if u > 0 {
		b.WriteString(strconv.FormatUint(u/uint64(time.Second), 10))
		if frac := u % uint64(time.Second); frac > 0 {
			b.WriteString(strings.TrimRight(fmt.Sprintf(".%09d", frac), "0"))
		}
		b.WriteByte('S')
	}
	return b.String()
}

// MarshalJSON writes d as an ISO 8601 string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads what MarshalJSON writes.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is an ISO 8601 string such as \"P90D\" or \"PT48H\"")
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ParseDuration parses an ISO 8601 duration of days, hours, minutes and
// (fractional) seconds, a day being 24 hours (domain.ParseISODuration).
func ParseDuration(s string) (Duration, error) {
	d, err := domain.ParseISODuration(s)
	return Duration(d), err
}

// Terms are the protection terms granted at approval or renewal
// (domain.ProtectionTerms), with the extension length in human units.
type Terms struct {
	PolicyVersion   int                     `json:"policy_version"`
	Type            domain.RegistrationType `json:"type"`
	ProtectionStart time.Time               `json:"protection_start"`
	ProtectionEnd   time.Time               `json:"protection_end"`
	MaxExtensions   int                     `json:"max_extensions"`
	ExtensionLength Duration                `json:"extension_length"`
}

// termsOf presents t, or nil for no terms (not yet approved).
func termsOf(t domain.ProtectionTerms) *Terms {
	if t == (domain.ProtectionTerms{}) {
		return nil
	}
	return &Terms{
		PolicyVersion: t.PolicyVersion, Type: t.Type, ProtectionStart: t.ProtectionStart, ProtectionEnd: t.ProtectionEnd,
		MaxExtensions: t.MaxExtensions, ExtensionLength: Duration(t.ExtensionLength),
	}
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
