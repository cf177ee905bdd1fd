package web

import (
	"net/http"
	"time"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// checklist is the approval criteria a reviewer confirms before approving
// (the seed's "criterios de aprobación"); the approval records them.
var checklist = domain.ApprovalCriteria

type queueItem struct {
	projections.ReviewItem
	Overdue bool
	DueSoon bool
}

func (h *Handler) queue(w http.ResponseWriter, r *http.Request, s app.Session) {
	items, err := h.app.ReviewQueue(s.Caller, 200)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	now := h.app.Clock().Now()
	out := make([]queueItem, len(items))
	for i, it := range items {
		out[i] = queueItem{ReviewItem: it, Overdue: it.Overdue(now), DueSoon: !it.Overdue(now) && it.DueAt.Before(now.Add(24*time.Hour))}
	}
	h.render(w, http.StatusOK, "queue", h.newPage(w, r, "queue.title", out))
}

type reviewData struct {
	R           projections.RegistrationDetail
	Timeline    []timelineEntry
	Checklist   []string
	Checked     map[string]bool
	Reasons     []domain.RejectReason
	Decidable   bool
	MayDecide   bool
	Errors      map[string]string
	Action      string
	Reason      string
	Explanation string
	Guidance    string
	Message     string
	Matches     []matchRow
}

// matchRow is one earlier claim the duplicate check matched, beside the
// registration under review: what it claimed and who holds it, for the
// reviewer (never shown to a partner).
type matchRow struct {
	domain.MatchExplanation
	Found   bool
	Company string
	Domain  string
	Country string
	Partner string
	Status  domain.Status
}

func (h *Handler) reviewData(r *http.Request, s app.Session) (reviewData, error) {
	d, err := h.visible(r, s)
	if err != nil {
		return reviewData{}, err
	}
	data := reviewData{R: d, Timeline: h.timeline(d.ID), Checklist: checklist, Checked: map[string]bool{}, Reasons: domain.RejectReasons,
		MayDecide: s.User.Role.Reviewer()}
	switch d.Status {
	case domain.StatusCleared, domain.StatusPossibleDuplicate, domain.StatusUnderReview:
		data.Decidable = true
	}
	if d.Finding != nil {
		for _, ex := range d.Finding.Explanations {
			row := matchRow{MatchExplanation: ex}
			if !ex.Direct {
				if m, err := h.app.Visible(s.Caller, ex.ClaimID); err == nil {
					row.Found, row.Company, row.Domain, row.Country, row.Partner, row.Status = true, m.CompanyName, m.Domain, m.Country, m.PartnerID, m.Status
				}
			}
			data.Matches = append(data.Matches, row)
		}
	}
	return data, nil
}

func (h *Handler) reviewPage(w http.ResponseWriter, r *http.Request, s app.Session) {
	data, err := h.reviewData(r, s)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	h.render(w, http.StatusOK, "review", h.newPage(w, r, "review.title", data))
}

// decide approves (once every checklist item is confirmed), rejects with
// a reason, an explanation and guidance, or returns for information. A
// possible duplicate is taken into review first, by the same reviewer,
// as the API's clients do before approving one.
func (h *Handler) decide(w http.ResponseWriter, r *http.Request, s app.Session) {
	data, err := h.reviewData(r, s)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	l := h.newPage(w, r, "", nil).L
	data.Action = r.PostFormValue("action")
	data.Reason, data.Explanation, data.Guidance = r.PostFormValue("reason"), r.PostFormValue("explanation"), r.PostFormValue("guidance")
	data.Message = r.PostFormValue("message")
	data.Errors = map[string]string{}
	for _, c := range checklist {
		data.Checked[c] = r.PostFormValue("check."+c) == "on"
	}
	if data.Action == "approve" {
		for _, c := range checklist {
			if !data.Checked[c] {
				data.Errors["check."+c] = l.T("review.confirm")
			}
		}
	}
	if data.Action != "approve" && data.Action != "reject" && data.Action != "return" {
		data.Errors["action"] = l.fieldMessage(domain.FieldInvalid, "")
	}
	if len(data.Errors) > 0 {
		h.render(w, http.StatusUnprocessableEntity, "review", h.newPage(w, r, "review.title", data))
		return
	}
	ctx, call, id := r.Context(), app.Call{Caller: s.Caller}, data.R.ID
	if data.Action == "approve" && data.R.Status == domain.StatusPossibleDuplicate {
		if _, err := h.app.StartReview(ctx, call, id); err != nil {
			h.failErr(w, r, err)
			return
		}
	}
	switch data.Action {
	case "approve":
		_, err = h.app.ApproveChecked(ctx, call, id, checklist)
	case "reject":
		_, err = h.app.Reject(ctx, call, id, domain.RejectReason(data.Reason), data.Explanation, data.Guidance)
	case "return":
		_, err = h.app.Return(ctx, call, id, data.Message, nil)
	}
	if err != nil {
		if data.Errors = fieldErrors(l, err); data.Errors == nil {
			h.failErr(w, r, err)
			return
		}
		if d, err := h.visible(r, s); err == nil {
			data.R = d
		}
		h.render(w, http.StatusUnprocessableEntity, "review", h.newPage(w, r, "review.title", data))
		return
	}
	http.Redirect(w, r, "/console/registrations/"+id.String()+"?done="+data.Action, http.StatusSeeOther)
}
