package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/domain"
)

// Bad input gets a clear problem and appends nothing.
func TestBadInput_AppendsNothing(t *testing.T) {
	h := newHarness(t)
	r := h.register(t, "acme", "Soylent Corp", "soylent.example", http.StatusCreated)
	path := "/v1/registrations/" + r.ID.String()
	huge := `{"type":"opportunity","details":{"account":{"company_name":"` + strings.Repeat("x", api.MaxJSONBody) + `"}}}`
	for _, tc := range []struct {
		name, method, path string
		body               []byte
		status             int
		code               string
		field              string
	}{
		{"not JSON", http.MethodPost, "/v1/registrations", []byte(`{"type":`), 400, domain.EINVALID, ""},
		{"not an object", http.MethodPost, "/v1/registrations", []byte(`[1,2]`), 400, domain.EINVALID, ""},
		{"two values", http.MethodPost, "/v1/registrations", []byte(`{} {}`), 400, domain.EINVALID, ""},
		{"empty body", http.MethodPost, "/v1/registrations", []byte(``), 400, domain.EINVALID, ""},
		{"unknown field", http.MethodPost, "/v1/registrations", []byte(`{"type":"opportunity","colour":"red"}`), 400, domain.EINVALID, "colour"},
		{"wrong type", http.MethodPost, "/v1/registrations", []byte(`{"type":"opportunity","submit":"yes"}`), 400, domain.EINVALID, "submit"},
		{"float money", http.MethodPost, "/v1/registrations", []byte(`{"type":"opportunity","details":{"opportunity":{"estimated_value":{"amount":"1e400x","currency":"USD"}}}}`), 400, domain.EINVALID, ""},
		{"too large", http.MethodPost, "/v1/registrations", []byte(huge), 413, domain.ETOOLARGE, ""},
		{"bad enum", http.MethodPost, "/v1/registrations", []byte(`{"type":"forever","details":{"account":{"company_name":"A","country":"ZZ"}}}`), 400, domain.EINVALID, "type"},
		{"bad reject", http.MethodPost, path + "/reject", []byte(`{"reason":"because"}`), 400, domain.EINVALID, "reason"},
		{"bad close", http.MethodPost, path + "/close", []byte(`{"outcome":"maybe"}`), 400, domain.EINVALID, "outcome"},
		{"bad extension number", http.MethodPost, path + "/extensions/x/grant", nil, 404, domain.ENOTFOUND, ""},
		{"not a registration id", http.MethodGet, "/v1/registrations/../../etc", nil, 404, domain.ENOTFOUND, ""},
		{"bad idempotency key", http.MethodPost, path + "/withdraw", []byte(`{}`), 400, domain.EINVALID, "Idempotency-Key"},
		{"not JSON content", http.MethodPost, path + "/withdraw", []byte(`reason=x`), 415, "unsupported_media_type", ""},
		{"unknown status filter", http.MethodGet, "/v1/registrations?status=active,bogus", nil, 400, domain.EINVALID, "status"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			who := "acme"
			if strings.Contains(tc.path, "/reject") || strings.Contains(tc.path, "/grant") {
				who = "manager"
			}
			var header []string
			if tc.field == "Idempotency-Key" {
				header = []string{"Idempotency-Key", "bad key with spaces"}
			}
			if tc.code == "unsupported_media_type" {
				header = []string{"Content-Type", "application/x-www-form-urlencoded"}
			}
			head := h.eventCount()
			var body any
			if tc.body != nil {
				body = tc.body
			}
			p := h.problem(t, who, tc.method, tc.path, body, tc.status, tc.code, header...)
			require.NotEmpty(t, p.Detail)
			if tc.field != "" {
				require.NotEmpty(t, p.Errors, "field errors expected")
				require.Equal(t, tc.field, p.Errors[0].Field)
			}
			require.Equal(t, head, h.eventCount(), "nothing appended")
		})
	}

	// Validation lists every failing field at once.
	p := h.problem(t, "acme", http.MethodPost, "/v1/registrations", map[string]any{
		"type": "opportunity", "submit": true,
		"details": map[string]any{"account": map[string]any{"company_name": "Solo Name", "domain": "not a domain", "country": "ZZ"}},
	}, http.StatusBadRequest, domain.EINVALID)
	var fields []string
	for _, f := range p.Errors {
		fields = append(fields, f.Field)
	}
	require.Subset(t, fields, []string{"account.domain", "account.country"})
}

