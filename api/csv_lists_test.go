package api_test

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Every other list answers CSV through the one mechanism: one row per item
// of the JSON list the same caller gets, each column a flattened field of
// it, nothing more; free text neutralised against formulas.
func TestCSV_EveryOtherList(t *testing.T) {
	h := newHarness(t)
	r := h.register(t, "acme", "=HYPERLINK(\"evil\")", "", http.StatusCreated)
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+r.ID.String()+"/approve", nil, http.StatusOK, nil)
	h.register(t, "globex", "Globex Iberia", "globex.example", http.StatusCreated)

	for _, tc := range []struct {
		who, path, items, column string
	}{
		{"manager", "/v1/partners", "items", "id"},
		{"acme", "/v1/partners", "items", "id"},
		{"admin", "/v1/people", "items", "id"},
		{"manager", "/v1/direct-opportunities", "items", "id"},
		{"admin", "/v1/webhooks", "items", "id"},
		{"manager", "/v1/review-groups", "items", "name"},
		{"manager", "/v1/policies", "items", "version"},
		{"manager", "/v1/presales/resources", "items", "id"},
		{"manager", "/v1/mdf-budgets", "items", "partner_id"},
		{"manager", "/v1/mdf-requests", "items", "partner_id"},
		{"manager", "/v1/analytics/top-partners", "partners", "partner_id"},
		{"manager", "/v1/analytics/ratings", "ratings", "registration_id"},
		{"manager", "/v1/analytics/registrations?group_by=partner", "", "row"},
		{"acme", "/v1/analytics/registrations?group_by=partner", "", "row"},
		{"manager", "/v1/analytics/conflicts", "", "row"},
	} {
		t.Run(strings.ReplaceAll(tc.who+tc.path, "/", "_"), func(t *testing.T) {
			var js map[string]json.RawMessage
			h.mustDo(t, tc.who, http.MethodGet, tc.path, nil, http.StatusOK, &js)
			sep := "?"
			if strings.Contains(tc.path, "?") {
				sep = "&"
			}
			status, body, hdr := h.do(t, tc.who, http.MethodGet, tc.path+sep+"format=csv", nil)
			require.Equal(t, http.StatusOK, status, string(body))
			require.True(t, strings.HasPrefix(hdr.Get("Content-Type"), "text/csv"), hdr.Get("Content-Type"))
			rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
			require.NoError(t, err)
			require.NotEmpty(t, rows)
			require.Contains(t, rows[0], tc.column)
			if tc.items != "" {
				var items []json.RawMessage
				require.NoError(t, json.Unmarshal(js[tc.items], &items))
				require.Len(t, rows, len(items)+1, "one row per item")
			} else {
				var groups []json.RawMessage
				if g, ok := js["groups"]; ok {
					require.NoError(t, json.Unmarshal(g, &groups))
				} else {
					require.NoError(t, json.Unmarshal(js["levels"], &groups))
				}
				require.Len(t, rows, len(groups)+2, "the header, the total, each group")
				require.Equal(t, "total", rows[1][0])
			}
			for _, row := range rows[1:] {
				for _, cell := range row {
					require.False(t, strings.HasPrefix(cell, "="), "a formula reached a cell: %q", cell)
				}
			}
		})
	}

	// The same routes as the JSON: a bad format is a field error, and Accept
	// asks as ?format does.
	p := h.problem(t, "manager", http.MethodGet, "/v1/partners?format=xml", nil, http.StatusBadRequest, "invalid")
	require.Equal(t, "format", p.Errors[0].Field)
	status, _, hdr := h.do(t, "admin", http.MethodGet, "/v1/people", nil, "Accept", "text/csv")
	require.Equal(t, http.StatusOK, status)
	require.True(t, strings.HasPrefix(hdr.Get("Content-Type"), "text/csv"))
	h.problem(t, "sales", http.MethodGet, "/v1/analytics/registrations?format=csv", nil, http.StatusForbidden, "forbidden")
}
