package api_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// upload attaches doc to registration id as partner who and returns its hash.
func (h *harness) upload(tb testing.TB, who string, id uuid.UUID, doc []byte) string {
	tb.Helper()
	h.mustDo(tb, who, http.MethodPost, "/v1/registrations/"+id.String()+"/attachments?filename=proof.pdf", doc, http.StatusCreated, nil, "Content-Type", "application/pdf")
	s := sha256.Sum256(doc)
	return hex.EncodeToString(s[:])
}

// Conflict evidence may cite only documents the party uploaded (onto its
// own registration: there is no upload onto a case). A never-uploaded hash
// and another partner's document are refused, naming the document, append
// nothing and leave the recommendation as it was; the party's own document
// is accepted and counts as proof.
func TestConflict_EvidenceCitesOnlyUploadedDocuments(t *testing.T) {
	h := newHarness(t)
	var r api.Registration
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations", map[string]any{"type": "opportunity", "details": h.details("Initrode", "initrode.example"), "submit": true}, http.StatusCreated, &r)
	other := h.register(t, "globex", "Umbrella Corp", "umbrella.example", http.StatusCreated)
	foreign := h.upload(t, "globex", other.ID, []byte("%PDF-1.7\nglobex's own NDA\n%%EOF\n"))
	h.clock.Advance(domain.Day)
	d := h.recordDirect(t, "Initrode", "initrode.example", t0.Add(-5*domain.Day))
	var c projections.ConflictView
	h.mustDo(t, "manager", http.MethodPost, "/v1/conflicts", map[string]any{
		"registrations": []uuid.UUID{r.ID}, "direct_opportunities": []uuid.UUID{d.ID}, "reason": "The CRM shows the same deal",
	}, http.StatusCreated, &c)
	require.Equal(t, domain.ClauseFirstToRegister, c.Recommendation.Clause, "no proof yet")
	path := "/v1/conflicts/" + c.ID.String() + "/evidence"

	never := strings.Repeat("ab", 32)
	for name, sha := range map[string]string{"NeverUploaded": never, "AnotherPartners": foreign} {
		t.Run(name, func(t *testing.T) {
			head := h.eventCount()
			p := h.problem(t, "acme", http.MethodPost, path, map[string]any{
				"statement": "Signed NDA attached.", "documents": []map[string]any{{"sha256": sha}},
			}, http.StatusBadRequest, domain.EINVALID)
			require.Len(t, p.Errors, 1)
			require.Equal(t, "documents[0].sha256", p.Errors[0].Field)
			require.Contains(t, p.Errors[0].Message, sha, "the field error names the document")
			require.Equal(t, head, h.eventCount(), "nothing appended")
			got := h.conflict(t, "manager", c.ID)
			require.Equal(t, domain.ClauseFirstToRegister, got.Recommendation.Clause, "refused evidence is no proof")
			require.Empty(t, got.Evidence)
		})
	}

	doc := []byte("%PDF-1.7\nacme's meeting confirmation\n%%EOF\n")
	own := h.upload(t, "acme", r.ID, doc)
	h.problem(t, "acme", http.MethodPost, path, map[string]any{
		"statement": "Signed NDA attached.", "documents": []map[string]any{{"sha256": own, "size": 1}},
	}, http.StatusBadRequest, domain.EINVALID)
	h.mustDo(t, "acme", http.MethodPost, path, map[string]any{
		"statement": "Meeting confirmation attached.", "documents": []map[string]any{{"sha256": own}},
	}, http.StatusOK, nil)
	got := h.conflict(t, "manager", c.ID)
	require.Equal(t, domain.ClausePartnerFirst, got.Recommendation.Clause, "the party's own document is proof")
	require.Equal(t, domain.PartyKeyRegistration(r.ID), got.Recommendation.Winner)
	require.Len(t, got.Evidence, 1)
	require.Equal(t, domain.PartyKeyRegistration(r.ID), got.Evidence[0].PartyKey)
	require.Equal(t, []domain.Attachment{{SHA256: own, Size: int64(len(doc)), ContentType: "application/pdf", Filename: "proof.pdf"}},
		got.Evidence[0].Evidence.Documents, "the citation records the upload")
}