// A registration returned for more information is amended with a merge
// patch and resubmitted; its attempt counts up.
func TestReturnAmendResubmit(t *testing.T) {
	h := newHarness(t)
	r := h.register(t, "acme", "Wayne Enterprises", "wayne.example", http.StatusCreated)
	path := "/v1/registrations/" + r.ID.String()
	h.mustDo(t, "manager", http.MethodPost, path+"/return", map[string]any{
		"message": "Who is the economic buyer?", "requested_fields": []string{"personal.decision_makers"},
	}, http.StatusOK, nil)
	h.problem(t, "acme", http.MethodPost, path+"/approve", nil, http.StatusForbidden, domain.EFORBIDDEN)

	var got api.Registration
	h.mustDo(t, "acme", http.MethodPatch, path, map[string]any{"details": map[string]any{
		"personal":     map[string]any{"decision_makers": []map[string]string{{"name": "Lucius Fox", "title": "CEO"}}},
		"relationship": map[string]any{"next_steps": nil},
	}}, http.StatusOK, &got)
	require.Equal(t, domain.StatusReturned, got.Status)
	require.Equal(t, "Lucius Fox", got.Details.Personal.DecisionMakers[0].Name)
	require.Empty(t, got.Details.Relationship.NextSteps, "null removes a member")
	require.Equal(t, "Wayne Enterprises", got.Details.Account.CompanyName, "members not in the patch stay")

	h.mustDo(t, "acme", http.MethodPost, path+"/submit", nil, http.StatusOK, &got)
	require.Equal(t, domain.StatusCleared, got.Status, "a resubmission is not a duplicate of itself")
	require.Equal(t, 2, got.Attempt)
	h.mustDo(t, "manager", http.MethodPost, path+"/approve", nil, http.StatusOK, &got)
	require.Equal(t, domain.StatusActive, got.Status)
	// Amending an active registration is an illegal transition.
	h.problem(t, "acme", http.MethodPatch, path, map[string]any{"details": map[string]any{}}, http.StatusConflict, domain.ECONFLICT)
}

func TestDraftsAndTheReviewQueue(t *testing.T) {
	h := newHarness(t)
	var draft api.Registration
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations", map[string]any{
		"type": "opportunity", "details": map[string]any{"account": map[string]any{"company_name": "Cyberdyne"}},
	}, http.StatusCreated, &draft)
	require.Equal(t, domain.StatusDraft, draft.Status, "a draft may be incomplete")
	p := h.problem(t, "acme", http.MethodPost, "/v1/registrations/"+draft.ID.String()+"/submit", nil, http.StatusBadRequest, domain.EINVALID)
	require.GreaterOrEqual(t, len(p.Errors), 3, "submission lists every missing field: %+v", p.Errors)

	first := h.register(t, "acme", "Tyrell Corporation", "tyrell.example", http.StatusCreated)
	h.clock.Advance(domain.Day)
	second := h.register(t, "globex", "Oscorp", "oscorp.example", http.StatusCreated)
	var queue struct {
		Items []struct {
			ID    string `json:"id"`
			DueAt string `json:"due_at"`
		} `json:"items"`
	}
	h.mustDo(t, "manager", http.MethodGet, "/v1/review-queue", nil, http.StatusOK, &queue)
	require.Len(t, queue.Items, 2)
	require.Equal(t, first.ID.String(), queue.Items[0].ID, "oldest first")
	require.Equal(t, second.ID.String(), queue.Items[1].ID)
	require.Equal(t, first.SubmittedAt.Add(48*60*60*1e9).Format("2006-01-02T15:04:05Z07:00"), queue.Items[0].DueAt, "48 h review SLA")
	h.problem(t, "acme", http.MethodGet, "/v1/review-queue", nil, http.StatusForbidden, domain.EFORBIDDEN)
}

