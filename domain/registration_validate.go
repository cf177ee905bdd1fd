package domain

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Field error codes are stable strings clients may switch on, one per kind
// of failure; the message says the details.
const (
	FieldRequired   = "required"     // the field is missing or empty
	FieldInvalid    = "invalid"      // the value is malformed or not one of the allowed values
	FieldTooLong    = "too_long"     // the string is longer than allowed
	FieldTooMany    = "too_many"     // the list has more items than allowed
	FieldOutOfRange = "out_of_range" // the number, date or period lies outside its allowed range
	FieldDuplicate  = "duplicate"    // the same value appears twice in a list

	// Refused in the JSON text of a request, before any field is decoded.
	FieldInvalidUTF8   = "invalid_utf8"   // a string or a member name is not valid UTF-8
	FieldLoneSurrogate = "lone_surrogate" // a \u escape is half of a UTF-16 surrogate pair
	FieldDuplicateName = "duplicate_name" // an object names the same member twice (case aside)
)

// validator collects every failing field, in the order the fields are
// checked, so that one error reports all of them at once.
type validator struct {
	fields []FieldError
}

func (v *validator) add(field, code, message string) {
	v.fields = append(v.fields, FieldError{Field: field, Code: code, Message: message})
}

// err returns nil when nothing failed, or one EINVALID *Error listing every
// failing field.
func (v *validator) err(message string) error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: message, Fields: v.fields}
}

// text checks an optional free-text value: valid UTF-8, no control
// characters except newlines and tabs when multiline, at most max runes.
func (v *validator) text(field, s string, max int, multiline bool) bool {
	if !utf8.ValidString(s) {
		v.add(field, FieldInvalid, "must be valid UTF-8 text")
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t' || r == '\r')) {
			v.add(field, FieldInvalid, "must not contain control characters")
			return false
		}
	}
	if n := utf8.RuneCountInString(s); n > max {
		v.add(field, FieldTooLong, fmt.Sprintf("must be at most %d characters", max))
		return false
	}
	return true
}

// requiredText checks a free-text value that must not be blank.
func (v *validator) requiredText(field, s string, max int, multiline bool) {
	if strings.TrimSpace(s) == "" {
		v.add(field, FieldRequired, "is required")
		return
	}
	v.text(field, s, max, multiline)
}

// listLen checks a list's length and reports whether the items should be
// checked further.
func (v *validator) listLen(field string, n, max int) bool {
	if n > max {
		v.add(field, FieldTooMany, fmt.Sprintf("must have at most %d items", max))
		return false
	}
	return true
}

func (v *validator) oneOf(field, value string, allowed []string) {
	for _, a := range allowed {
		if value == a {
			return
		}
	}
	v.add(field, FieldInvalid, "must be one of: "+strings.Join(allowed, ", "))
}

var (
	domainLabel = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)
	tldLabel    = regexp.MustCompile(`^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$`)
	sha256Hex   = regexp.MustCompile(`^[0-9a-f]{64}$`)
	emailShape  = regexp.MustCompile(`^[^@\s]{1,64}@[^@\s]+$`)
)

// ValidDomain reports whether s is a lower-case DNS host name of at least two
// labels with an alphabetic (or IDNA "xn--") top-level label, such as
// "example.com". Schemes, paths, ports and trailing dots are not accepted;
// Normalize strips the forgivable ones.
func ValidDomain(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels[:len(labels)-1] {
		if !domainLabel.MatchString(l) {
			return false
		}
	}
	return tldLabel.MatchString(labels[len(labels)-1])
}

// ValidCountry reports whether s is an assigned ISO 3166-1 alpha-2 country
// code in upper case, or "XK" (Kosovo), the user-assigned code in common
// business use.
func ValidCountry(s string) bool {
	return len(s) == 2 && strings.Contains(countryCodes, " "+s+" ")
}

// ValidCurrency reports whether s is an active ISO 4217 currency code in upper
// case that a deal can be priced in. Fund codes, precious metals and testing
// codes (XAU, XDR, XTS, XXX, …) are not accepted.
func ValidCurrency(s string) bool {
	return len(s) == 3 && strings.Contains(currencyCodes, " "+s+" ")
}

// countryCodes lists ISO 3166-1 alpha-2 codes, space-separated with a space
// at both ends so that a lookup is one Contains.
const countryCodes = " " +
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ " +
	"BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ " +
	"DE DJ DK DM DO DZ " +
	"EC EE EG EH ER ES ET " +
	"FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY " +
	"HK HM HN HR HT HU " +
	"ID IE IL IM IN IO IQ IR IS IT " +
	"JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ " +
	"LA LB LC LI LK LR LS LT LU LV LY " +
	"MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
	"NA NC NE NF NG NI NL NO NP NR NU NZ " +
	"OM " +
	"PA PE PF PG PH PK PL PM PN PR PS PT PW PY " +
	"QA " +
	"RE RO RS RU RW " +
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ " +
	"TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
	"UA UG UM US UY UZ " +
	"VA VC VE VG VI VN VU " +
	"WF WS " +
	"XK " +
	"YE YT " +
	"ZA ZM ZW "

// currencyCodes lists the ISO 4217 currencies accepted for deal values,
// including a few recently replaced ones (ANG, SLL, ZWL) still found on
// contracts.
const currencyCodes = " " +
	"AED AFN ALL AMD ANG AOA ARS AUD AWG AZN " +
	"BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD " +
	"CAD CDF CHF CLP CNY COP CRC CUP CVE CZK " +
	"DJF DKK DOP DZD " +
	"EGP ERN ETB EUR " +
	"FJD FKP " +
	"GBP GEL GHS GIP GMD GNF GTQ GYD " +
	"HKD HNL HTG HUF " +
	"IDR ILS INR IQD IRR ISK " +
	"JMD JOD JPY " +
	"KES KGS KHR KMF KPW KRW KWD KYD KZT " +
	"LAK LBP LKR LRD LSL LYD " +
	"MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN " +
	"NAD NGN NIO NOK NPR NZD " +
	"OMR " +
	"PAB PEN PGK PHP PKR PLN PYG " +
	"QAR " +
	"RON RSD RUB RWF " +
	"SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL " +
	"THB TJS TMT TND TOP TRY TTD TWD TZS " +
	"UAH UGX USD UYU UZS " +
	"VED VES VND VUV " +
	"WST " +
	"XAF XCD XCG XOF XPF " +
	"YER " +
	"ZAR ZMW ZWG ZWL "
