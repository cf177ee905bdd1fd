package web

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// expiringWithin is how far ahead the dashboard looks for protections
// that end.
const expiringWithin = 30 * domain.Day

type statusCount struct {
	Status string
	N      int
}

type dashboardData struct {
	Counts   []statusCount
	Expiring []projections.RegistrationView
	Recent   []projections.RegistrationView
}

func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request, s app.Session) {
	now := h.app.Clock().Now()
	// The counts from the pipeline summary, the two lists from pages of
	// the list: the page costs the same for a partner of ten registrations
	// and one of ten thousand.
	sum, err := h.app.Summary(s.Caller, projections.ListFilter{}, []string{"status"})
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	var d dashboardData
	for _, g := range sum.Groups {
		d.Counts = append(d.Counts, statusCount{g.Key["status"], g.Count})
	}
	slices.SortFunc(d.Counts, func(a, b statusCount) int { return strings.Compare(a.Status, b.Status) })
	expiring, _, err := h.app.List(s.Caller, projections.ListFilter{ExpiringBefore: now.Add(expiringWithin), Sort: projections.ListSort{Field: "expires"}}, "", dashboardRows)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	for _, it := range expiring {
		if it.ProtectionLapsesAt.After(now) {
			d.Expiring = append(d.Expiring, it)
		}
	}
	if d.Recent, _, err = h.app.List(s.Caller, projections.ListFilter{Sort: projections.ListSort{Field: "updated", Desc: true}}, "", dashboardRows); err != nil {
		h.failErr(w, r, err)
		return
	}
	h.render(w, http.StatusOK, "dashboard", h.newPage(w, r, "dashboard.title", d))
}

// dashboardRows bounds each list of the dashboard (the reports page has
// every registration).
const dashboardRows = 20

type formData struct {
	Form         regForm
	BuyingStages []string
	LeadSources  []string
	Returned     string
}

func (h *Handler) showForm(w http.ResponseWriter, r *http.Request, status int, f regForm, returned string) {
	title := "form.title-new"
	if f.ID != "" {
		title = "form.title-edit"
	}
	h.render(w, status, "form", h.newPage(w, r, title, formData{Form: f, BuyingStages: buyingStages, LeadSources: leadSources, Returned: returned}))
}

func (h *Handler) newForm(w http.ResponseWriter, r *http.Request, _ app.Session) {
	h.showForm(w, r, http.StatusOK, regForm{Currency: defaultCurrency}, "")
}

// visible returns the registration of the {id} path value as the caller
// may see it; another partner's is not found, exactly like a missing one.
func (h *Handler) visible(r *http.Request, s app.Session) (projections.RegistrationDetail, error) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return projections.RegistrationDetail{}, domain.Errorf(domain.ENOTFOUND, "registration not found")
	}
	return h.app.Visible(s.Caller, id)
}

func editable(st domain.Status) bool { return st == domain.StatusDraft || st == domain.StatusReturned }

func (h *Handler) editForm(w http.ResponseWriter, r *http.Request, s app.Session) {
	d, err := h.visible(r, s)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	if !editable(d.Status) {
		http.Redirect(w, r, "/portal/registrations/"+d.ID.String(), http.StatusSeeOther)
		return
	}
	h.showForm(w, r, http.StatusOK, formOf(d), h.returnedMessage(d))
}

func (h *Handler) returnedMessage(d projections.RegistrationDetail) string {
	if d.Status != domain.StatusReturned {
		return ""
	}
	for _, e := range slices.Backward(h.app.Registrations.History(d.ID)) {
		if e.Type == (domain.RegistrationReturned{}).EventType() {
			ev, err := domain.DecodeEvent(e.Type, 1, e.Data)
			if ret, ok := ev.(domain.RegistrationReturned); err == nil && ok {
				return ret.Message
			}
		}
	}
	return ""
}