func TestAttachments(t *testing.T) {
	h := newHarness(t)
	r := h.register(t, "acme", "Stark Industries", "stark.example", http.StatusCreated)
	path := "/v1/registrations/" + r.ID.String() + "/attachments"
	pdf := []byte("%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
	sum := sha256.Sum256(pdf)
	hash := hex.EncodeToString(sum[:])

	var att domain.Attachment
	h.mustDo(t, "acme", http.MethodPost, path+"?filename=meeting.pdf", pdf, http.StatusCreated, &att, "Content-Type", "application/pdf")
	require.Equal(t, hash, att.SHA256, "content-addressed by SHA-256")
	require.Equal(t, "application/pdf", att.ContentType)
	require.Equal(t, "meeting.pdf", att.Filename)

	got := h.get(t, "acme", r.ID)
	require.Len(t, got.Attachments, 1)
	entry := historyEntry(t, got, "RegistrationAttachmentAdded")
	require.Contains(t, string(entry.Data), hash, "the ledger records the document's hash")

	status, body, hdr := h.do(t, "manager", http.MethodGet, path+"/"+hash, nil)
	require.Equal(t, http.StatusOK, status)
	require.True(t, bytes.Equal(pdf, body))
	require.Equal(t, "application/pdf", hdr.Get("Content-Type"))
	require.Contains(t, hdr.Get("Content-Disposition"), "meeting.pdf")

	head := h.eventCount()
	h.problem(t, "acme", http.MethodPost, path, []byte("<html><script>alert(1)</script></html>"), http.StatusBadRequest, domain.EINVALID, "Content-Type", "text/plain")
	h.problem(t, "acme", http.MethodPost, path, bytes.Repeat([]byte("a"), 1<<20+1), http.StatusRequestEntityTooLarge, domain.ETOOLARGE, "Content-Type", "text/plain")
	h.problem(t, "globex", http.MethodPost, path, pdf, http.StatusNotFound, domain.ENOTFOUND, "Content-Type", "application/pdf")
	h.problem(t, "manager", http.MethodPost, path, pdf, http.StatusForbidden, domain.EFORBIDDEN, "Content-Type", "application/pdf")
	h.problem(t, "acme", http.MethodPost, path, pdf, http.StatusConflict, domain.ECONFLICT, "Content-Type", "application/pdf")
	require.Equal(t, head, h.eventCount())
	h.problem(t, "globex", http.MethodGet, path+"/"+hash, nil, http.StatusNotFound, domain.ENOTFOUND)

	// With an Idempotency-Key, a retried upload answers as the first did
	// and records the document once; the key cannot be reused for another
	// document, and a bad key is refused before anything is recorded.
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")
	var first, retry domain.Attachment
	h.mustDo(t, "acme", http.MethodPost, path+"?filename=org-chart.png", png, http.StatusCreated, &first,
		"Content-Type", "image/png", "Idempotency-Key", "upload-org-chart")
	head = h.eventCount()
	h.mustDo(t, "acme", http.MethodPost, path+"?filename=org-chart.png", png, http.StatusCreated, &retry,
		"Content-Type", "image/png", "Idempotency-Key", "upload-org-chart")
	require.Equal(t, first, retry)
	require.Equal(t, head, h.eventCount(), "the retry appends nothing")
	require.Len(t, h.get(t, "acme", r.ID).Attachments, 2)
	h.problem(t, "acme", http.MethodPost, path+"?filename=other.pdf", pdf, http.StatusConflict, domain.ECONFLICT,
		"Content-Type", "application/pdf", "Idempotency-Key", "upload-org-chart")
	h.problem(t, "acme", http.MethodPost, path, []byte("%PDF-1.7\nnew\n%%EOF\n"), http.StatusBadRequest, domain.EINVALID,
		"Content-Type", "application/pdf", "Idempotency-Key", "bad key")
	require.Equal(t, head, h.eventCount())
}
