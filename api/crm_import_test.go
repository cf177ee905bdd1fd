package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
)

func crmRow(crmID, company, site string) map[string]any {
	return map[string]any{"crm_id": crmID, "owner": "carlos@vendor.example",
		"account":         map[string]any{"company_name": company, "domain": site, "country": "MX"},
		"product_lines":   []string{"HR Management"},
		"estimated_value": map[string]any{"amount": "90000", "currency": "USD"},
	}
}

// The bulk import: all or nothing as far as validation goes, with errors
// naming the rows; idempotent by CRM ID; bounded; for direct sales only;
// and the duplicate check sees what it imported before any approval.
func TestCRMImport_Batch(t *testing.T) {
	h := newHarness(t)
	head := h.eventCount()
	p := h.problem(t, "sales", http.MethodPost, "/v1/direct-opportunities:batch", map[string]any{"opportunities": []any{
		crmRow("006A", "Hospital Central", "hospitalcentral.mx"),
		crmRow("006B", "", "clinica.mx"),
		crmRow("006A", "Laboratorios Sur", "labsur.mx"),
	}}, http.StatusBadRequest, domain.EINVALID)
	var fields []string
	for _, e := range p.Errors {
		fields = append(fields, e.Field)
	}
	require.ElementsMatch(t, []string{"rows[2].account.company_name", "rows[3].crm_id"}, fields)
	require.Equal(t, head, h.eventCount(), "a refused batch imports nothing, not even its valid rows")

	h.problem(t, "acme", http.MethodPost, "/v1/direct-opportunities:batch", map[string]any{"opportunities": []any{crmRow("006A", "X", "x.mx")}},
		http.StatusForbidden, domain.EFORBIDDEN)
	big := make([]any, app.MaxImportRows+1)
	for i := range big {
		big[i] = map[string]any{}
	}
	h.problem(t, "sales", http.MethodPost, "/v1/direct-opportunities:batch", map[string]any{"opportunities": big}, http.StatusRequestEntityTooLarge, domain.ETOOLARGE)
	require.Equal(t, head, h.eventCount())

	batch := map[string]any{"opportunities": []any{crmRow("006A", "Hospital Central", "hospitalcentral.mx"), crmRow("006B", "Clínica del Norte", "clinicadelnorte.mx")}}
	var res app.ImportResult
	h.mustDo(t, "sales", http.MethodPost, "/v1/direct-opportunities:batch", batch, http.StatusCreated, &res)
	require.Equal(t, 2, res.Imported)
	require.Equal(t, app.CRMDirectID("006A"), res.Items[0].ID)
	got := h.eventCount()

	// Again, with one more row: only the new one is appended.
	batch["opportunities"] = append(batch["opportunities"].([]any), crmRow("006C", "Laboratorios Sur", "labsur.mx"))
	h.mustDo(t, "sales", http.MethodPost, "/v1/direct-opportunities:batch", batch, http.StatusCreated, &res)
	require.Equal(t, 1, res.Imported)
	require.Equal(t, 2, res.Existing)
	require.Equal(t, []string{"existing", "existing", "imported"}, []string{res.Items[0].Status, res.Items[1].Status, res.Items[2].Status})
	require.Equal(t, got+1, h.eventCount())
	h.mustDo(t, "sales", http.MethodPost, "/v1/direct-opportunities:batch", batch, http.StatusOK, &res)
	require.Equal(t, 3, res.Existing)
	require.Equal(t, got+1, h.eventCount())

	// A partner's registration of an imported account is flagged before
	// any approval.
	r := h.register(t, "acme", "Hospital Central", "hospitalcentral.mx", http.StatusCreated)
	require.Equal(t, domain.StatusPossibleDuplicate, r.Status)
	require.Equal(t, domain.StatusCleared, h.register(t, "acme", "Farmacias Unidas", "farmaciasunidas.mx", http.StatusCreated).Status)
}