// createRegistration saves a new registration as a draft, or submits it.
// A submission that is not ready is refused whole: the form comes back
// with every field error beside its field and everything typed kept.
func (h *Handler) createRegistration(w http.ResponseWriter, r *http.Request, s app.Session) {
	l := h.newPage(w, r, "", nil).L
	f := readForm(r)
	d, parseErrs := f.details(l)
	submit := r.PostFormValue("action") == "submit"
	if len(parseErrs) > 0 && submit {
		// Name every problem at once: what did not parse, and what the
		// submission rules say of the rest.
		f.Errors = parseErrs
		now := h.app.Clock().Now()
		for k, v := range fieldErrors(l, d.Normalize().ValidateSubmission(domain.TypeOpportunity, now, h.app.PolicyAt(now))) {
			if _, ok := f.Errors[k]; !ok {
				f.Errors[k] = v
			}
		}
		h.showForm(w, r, http.StatusUnprocessableEntity, f, "")
		return
	}
	id, _, err := h.app.Create(r.Context(), app.Call{Caller: s.Caller}, domain.TypeOpportunity, d, submit)
	if err != nil {
		if f.Errors = mergeErrors(parseErrs, fieldErrors(l, err)); f.Errors == nil {
			h.failErr(w, r, err)
			return
		}
		h.showForm(w, r, http.StatusUnprocessableEntity, f, "")
		return
	}
	if len(parseErrs) > 0 {
		// The draft is saved without what did not parse; show it again.
		f.ID, f.Errors = id.String(), parseErrs
		h.showForm(w, r, http.StatusUnprocessableEntity, f, "")
		return
	}
	done := "saved"
	if submit {
		done = "submitted"
	}
	http.Redirect(w, r, "/portal/registrations/"+id.String()+"?done="+done, http.StatusSeeOther)
}

func mergeErrors(a, b map[string]string) map[string]string {
	if b == nil {
		return nil
	}
	for k, v := range a {
		if _, ok := b[k]; !ok {
			b[k] = v
		}
	}
	return b
}

// saveRegistration saves a draft's (or returned registration's) details
// and, when asked, submits it. The details are saved first, so a
// submission refused for a missing field loses nothing.
func (h *Handler) saveRegistration(w http.ResponseWriter, r *http.Request, s app.Session) {
	cur, err := h.visible(r, s)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	l := h.newPage(w, r, "", nil).L
	f := readForm(r)
	f.ID = cur.ID.String()
	d, parseErrs := f.details(l)
	call := app.Call{Caller: s.Caller}
	if _, err := h.app.Amend(r.Context(), call, cur.ID, d); err != nil {
		if f.Errors = mergeErrors(parseErrs, fieldErrors(l, err)); f.Errors == nil {
			h.failErr(w, r, err)
			return
		}
		h.showForm(w, r, http.StatusUnprocessableEntity, f, h.returnedMessage(cur))
		return
	}
	if len(parseErrs) > 0 {
		f.Errors = parseErrs
		h.showForm(w, r, http.StatusUnprocessableEntity, f, h.returnedMessage(cur))
		return
	}
	done := "saved"
	if r.PostFormValue("action") == "submit" {
		if _, err := h.app.Submit(r.Context(), call, cur.ID); err != nil {
			if f.Errors = fieldErrors(l, err); f.Errors == nil {
				h.failErr(w, r, err)
				return
			}
			h.showForm(w, r, http.StatusUnprocessableEntity, f, h.returnedMessage(cur))
			return
		}
		done = "submitted"
	}
	http.Redirect(w, r, "/portal/registrations/"+cur.ID.String()+"?done="+done, http.StatusSeeOther)
}

type timelineEntry struct {
	At   time.Time
	Type string
}

type registrationData struct {
	R        projections.RegistrationDetail
	Editable bool
	Hint     string
	Timeline []timelineEntry
	Uploads  bool
	// More is the registration's extension, receipts and MDF
	// (portal_more.go).
	More portalMore
}

