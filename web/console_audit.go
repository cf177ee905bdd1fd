package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// The auditor's view: a time-travel control that shows the pipeline, and
// one registration, as the ledger stood at the end of a day (the same
// as_of support as the API: app.AnalyticsAt and app.VisibleAt), and the
// CSV exports of the API's lists (api.ExportCSV).

type auditData struct {
	AsOf     string
	RegID    string
	Moment   time.Time
	Pipeline projections.RegistrationAnalytics
	Names    map[string]string
	Reg      *projections.RegistrationDetail
	History  []projections.HistoryEntry
	Errors   map[string]string
	NotFound bool
}

// asOfMoment reads a day (YYYY-MM-DD) as the moment at its end, 23:59:59.999999999 UTC.
func asOfMoment(day string) (projections.Moment, time.Time, bool) {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return projections.Moment{}, time.Time{}, false
	}
	end := t.Add(24*time.Hour - time.Nanosecond)
	return projections.Moment{Time: end}, end, true
}

func (h *Handler) audit(w http.ResponseWriter, r *http.Request, s app.Session) {
	l := h.newPage(w, r, "", nil).L
	q := r.URL.Query()
	d := auditData{AsOf: strings.TrimSpace(q.Get("as_of")), RegID: strings.TrimSpace(q.Get("registration")), Errors: map[string]string{}, Names: map[string]string{}}
	if d.AsOf == "" {
		d.AsOf = h.app.Clock().Now().UTC().Format(time.DateOnly)
	}
	status := http.StatusOK
	m, end, ok := asOfMoment(d.AsOf)
	if !ok {
		d.Errors["as_of"] = l.T("error.date")
		status = http.StatusUnprocessableEntity
	} else {
		d.Moment = end
		f := projections.AnalyticsFilter{}
		if err := h.app.AnalyticsAt(r.Context(), &f, m); err != nil {
			h.failErr(w, r, err)
			return
		}
		pipe, err := h.app.RegistrationAnalytics(s.Caller, f, []string{"partner"})
		if err != nil {
			h.failErr(w, r, err)
			return
		}
		d.Pipeline = pipe
		for _, g := range pipe.Groups {
			d.Names[g.Key["partner"]] = h.partnerName(g.Key["partner"])
		}
		if d.RegID != "" {
			id, err := uuid.Parse(d.RegID)
			if err == nil {
				var reg projections.RegistrationDetail
				reg, d.History, err = h.app.VisibleAt(r.Context(), s.Caller, id, m)
				if err == nil {
					d.Reg = &reg
				}
			}
			if err != nil {
				if domain.ErrorCode(err) != domain.ENOTFOUND && domain.ErrorCode(err) != "" {
					h.failErr(w, r, err)
					return
				}
				d.NotFound = true
			}
		}
	}
	h.render(w, status, "console_audit", h.newPage(w, r, "console.audit.title", d))
}

// export serves a CSV export of the API's lists to a signed-in user.
func (h *Handler) export(w http.ResponseWriter, r *http.Request, s app.Session) {
	list := strings.TrimSuffix(r.PathValue("list"), ".csv")
	if list != api.ExportRegistrations && list != api.ExportConflicts {
		h.fail(w, r, http.StatusNotFound, "error.not-found")
		return
	}
	status := r.URL.Query().Get("status")
	if status != "open" && status != "decided" {
		status = ""
	}
	w.Header().Del("Content-Security-Policy")
	if err := api.ExportCSV(h.app, s.Caller, w, r, list, status); err != nil {
		h.failErr(w, r, err)
	}
}
