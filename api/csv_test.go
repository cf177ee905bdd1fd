package api_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// csvOf reads a CSV answer as who: its header row and its rows by column.
func (h *harness) csvOf(tb testing.TB, who, path string, header ...string) ([]string, []map[string]string) {
	tb.Helper()
	status, raw, hdr := h.do(tb, who, http.MethodGet, path, nil, header...)
	require.Equal(tb, http.StatusOK, status, string(raw))
	require.Equal(tb, "text/csv; charset=utf-8", hdr.Get("Content-Type"))
	require.Contains(tb, hdr.Get("Content-Disposition"), "attachment; filename=")
	records, err := csv.NewReader(strings.NewReader(string(raw))).ReadAll()
	require.NoError(tb, err)
	require.NotEmpty(tb, records)
	var rows []map[string]string
	for _, rec := range records[1:] {
		row := map[string]string{}
		for i, col := range records[0] {
			row[col] = rec[i]
		}
		rows = append(rows, row)
	}
	return records[0], rows
}

func TestCSV_RegistrationListStreamsEveryPageTheCallerMaySee(t *testing.T) {
	h := newHarness(t)
	// More drafts than one page holds, written by several clients at once.
	n := projections.MaxListLimit + 7
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				h.mustDo(t, "acme", http.MethodPost, "/v1/registrations", map[string]any{
					"type": "opportunity", "details": h.details(fmt.Sprintf("Cliente %03d", i), ""),
				}, http.StatusCreated, nil)
			}
		})
	}
	wg.Wait()
	evil := h.register(t, "acme", "=HYPERLINK(\"http://evil.example\",\"x\")", "evil.example", http.StatusCreated)
	h.register(t, "globex", "Globex Cliente Propio", "globexcliente.mx", http.StatusCreated)

	cols, rows := h.csvOf(t, "acme", "/v1/registrations?format=csv")
	require.Equal(t, "id", cols[0])
	require.Len(t, rows, n+1, "every page, only acme's")
	seen := map[string]bool{}
	for _, r := range rows {
		require.Equal(t, "acme", r["partner_id"])
		require.False(t, seen[r["id"]], "a registration twice")
		seen[r["id"]] = true
	}
	last := rows[len(rows)-1]
	require.Equal(t, evil.ID.String(), last["id"])
	require.Equal(t, `'=HYPERLINK("http://evil.example","x")`, last["company_name"], "a formula must not reach a spreadsheet")
	require.Equal(t, "cleared", last["status"])
	require.Equal(t, "150000", last["estimated_value"])
	require.Equal(t, "USD", last["currency"])
	require.Equal(t, "HR Management", last["product_lines"])

	// Accept: text/csv is the same answer; filters and limit apply.
	_, byAccept := h.csvOf(t, "acme", "/v1/registrations", "Accept", "text/csv")
	require.Equal(t, rows, byAccept)
	_, cleared := h.csvOf(t, "admin", "/v1/registrations?status=cleared&format=csv")
	require.Len(t, cleared, 2)
	_, limited := h.csvOf(t, "admin", "/v1/registrations?format=csv&limit=3")
	require.Len(t, limited, 3)
	// JSON stays the default, for */* too.
	status, raw, hdr := h.do(t, "acme", http.MethodGet, "/v1/registrations", nil, "Accept", "*/*")
	require.Equal(t, http.StatusOK, status, string(raw))
	require.Contains(t, hdr.Get("Content-Type"), "application/json")

	// Refusals are problems, not CSV.
	p := h.problem(t, "acme", http.MethodGet, "/v1/registrations?format=xml", nil, http.StatusBadRequest, domain.EINVALID)
	require.Equal(t, "format", p.Errors[0].Field)
	h.problem(t, "acme", http.MethodGet, "/v1/registrations?format=csv&cursor=nonsense", nil, http.StatusBadRequest, domain.EINVALID)
	h.problem(t, "sales", http.MethodGet, "/v1/registrations?format=csv", nil, http.StatusForbidden, domain.EFORBIDDEN)
}

func TestCSV_ReviewQueueAndConflictQueue(t *testing.T) {
	h := newHarness(t)
	r := h.register(t, "acme", "Hospital Ángeles Pedregal", "angeles.mx", http.StatusCreated)
	h.clock.Advance(49 * time.Hour)
	cols, rows := h.csvOf(t, "manager", "/v1/review-queue?format=csv")
	require.Equal(t, []string{"group", "due_at", "overdue", "reminded", "escalated", "escalated_to"}, cols[len(cols)-6:])
	require.Len(t, rows, 1)
	require.Equal(t, r.ID.String(), rows[0]["id"])
	require.Equal(t, "true", rows[0]["overdue"], "past the 48 h review SLA")
	require.Equal(t, t0.Add(48*time.Hour).Format(time.RFC3339), rows[0]["due_at"])
	h.problem(t, "acme", http.MethodGet, "/v1/review-queue?format=csv", nil, http.StatusForbidden, domain.EFORBIDDEN)

	cols, rows = h.csvOf(t, "auditor", "/v1/conflicts?format=csv")
	require.Equal(t, "id", cols[0])
	require.Empty(t, rows)

	// A partner-vs-direct case: staff see both parties, the partner only
	// its own side, and direct sales the direct party.
	h.recordDirect(t, "Empresa XYZ", "xyz.example", t0.Add(-30*domain.Day))
	h.clock.Advance(time.Hour)
	h.register(t, "acme", "Empresa XYZ", "xyz.example", http.StatusCreated)
	c := h.onlyConflict(t)
	_, rows = h.csvOf(t, "manager", "/v1/conflicts?format=csv&status=open")
	require.Len(t, rows, 1)
	require.Equal(t, c.ID.String(), rows[0]["id"])
	require.Equal(t, "open", rows[0]["status"])
	require.Equal(t, "1", rows[0]["level"])
	require.Equal(t, "Empresa XYZ", rows[0]["company_name"])
	require.Contains(t, rows[0]["parties"], "=acme")
	require.Contains(t, rows[0]["parties"], "direct")
	_, mine := h.csvOf(t, "acme", "/v1/conflicts?format=csv")
	require.Len(t, mine, 1)
	require.NotContains(t, mine[0]["parties"], "direct", "a partner sees its own side only")
	_, other := h.csvOf(t, "globex", "/v1/conflicts?format=csv")
	require.Empty(t, other)
}