// timeline is the registration's history as a partner may read it: what
// happened and when, never the duplicate check's matches.
func (h *Handler) timeline(id uuid.UUID) []timelineEntry {
	var out []timelineEntry
	for _, e := range h.app.Registrations.History(id) {
		out = append(out, timelineEntry{At: e.RecordedAt, Type: e.Type})
	}
	return out
}

func (h *Handler) registrationPage(w http.ResponseWriter, r *http.Request, s app.Session) {
	d, err := h.visible(r, s)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	h.showRegistration(w, r, s, http.StatusOK, d, formErrors{})
}

// showRegistration renders registration d's page with status; errs are
// the field errors of one of its forms refused (extension, MDF), shown
// beside their fields with what was typed.
func (h *Handler) showRegistration(w http.ResponseWriter, r *http.Request, s app.Session, status int, d projections.RegistrationDetail, errs formErrors) {
	d.Finding = nil // for reviewers only
	data := registrationData{R: d, Editable: editable(d.Status), Timeline: h.timeline(d.ID), Uploads: h.cfg.Attachments != nil,
		More: h.registrationMore(r, s, d, errs)}
	if data.Editable {
		// Without JavaScript the hint shows here, after saving.
		if hint, err := h.app.DuplicateHint(s.Caller, d.ID, d.Type, d.Details.Account, d.Details.Opportunity.ProductLines); err == nil {
			data.Hint = string(hint)
		}
	}
	h.render(w, status, "registration", h.newPage(w, r, "registration.title", data))
}

// duplicateHint answers the form's script: the hint for the account typed
// so far, as a short text. It is limited per session, so it cannot be used
// to sweep the book.
func (h *Handler) duplicateHint(w http.ResponseWriter, r *http.Request, s app.Session) {
	l := h.newPage(w, r, "", nil).L
	if !h.hints.allow(s.ID.String()) {
		w.Header().Set("Retry-After", "60")
		http.Error(w, l.T("hint.slow-down"), http.StatusTooManyRequests)
		return
	}
	q := r.URL.Query()
	self, _ := uuid.Parse(q.Get("id"))
	a := domain.Account{CompanyName: q.Get("company_name"), Domain: q.Get("domain"), Country: q.Get("country")}
	hint, err := h.app.DuplicateHint(s.Caller, self, domain.TypeOpportunity, a, nil)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Hint", string(hint))
	_, _ = w.Write([]byte(l.T("hint." + string(hint))))
}

// uploadProof stores a proof document and records it on the registration.
func (h *Handler) uploadProof(w http.ResponseWriter, r *http.Request, s app.Session) {
	d, err := h.visible(r, s)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	store := h.cfg.Attachments
	if store == nil {
		h.fail(w, r, http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	file, hdr, err := r.FormFile("document")
	if err != nil {
		http.Redirect(w, r, "/portal/registrations/"+d.ID.String()+"?done=no-file", http.StatusSeeOther)
		return
	}
	defer file.Close()
	name := api.DocumentName(hdr.Filename)
	call := app.Call{Caller: s.Caller}
	opts := app.AttachOptions{Quota: store.RegistrationQuota()}
	ctx := r.Context()
	if err := store.CheckSize(hdr.Size); err != nil {
		h.failErr(w, r, err)
		return
	}
	if err := h.app.CheckAttach(ctx, call, d.ID, name, hdr.Size, opts); err != nil {
		h.failErr(w, r, err)
		return
	}
	// The API's one stager of documents.
	a, publish, discard, err := api.StageDocument(ctx, store, file, hdr.Header.Get("Content-Type"), name)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	defer discard()
	opts.Publish = publish
	if _, err := h.app.Attach(ctx, call, d.ID, a, opts); err != nil {
		h.failErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/portal/registrations/"+d.ID.String()+"?done=uploaded", http.StatusSeeOther)
}
