package api

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dealreg/dealreg/domain"
)

// checkJSONText refuses what encoding/json would otherwise accept and
// silently alter: a string (value or name) that is not valid UTF-8, a \u
// escape that is half of a surrogate pair, and an object that names a
// member twice (encoding/json keeps the last; it also matches names without
// regard to case, so names equal but for case count as the same name). The
// error is an EINVALID field error naming the member by its dotted path
// ("details.account.company_name", "timeline[2].kind").
//
// It is a token-level pass that runs before the strict decode of every JSON
// body (decodeJSON). JSON that is not well formed is left to that decode,
// which reports it.
func checkJSONText(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		object bool
		names  map[string]struct{}
		key    string // the member being read, in an object
		index  int    // the element being read, in an array
	}
	var stack []*frame
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			if f.object {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			} else {
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
			}
		}
		return b.String()
	}
	// expectName is true when the next string token of the innermost
	// object is a member name.
	expectName := false
	prev := int64(0)
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // end of the value, or malformed: decodeJSON reports it
		}
		raw := body[prev:dec.InputOffset()]
		prev = dec.InputOffset()
		top := len(stack) - 1
		if name, ok := tok.(string); ok && expectName {
			f := stack[top]
			f.key = name
			if code, msg := checkStringText(raw); code != "" {
				return jsonTextError(path(), code, "the member's name "+msg)
			}
			folded := foldName(name)
			if _, dup := f.names[folded]; dup {
				return jsonTextError(path(), domain.FieldDuplicateName, "is given more than once (names are compared without regard to case)")
			}
			f.names[folded] = struct{}{}
			expectName = false
			continue
		}
		if top >= 0 && !stack[top].object && tok != json.Delim(']') {
			// A new element of the innermost array starts; its index is
			// counted before it is checked, so errors name it.
			stack[top].index++
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, names: map[string]struct{}{}})
			expectName = true
			continue
		case json.Delim('['):
			stack = append(stack, &frame{index: -1})
			expectName = false
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:top]
		default:
			if _, ok := tok.(string); ok {
				if code, msg := checkStringText(raw); code != "" {
					return jsonTextError(path(), code, msg)
				}
			}
		}
		if len(stack) == 0 {
			return nil // the first value is complete; decodeJSON refuses a second
		}
		expectName = stack[len(stack)-1].object
	}
}

// checkStringText checks the raw bytes of one JSON string token (with the
// whitespace and delimiters before it, which hold neither backslashes nor
// non-ASCII bytes): valid UTF-8, and every \u escape of a surrogate one half
// of a high-low pair.
func checkStringText(raw []byte) (code, msg string) {
	if !utf8.Valid(raw) {
		return domain.FieldInvalidUTF8, "is not valid UTF-8"
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++
		if i >= len(raw) || raw[i] != 'u' {
			continue // a one-character escape; the decoder checks which
		}
		r, ok := hex4(raw, i+1)
		i += 4
		if !ok {
			continue
		}
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return domain.FieldLoneSurrogate, "holds a \\u escape of a lone low surrogate, which is no character"
		case r >= 0xD800 && r <= 0xDBFF:
			if i+2 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
				if low, ok := hex4(raw, i+3); ok && low >= 0xDC00 && low <= 0xDFFF {
					i += 6
					continue
				}
			}
			return domain.FieldLoneSurrogate, "holds a \\u escape of a lone high surrogate, which is no character"
		}
	}
	return "", ""
}

// hex4 reads the four hex digits at raw[at:].
func hex4(raw []byte, at int) (rune, bool) {
	if at+4 > len(raw) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(raw[at:at+4]), 16, 32)
	return rune(n), err == nil
}

// foldName maps a name to one representative of the names
// strings.EqualFold holds equal to it, the comparison encoding/json uses to
// match names to struct fields.
func foldName(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}

func jsonTextError(field, code, msg string) error {
	if field == "" {
		return &domain.Error{Code: domain.EINVALID, Message: "the request body " + msg}
	}
	return &domain.Error{Code: domain.EINVALID, Message: "the request body is invalid", Fields: []domain.FieldError{
		{Field: field, Code: code, Message: msg},
	}}
}
