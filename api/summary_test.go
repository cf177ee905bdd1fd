package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/domain"
)

func money(amount, currency string) map[string]any {
	return map[string]any{"amount": amount, "currency": currency}
}

// registerDeal submits a registration whose opportunity differs from the
// harness's default as change says.
func (h *harness) registerDeal(tb testing.TB, who, company string, change func(opp, acc map[string]any)) api.Registration {
	tb.Helper()
	d := h.details(company, "")
	change(d["opportunity"].(map[string]any), d["account"].(map[string]any))
	var r api.Registration
	h.mustDo(tb, who, http.MethodPost, "/v1/registrations", map[string]any{"type": "opportunity", "details": d, "submit": true}, http.StatusCreated, &r)
	return r
}

func (h *harness) summary(tb testing.TB, who, query string) api.PipelineSummary {
	tb.Helper()
	var s api.PipelineSummary
	h.mustDo(tb, who, http.MethodGet, "/v1/pipeline/summary"+query, nil, http.StatusOK, &s)
	return s
}

// moneyOf renders a group's sums as "CUR amount" strings, exact.
func moneyOf(ms []domain.Money) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Currency + " " + m.Amount.StringFixed(4)
	}
	return out
}

func TestPipelineSummary_GroupsAndSumsPerCurrencyExactly(t *testing.T) {
	h := newHarness(t)
	h.registerDeal(t, "acme", "Hospital Ángeles", func(opp, _ map[string]any) {}) // USD 150000.00, HR Management
	h.registerDeal(t, "acme", "Grupo Bimbo", func(opp, _ map[string]any) {
		opp["estimated_value"] = money("1234.5678", "USD")
		opp["product_lines"] = []string{"Payroll", "HR Management"}
	})
	h.registerDeal(t, "acme", "Siemens Querétaro", func(opp, acc map[string]any) {
		opp["estimated_value"] = money("99.99", "EUR")
		opp["product_lines"] = []string{"Analytics"}
		opp["buying_stage"] = "proposal"
		opp["expected_close_date"] = time.Date(2026, 8, 20, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
		acc["industry"] = "Manufacturing"
	})
	h.registerDeal(t, "globex", "Cemex Monterrey", func(opp, _ map[string]any) {
		opp["estimated_value"] = money("1000", "MXN")
	})
	h.recordDirect(t, "Walmart de México", "walmex.mx", t0.Add(-5*domain.Day)) // USD 90000, direct

	s := h.summary(t, "admin", "?group_by=partner")
	require.Equal(t, []string{"partner"}, s.GroupBy)
	require.Len(t, s.Groups, 2)
	require.Equal(t, map[string]string{"partner": "acme"}, s.Groups[0].Key)
	require.Equal(t, 3, s.Groups[0].Count)
	require.Equal(t, []string{"EUR 99.9900", "USD 151234.5678"}, moneyOf(s.Groups[0].Values), "per currency, never summed across")
	require.Equal(t, map[string]string{"partner": "globex"}, s.Groups[1].Key)
	require.Equal(t, []string{"MXN 1000.0000"}, moneyOf(s.Groups[1].Values))
	require.Equal(t, 4, s.Total.Count)
	require.Equal(t, []string{"EUR 99.9900", "MXN 1000.0000", "USD 151234.5678"}, moneyOf(s.Total.Values))
	require.NotNil(t, s.Direct, "staff see the direct pipeline beside, not in, the partners'")
	require.Equal(t, 1, s.Direct.Count)
	require.Equal(t, []string{"USD 90000.0000"}, moneyOf(s.Direct.Values))

	// By product line a registration counts once in each of its lines.
	s = h.summary(t, "manager", "?group_by=product_line")
	byLine := map[string]int{}
	for _, g := range s.Groups {
		byLine[g.Key["product_line"]] = g.Count
	}
	require.Equal(t, map[string]int{"hr management": 3, "payroll": 1, "analytics": 1}, byLine)
	require.Equal(t, 4, s.Total.Count)

	// Filters are the list's.
	s = h.summary(t, "auditor", "?stage=proposal&quarter=2026-Q3&vertical=manufacturing&group_by=stage,quarter")
	require.Len(t, s.Groups, 1)
	require.Equal(t, map[string]string{"stage": "proposal", "quarter": "2026-Q3"}, s.Groups[0].Key)
	require.Equal(t, []string{"EUR 99.9900"}, moneyOf(s.Groups[0].Values))
	s = h.summary(t, "admin", "?product_line=payroll")
	require.Equal(t, []string{"USD 1234.5678"}, moneyOf(s.Total.Values))
	var list api.RegistrationList
	h.mustDo(t, "admin", http.MethodGet, "/v1/registrations?product_line=PAYROLL", nil, http.StatusOK, &list)
	require.Len(t, list.Items, 1)
	require.Equal(t, "Grupo Bimbo", list.Items[0].CompanyName)

	// A partner sees its own pipeline only, and no direct deal; another
	// partner's looks empty, exactly as a partner with none.
	s = h.summary(t, "acme", "?group_by=partner")
	require.Len(t, s.Groups, 1)
	require.Equal(t, 3, s.Total.Count)
	require.Nil(t, s.Direct)
	other := h.mustDo(t, "acme", http.MethodGet, "/v1/pipeline/summary?partner=globex", nil, http.StatusOK, nil)
	none := h.mustDo(t, "acme", http.MethodGet, "/v1/pipeline/summary?partner=nobody", nil, http.StatusOK, nil)
	require.Equal(t, string(none), string(other))
	require.JSONEq(t, `{"group_by":null,"groups":[],"total":{"key":{},"count":0,"values":[]}}`, string(other))

	p := h.problem(t, "admin", http.MethodGet, "/v1/pipeline/summary?group_by=partner,colour", nil, http.StatusBadRequest, domain.EINVALID)
	require.Equal(t, "group_by", p.Errors[0].Field)
	p = h.problem(t, "admin", http.MethodGet, "/v1/pipeline/summary?quarter=2026-Q5&stage=won", nil, http.StatusBadRequest, domain.EINVALID)
	require.Len(t, p.Errors, 2)
	h.problem(t, "sales", http.MethodGet, "/v1/pipeline/summary", nil, http.StatusForbidden, domain.EFORBIDDEN)
}

// Pipeline hygiene: protected registrations about to expire, and those
// with no progress for a number of days.
func TestPipeline_ExpiringAndStale(t *testing.T) {
	h := newHarness(t)
	a := h.register(t, "acme", "Liverpool Insurgentes", "liverpool.mx", http.StatusCreated)
	b := h.register(t, "acme", "Coppel Culiacán", "coppel.mx", http.StatusCreated)
	h.register(t, "acme", "Soriana Centro", "soriana.mx", http.StatusCreated) // never approved
	for _, r := range []api.Registration{a, b} {
		h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+r.ID.String()+"/approve", nil, http.StatusOK, nil)
	}
	ids := func(query string) []string {
		var list api.RegistrationList
		h.mustDo(t, "manager", http.MethodGet, "/v1/registrations"+query, nil, http.StatusOK, &list)
		out := []string{}
		for _, it := range list.Items {
			out = append(out, it.CompanyName)
		}
		return out
	}
	h.clock.Advance(40 * domain.Day)
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations/"+b.ID.String()+"/progress", map[string]string{"buying_stage": "proposal", "note": "demo done"}, http.StatusOK, nil)
	h.clock.Advance(5 * domain.Day)
	require.Equal(t, []string{"Liverpool Insurgentes"}, ids("?stale_days=30"), "no progress since its approval 45 days ago")
	require.Empty(t, ids("?stale_days=60"))
	require.Empty(t, ids("?expiring_within_days=30"), "90 days of protection: 45 left")
	h.clock.Advance(30 * domain.Day)
	require.Equal(t, []string{"Liverpool Insurgentes", "Coppel Culiacán"}, ids("?expiring_within_days=30"))
	got := h.get(t, "acme", b.ID)
	require.Equal(t, domain.StageProposal, got.BuyingStage)
	require.Equal(t, t0.Add(40*domain.Day), got.LastProgressAt.UTC())
	p := h.problem(t, "manager", http.MethodGet, "/v1/registrations?stale_days=0", nil, http.StatusBadRequest, domain.EINVALID)
	require.Equal(t, "stale_days", p.Errors[0].Field)
}
