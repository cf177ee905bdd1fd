package domain

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ISODuration is a period as people and the API read it: an ISO 8601 duration in the
// RFC 3339 (Appendix A) grammar, "P90D", "PT48H", "P1DT12H30M", "PT0S". A
// day is exactly 24 hours, as in the policy (Day); years, months and
// weeks are never used, since months and years have no fixed length. Whole
// days are written as days, so that the value reads as the policy says.
//
// The ledger keeps durations as integer nanoseconds under names ending in
// _ns; views and the HTTP API show them as this.
type ISODuration time.Duration

// String returns d in ISO 8601.
func (d ISODuration) String() string {
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
	if days := u / uint64(Day); days > 0 {
		b.WriteString(strconv.FormatUint(days, 10) + "D")
		u %= uint64(Day)
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
func (d ISODuration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads what MarshalJSON writes.
func (d *ISODuration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is an ISO 8601 string such as \"P90D\" or \"PT48H\"")
	}
	v, err := ParseISODuration(s)
	if err != nil {
		return err
	}
	*d = ISODuration(v)
	return nil
}
