package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// The policy's periods reach clients in ISO 8601, as the policy says them
// ("P30D" for 30 days), in the registration, its list entry, the command
// answers and the history's event data; the ledger keeps the stored shape
// (nanoseconds under extension_length_ns). Every answer any test gets is
// also checked for "_ns" names (requireHumanDurations in the harness).
func TestPolicyDurations_HumanUnits(t *testing.T) {
	h := newHarness(t)
	policy := domain.DefaultPolicy()
	r := h.register(t, "acme", "Empresa XYZ", "xyz.example", http.StatusCreated)
	path := "/v1/registrations/" + r.ID.String()
	approved := h.mustDo(t, "manager", http.MethodPost, path+"/approve", nil, http.StatusOK, nil)
	h.clock.Advance(80 * domain.Day)
	h.mustDo(t, "acme", http.MethodPost, path+"/extensions", map[string]string{"reason": "budget moved to Q3"}, http.StatusOK, nil)
	granted := h.mustDo(t, "manager", http.MethodPost, path+"/extensions/1/grant", nil, http.StatusOK, nil)

	for _, raw := range [][]byte{approved, granted} {
		var got struct {
			Terms map[string]any `json:"terms"`
		}
		require.NoError(t, json.Unmarshal(raw, &got))
		require.Equal(t, "P30D", got.Terms["extension_length"], "%s", raw)
		require.NotContains(t, string(raw), "_ns\"")
	}
	for _, who := range []string{"acme", "manager", "auditor"} {
		g := h.get(t, who, r.ID)
		require.NotNil(t, g.Terms)
		require.Equal(t, policy.ExtensionLength, time.Duration(g.Terms.ExtensionLength))
		require.Equal(t, 1, g.Terms.PolicyVersion)
		require.Equal(t, policy.MaxExtensions, g.Terms.MaxExtensions)

		var approval struct {
			Terms struct {
				ExtensionLength string `json:"extension_length"`
			} `json:"terms"`
		}
		require.NoError(t, json.Unmarshal(historyEntry(t, g, "RegistrationApproved").Data, &approval))
		require.Equal(t, "P30D", approval.Terms.ExtensionLength)
		var grant map[string]any
		require.NoError(t, json.Unmarshal(historyEntry(t, g, "RegistrationExtensionGranted").Data, &grant))
		require.Equal(t, "P30D", grant["extension_length"])
		require.Equal(t, float64(1), grant["number"], "the rest of the event is as stored")
	}
	var list api.RegistrationList
	h.mustDo(t, "manager", http.MethodGet, "/v1/registrations", nil, http.StatusOK, &list)
	require.Len(t, list.Items, 1)
	require.Equal(t, api.Duration(policy.ExtensionLength), list.Items[0].Terms.ExtensionLength)

	// The ledger keeps what it stored: events already written decode the
	// same as before.
	var page api.LedgerPage
	h.mustDo(t, "auditor", http.MethodGet, "/v1/ledger/events?limit=1000", nil, http.StatusOK, &page)
	var stored int
	for _, e := range page.Events {
		if e.Type == "RegistrationExtensionGranted" {
			var ev domain.RegistrationExtensionGranted
			require.NoError(t, json.Unmarshal(e.Data, &ev))
			require.Equal(t, policy.ExtensionLength, ev.ExtensionLength)
			require.Contains(t, string(e.Data), `"extension_length_ns":2592000000000000`)
			stored++
		}
	}
	require.Equal(t, 1, stored)
}

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		text string
	}{
		{0, "PT0S"},
		{90 * domain.Day, "P90D"},
		{365 * domain.Day, "P365D"},
		{48 * time.Hour, "P2D"},
		{36 * time.Hour, "P1DT12H"},
		{90 * time.Minute, "PT1H30M"},
		{domain.Day + time.Second, "P1DT1S"},
		{1500 * time.Millisecond, "PT1.5S"},
		{time.Nanosecond, "PT0.000000001S"},
		{-2 * time.Hour, "-PT2H"},
	} {
		t.Run(tc.text, func(t *testing.T) {
			require.Equal(t, tc.text, api.Duration(tc.d).String())
			raw, err := json.Marshal(api.Duration(tc.d))
			require.NoError(t, err)
			require.Equal(t, `"`+tc.text+`"`, string(raw))
			var back api.Duration
			require.NoError(t, json.Unmarshal(raw, &back))
			require.Equal(t, tc.d, time.Duration(back))
		})
	}
	for _, s := range []string{"PT36H", "P1DT24H", "PT0.5S"} {
		d, err := api.ParseDuration(s)
		require.NoError(t, err, s)
		require.Positive(t, d)
	}
	for _, bad := range []string{"", "P", "PT", "P1DT", "1D", "P1Y", "P1M", "P1W", "P48H", "P1.5D", "PT1.5H", "PT1S2M", "PT1H1H", "P-1D",
		"PT1.S", "PT0.0000000001S", "P99999999999D", "PTS", "P1D ", "2592000000000000"} {
		_, err := api.ParseDuration(bad)
		require.Error(t, err, "%q", bad)
	}
	var d api.Duration
	require.Error(t, json.Unmarshal([]byte(`2592000000000000`), &d), "nanoseconds are not a duration")
}

// api.Terms shows every field of domain.ProtectionTerms, durations under
// their names without "_ns": a field added to the terms must be added here
// too.
func TestTerms_ShowsEveryField(t *testing.T) {
	names := func(v any) []string {
		var m map[string]any
		raw, err := json.Marshal(v)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, &m))
		var out []string
		for k := range m {
			out = append(out, strings.TrimSuffix(k, "_ns"))
		}
		return out
	}
	require.ElementsMatch(t, names(domain.ProtectionTerms{}), names(projections.Terms{}))
}
