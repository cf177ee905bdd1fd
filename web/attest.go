package web

import (
	"net/http"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
)

// The public page of a customer attestation link (/attest/{token}): no
// account, no session. It shows only the names of the partners on the
// case and asks which one the customer works with, and for which
// solution. A forged, expired, used or unknown link, and one whose case
// was decided, all answer the same generic page, with the same status.

type attestData struct {
	Q        app.AttestationQuestion
	Party    string
	Solution string
	Errors   map[string]string
}

func (h *Handler) attestSpent(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, http.StatusNotFound, "console.attest.spent")
}

func (h *Handler) attestShow(w http.ResponseWriter, r *http.Request) {
	// The page is the link's secret's: no referrer leaves it.
	w.Header().Set("Referrer-Policy", "no-referrer")
	q, err := h.app.AttestationQuestionFor(r.Context(), r.PathValue("token"))
	if err != nil {
		h.attestSpent(w, r)
		return
	}
	h.render(w, http.StatusOK, "attest", h.newPage(w, r, "console.attest.page-title", attestData{Q: q}))
}

func (h *Handler) attestAnswer(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	token := r.PathValue("token")
	q, err := h.app.AttestationQuestionFor(r.Context(), token)
	if err != nil {
		h.attestSpent(w, r)
		return
	}
	p := h.newPage(w, r, "console.attest.page-title", nil)
	d := attestData{Q: q, Party: r.PostFormValue("party"), Solution: r.PostFormValue("solution"), Errors: map[string]string{}}
	party := d.Party
	if party == "none" {
		party = ""
	}
	switch {
	case d.Party == "":
		d.Errors["party_key"] = p.L.fieldMessage(domain.FieldRequired, "")
	default:
		err = h.app.Attest(r.Context(), token, party, d.Solution)
		if err == nil {
			p := h.newPage(w, r, "console.attest.thanks", nil)
			p.Data = p.L.T("console.attest.recorded")
			h.render(w, http.StatusOK, "error", p)
			return
		}
		if d.Errors = fieldErrors(p.L, err); d.Errors == nil {
			h.attestSpent(w, r)
			return
		}
	}
	p.Data = d
	h.render(w, http.StatusUnprocessableEntity, "attest", p)
}
