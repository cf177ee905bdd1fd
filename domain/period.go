package domain

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParsePeriod parses a policy period in human units or in ISO 8601.
//
// Human units are one or more of an integer followed by d (a day of exactly
// 24 hours, as Day), h, m or s, largest first, without spaces: "90d",
// "48h", "1d12h", "30m", "0s". "0" alone is zero. ISO 8601 is the grammar of
// RFC 3339 Appendix A restricted to days, hours, minutes and seconds (see
// ParseISODuration): "P90D", "PT48H". Negative periods are refused; a
// policy has none.
func ParsePeriod(s string) (time.Duration, error) {
	if strings.HasPrefix(s, "P") {
		d, err := ParseISODuration(s)
		if err != nil {
			return 0, fmt.Errorf("%q is not a period: use human units such as \"90d\" or \"48h\", or ISO 8601 such as \"P90D\"", s)
		}
		return d, nil
	}
	bad := fmt.Errorf("%q is not a period: use human units such as \"90d\", \"48h\" or \"1d12h\", or ISO 8601 such as \"P90D\"", s)
	if s == "0" {
		return 0, nil
	}
	if s == "" {
		return 0, bad
	}
	var total time.Duration
	units := "dhms" // the units still allowed, in order
	for rest := s; rest != ""; {
		i := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
		if i <= 0 {
			return 0, bad
		}
		at := strings.IndexByte(units, rest[i])
		if at < 0 {
			return 0, bad
		}
		scale := [...]time.Duration{Day, time.Hour, time.Minute, time.Second}[4-len(units)+at]
		units = units[at+1:]
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil || n > int64((1<<63-1)/scale)-int64(total/scale) {
			return 0, bad
		}
		total += time.Duration(n) * scale
		rest = rest[i+1:]
	}
	return total, nil
}

// FormatPeriod writes d in the human units ParsePeriod reads, the way a
// policy says it: under three days in hours ("48h", "24h", "36h"), from
// three days on in days ("5d", "90d", "365d"), with any remainder in the
// smaller units ("3d12h", "90m"); zero is "0s". Fractions of a second are
// dropped (no policy period has them).
func FormatPeriod(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	var b strings.Builder
	if d >= 3*Day {
		b.WriteString(strconv.FormatInt(int64(d/Day), 10) + "d")
		d %= Day
	}
	for _, u := range []struct {
		unit  time.Duration
		label string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.unit; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10) + u.label)
			d %= u.unit
		}
	}
	if b.Len() == 0 {
		return "0s"
	}
	return b.String()
}

// ParseISODuration parses an ISO 8601 duration of days, hours, minutes and
// (fractional) seconds in the RFC 3339 (Appendix A) grammar, a day being 24
// hours: "P90D", "PT48H", "P1DT12H30M", "PT0S", "-P1D".
func ParseISODuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q is not an ISO 8601 duration of days, hours, minutes and seconds (such as \"P90D\" or \"PT48H\")", s)
	rest, neg := strings.CutPrefix(s, "-")
	rest, ok := strings.CutPrefix(rest, "P")
	if !ok || rest == "" {
		return 0, bad
	}
	var total time.Duration
	inTime, seen := false, false
	units := "D" // the units still allowed, in order
	for rest != "" {
		if rest[0] == 'T' {
			if inTime || len(rest) == 1 {
				return 0, bad
			}
			inTime, units, rest = true, "HMS", rest[1:]
			continue
		}
		i := strings.IndexFunc(rest, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if i <= 0 {
			return 0, bad
		}
		num, unit := rest[:i], rest[i]
		rest = rest[i+1:]
		at := strings.IndexByte(units, unit)
		if at < 0 {
			return 0, bad
		}
		units = units[at+1:]
		var scale time.Duration
		switch unit {
		case 'D':
			scale = Day
		case 'H':
			scale = time.Hour
		case 'M':
			scale = time.Minute
		case 'S':
			scale = time.Second
		}
		whole, frac, hasFrac := strings.Cut(num, ".")
		if whole == "" || (hasFrac && (unit != 'S' || frac == "" || len(frac) > 9 || rest != "")) {
			return 0, bad
		}
		n, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || n > int64((1<<63-1)/scale) {
			return 0, bad
		}
		total += time.Duration(n) * scale
		if hasFrac {
			f, err := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
			if err != nil {
				return 0, bad
			}
			total += time.Duration(f)
		}
		if total < 0 {
			return 0, bad
		}
		seen = true
	}
	if !seen {
		return 0, bad
	}
	if neg {
		total = -total
	}
	return total, nil
}
