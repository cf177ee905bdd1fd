package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// jsonRoute is a route that takes a JSON body, with a way to put members
// into an object of that body, at path at.
type jsonRoute struct {
	name, who, method, path string
	wrap                    func(members string) string
	at                      string
}

func (r jsonRoute) field(name string) string {
	if r.at == "" {
		return name
	}
	return r.at + "." + name
}

// Every JSON body is refused, with a 400 naming the member, when its text
// is not what encoding/json would decode faithfully: invalid UTF-8 (which
// it would store as U+FFFD), a lone surrogate escape (likewise), a name
// given twice at any depth (it would keep the last, and it matches names
// without regard to case). A charset other than UTF-8 is a 415. Nothing is
// appended.
func TestJSONText_Refused(t *testing.T) {
	h := newHarness(t)
	draft := h.mustDo(t, "acme", http.MethodPost, "/v1/registrations", map[string]any{"type": "opportunity", "details": h.details("Initech", "initech.example")}, http.StatusCreated, nil)
	var d struct{ ID string }
	require.NoError(t, jsonUnmarshal(draft, &d))
	active := h.register(t, "acme", "Stark Industries", "stark.example", http.StatusCreated)

	routes := []jsonRoute{
		{"create registration", "acme", http.MethodPost, "/v1/registrations",
			func(m string) string { return `{"type":"opportunity","submit":true,"details":{"account":{` + m + `}}}` }, "details.account"},
		{"amend registration", "acme", http.MethodPatch, "/v1/registrations/" + d.ID,
			func(m string) string {
				return `{"details":{"relationship":{"activities":[{"kind":"demo"},{"kind":"discovery_call",` + m + `}]}}}`
			}, "details.relationship.activities[1]"},
		{"withdraw", "acme", http.MethodPost, "/v1/registrations/" + active.ID.String() + "/withdraw",
			func(m string) string { return `{` + m + `}` }, ""},
		{"add partner", "admin", http.MethodPost, "/v1/partners",
			func(m string) string { return `{"id":"initech","name":"Initech",` + m + `}` }, ""},
		{"record direct deal", "sales", http.MethodPost, "/v1/direct-opportunities",
			func(m string) string { return `{"owner":"x@vendor.example","account":{"country":"MX",` + m + `}}` }, "account"},
		{"account decision", "manager", http.MethodPost, "/v1/accounts/decisions",
			func(m string) string { return `{"a":"Initech","b":"Initrode","same":false,` + m + `}` }, ""},
	}
	cases := []struct {
		name, members string
		field, code   string // field relative to the route's object
	}{
		{"invalid UTF-8 in a value", "\"note\":\"caf\xff\xfe\"", "note", domain.FieldInvalidUTF8},
		{"invalid UTF-8 in a name", "\"n\xc3te\":\"x\"", "n\uFFFDte", domain.FieldInvalidUTF8},
		{"overlong UTF-8", "\"note\":\"\xc0\xaf\"", "note", domain.FieldInvalidUTF8},
		{"UTF-8 of a surrogate", "\"note\":\"\xed\xa0\x80\"", "note", domain.FieldInvalidUTF8},
		{"lone high surrogate", `"note":"\ud800"`, "note", domain.FieldLoneSurrogate},
		{"lone low surrogate", `"note":"x\udc00y"`, "note", domain.FieldLoneSurrogate},
		{"high surrogate then a letter", `"note":"\ud83d\u0041"`, "note", domain.FieldLoneSurrogate},
		{"two high surrogates", `"note":"\ud83d\ud83d\ude00"`, "note", domain.FieldLoneSurrogate},
		{"lone surrogate in a name", `"\udfff":"x"`, "\uFFFD", domain.FieldLoneSurrogate},
		{"lone surrogate in a list", `"notes":["ok","\uD800"]`, "notes[1]", domain.FieldLoneSurrogate},
		{"duplicate name", `"note":"a","note":"b"`, "note", domain.FieldDuplicateName},
		{"duplicate name but for case", `"note":"a","NOTE":"b"`, "NOTE", domain.FieldDuplicateName},
		{"duplicate name deeper", `"x":[{"y":{"z":1,"z":2}}]`, "x[0].y.z", domain.FieldDuplicateName},
	}
	for _, r := range routes {
		for _, tc := range cases {
			t.Run(r.name+"/"+tc.name, func(t *testing.T) {
				head := h.eventCount()
				p := h.problem(t, r.who, r.method, r.path, []byte(r.wrap(tc.members)), http.StatusBadRequest, domain.EINVALID)
				require.Len(t, p.Errors, 1, "%+v", p)
				require.Equal(t, r.field(tc.field), p.Errors[0].Field)
				require.Equal(t, tc.code, p.Errors[0].Code)
				require.NotEmpty(t, p.Errors[0].Message)
				require.Equal(t, head, h.eventCount(), "nothing appended")
			})
		}
		for _, ct := range []string{"application/json; charset=latin1", "application/json; charset=ISO-8859-1", "application/json;charset=utf-16"} {
			t.Run(r.name+"/"+ct, func(t *testing.T) {
				head := h.eventCount()
				h.problem(t, r.who, r.method, r.path, []byte(r.wrap(`"note":"x"`)), http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type", ct)
				require.Equal(t, head, h.eventCount(), "nothing appended")
			})
		}
	}

	// What is faithful passes: a surrogate pair, escaped backslashes before
	// a u, non-ASCII text, the same name in two objects, and charset=UTF-8
	// in any case.
	body := []byte(`{"type":"opportunity","submit":false,"details":{"account":{"company_name":"Caf\u00e9 M\u00fcller \ud83d\ude00 \\ud800 Ñandú","country":"MX"},` +
		`"relationship":{"activities":[{"kind":"demo","date":"2026-03-01T00:00:00Z"},{"kind":"demo","date":"2026-03-01T00:00:00Z"}]}}}`)
	var got struct {
		Details domain.Details `json:"details"`
	}
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations", body, http.StatusCreated, &got, "Content-Type", "application/json; charset=UTF-8")
	require.Equal(t, "Café Müller 😀 \\ud800 Ñandú", got.Details.Account.CompanyName)
}
