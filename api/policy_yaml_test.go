package api_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/domain"
)

const yamlType = "application/yaml"

// toYAML writes a JSON document (as a map) as YAML.
func toYAML(t *testing.T, doc policyDoc) []byte {
	t.Helper()
	raw, err := yaml.Marshal(doc)
	require.NoError(t, err)
	return raw
}

type fieldCode struct{ Field, Code string }

func problemFields(p api.Problem) []fieldCode {
	out := make([]fieldCode, len(p.Errors))
	for i, e := range p.Errors {
		out[i] = fieldCode{e.Field, e.Code}
	}
	return out
}

// A policy document may be proposed as YAML: it is the JSON document it
// denotes, validated the same way, every error at the same path.
func TestPolicies_YAMLDocument(t *testing.T) {
	h := newHarness(t)
	h.addLeader(t)

	t.Run("ProposedAsYAML", func(t *testing.T) {
		doc := h.policyDocument(t, "leader", 1)
		delete(doc, "version")
		doc["summary"] = "120 days of protection, written in YAML"
		section(doc, "protection", "opportunity")["term"] = "120d"
		section(doc, "routing")["groups"] = []map[string]any{{"name": "nordics", "regions": []string{"NO", "SE"}}, {"name": "rest"}}
		body := []byte(strings.Replace(string(toYAML(t, doc)), `- "NO"`, "- NO", 1)) // Norway, unquoted
		require.Contains(t, string(body), "- NO\n")
		var v api.PolicyVersion
		h.mustDo(t, "leader", http.MethodPost, "/v1/policies", body, http.StatusCreated, &v, "Content-Type", yamlType)
		require.Equal(t, "draft", v.State)
		var diff struct {
			Changes []domain.PolicyChange `json:"changes"`
		}
		h.mustDo(t, "leader", http.MethodGet, "/v1/policies/1/diff/"+strconv.Itoa(v.Version), nil, http.StatusOK, &diff)
		fields := make([]string, len(diff.Changes))
		for i, c := range diff.Changes {
			fields[i] = c.Field
		}
		require.Contains(t, fields, "protection.opportunity.term")
		got := h.policyDocument(t, "leader", v.Version)
		groups := section(got, "routing")["groups"].([]any)
		require.Equal(t, []any{"NO", "SE"}, groups[0].(map[string]any)["regions"], "NO is a region, not false")
	})

	t.Run("SameErrorsAsJSON", func(t *testing.T) {
		doc := h.policyDocument(t, "leader", 1)
		delete(doc, "version")
		section(doc, "protection", "opportunity")["term"] = "9O days"
		section(doc, "review")["sla"] = 48
		section(doc, "benefits", "mdf")["percent"] = "lots"
		section(doc, "changes")["notice_period"] = "10d"
		delete(section(doc, "registration"), "first_contact_window")
		section(doc, "auto_approval")["max_value"] = map[string]any{"usd": "1"}
		doc["surprise"] = true
		raw, err := json.Marshal(doc)
		require.NoError(t, err)
		head := h.eventCount()
		fromJSON := h.problem(t, "leader", http.MethodPost, "/v1/policies", raw, http.StatusBadRequest, domain.EINVALID)
		fromYAML := h.problem(t, "leader", http.MethodPost, "/v1/policies", toYAML(t, doc), http.StatusBadRequest, domain.EINVALID, "Content-Type", yamlType)
		require.NotEmpty(t, fromJSON.Errors)
		require.Equal(t, problemFields(fromJSON), problemFields(fromYAML))
		require.Contains(t, problemFields(fromYAML), fieldCode{"auto_approval.max_value.usd", domain.FieldInvalid})
		require.Equal(t, head, h.eventCount(), "refusals append nothing")
	})

	t.Run("RefusedYAML", func(t *testing.T) {
		base := string(toYAML(t, h.policyDocument(t, "leader", 1)))
		for _, tc := range []struct {
			name, body, field, code string
		}{
			{"NotYAML", "summary: [unclosed\n", "", ""},
			{"DuplicateKey", strings.Replace(base, "summary:", "Summary: again\nsummary:", 1), "summary", domain.FieldDuplicate},
			{"Alias", strings.Replace(base, "summary:", "x: &a 1\ny: *a\nsummary:", 1), "x", domain.FieldInvalid},
			{"HexNumber", strings.Replace(base, "min_decided: 5", "min_decided: 0x5", 1), "auto_approval.min_decided", domain.FieldInvalid},
			{"TwoDocuments", base + "---\nsummary: more\n", "", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				head := h.eventCount()
				p := h.problem(t, "leader", http.MethodPost, "/v1/policies", []byte(tc.body), http.StatusBadRequest, domain.EINVALID, "Content-Type", yamlType)
				if tc.field == "" {
					require.Empty(t, p.Errors)
				} else {
					require.Equal(t, []fieldCode{{tc.field, tc.code}}, problemFields(p), "%s", p.Detail)
				}
				require.Equal(t, head, h.eventCount())
			})
		}
	})

	t.Run("OtherTypesStill415", func(t *testing.T) {
		h.problem(t, "leader", http.MethodPost, "/v1/policies", []byte("summary: x\n"), http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type", "text/plain")
	})
}
