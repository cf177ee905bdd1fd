package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// The partner portal beyond the registration form (issue 15): extension
// requests, receipts and MDF on the registration's page, published
// policies with their acknowledgement, the notifications inbox and the
// history reports. Every action is a plain form through the same app
// command the API calls; every read goes through the same visibility
// rules, so another partner's registration is not found.

// formErrors is what a refused form of the registration page brings back:
// which form, the error beside each field, what was typed, or a refusal
// that names no field.
type formErrors struct {
	Form    string
	Fields  map[string]string
	Values  map[string]string
	Message string
}

// For returns e if it is the refusal of form, else nothing.
func (e formErrors) For(form string) formErrors {
	if e.Form != form {
		return formErrors{}
	}
	return e
}

// Err is the error beside field.
func (e formErrors) Err(field string) string { return e.Fields[field] }

// Val is what was typed in field.
func (e formErrors) Val(field string) string { return e.Values[field] }

// portalMore is what the registration page shows beyond its details.
type portalMore struct {
	Errs             formErrors
	CanExtend        bool
	ExtensionPending bool
	Receipts         bool
	VerifierKey      string
	MDF              *app.MDFAccount
	MayRequestMDF    bool
	MDFActivities    []string
}

var mdfActivities = []string{string(domain.MDFCustomDemo), string(domain.MDFPOCEnvironment), string(domain.MDFJointCustomerEvent), string(domain.MDFSponsorship)}

func (h *Handler) registrationMore(_ *http.Request, s app.Session, d projections.RegistrationDetail, errs formErrors) portalMore {
	m := portalMore{
		Errs:             errs,
		CanExtend:        d.Status == domain.StatusActive && d.Type == domain.TypeOpportunity,
		ExtensionPending: d.Status == domain.StatusExtensionRequested,
		Receipts:         h.cfg.Proofs != nil && d.Submitted,
		VerifierKey:      h.cfg.VerifierKey,
		MDFActivities:    mdfActivities,
	}
	if d.Approved {
		if acc, err := h.app.MDFAccountOf(s.Caller, d.ID); err == nil && !acc.Allocation.IsZero() {
			m.MDF = &acc
			m.MayRequestMDF = d.Status.Protected() && acc.Remaining.Amount.IsPositive()
		}
	}
	return m
}

func regPath(id uuid.UUID) string { return "/portal/registrations/" + id.String() }

// refused shows the registration page again after one of its forms was
// refused: field errors beside their fields with what was typed, a
// refusal of the state (a conflict) above the form; anything else (not
// found, forbidden) as an error page.
func (h *Handler) refused(w http.ResponseWriter, r *http.Request, s app.Session, id uuid.UUID, form string, values map[string]string, err error) {
	l := h.newPage(w, r, "", nil).L
	e := formErrors{Form: form, Values: values, Fields: fieldErrors(l, err)}
	status := http.StatusUnprocessableEntity
	if e.Fields == nil {
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.ECONFLICT {
			h.failErr(w, r, err)
			return
		}
		e.Message, status = l.T("portal.refused", de.Message), http.StatusConflict
	}
	d, verr := h.app.Visible(s.Caller, id)
	if verr != nil {
		h.failErr(w, r, verr)
		return
	}
	h.showRegistration(w, r, s, status, d, e)
}

// requestExtension asks for an extension of the protection, with a reason
// (app.Service.RequestExtension, as POST /v1/registrations/{id}/extensions).
func (h *Handler) requestExtension(w http.ResponseWriter, r *http.Request, s app.Session) {
	d, err := h.visible(r, s)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	reason := r.PostFormValue("reason")
	if _, err := h.app.RequestExtension(r.Context(), app.Call{Caller: s.Caller}, d.ID, reason); err != nil {
		h.refused(w, r, s, d.ID, "extension", map[string]string{"reason": reason}, err)
		return
	}
	http.Redirect(w, r, regPath(d.ID)+"?done=extension-requested", http.StatusSeeOther)
}

// downloadReceipts sends the registration's receipt list
// (dealreg-receipts/v1), as GET /v1/registrations/{id}/receipts does, as a
// file to keep and verify offline.
func (h *Handler) downloadReceipts(w http.ResponseWriter, r *http.Request, s app.Session) {
	d, err := h.visible(r, s)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	if h.cfg.Proofs == nil {
		h.fail(w, r, http.StatusNotFound, "portal.receipts.none")
		return
	}
	list, err := api.RegistrationReceipts(r.Context(), h.cfg.Store, h.cfg.Proofs, s.Caller, d.ID, 0)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	sendJSONFile(w, "receipts-"+d.ID.String()+".json", list)
}

// downloadReceipt sends the receipt of the registration's first
// submission (dealreg-receipt/v1), as GET /v1/registrations/{id}/receipt.
func (h *Handler) downloadReceipt(w http.ResponseWriter, r *http.Request, s app.Session) {
	d, err := h.visible(r, s)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	if h.cfg.Proofs == nil {
		h.fail(w, r, http.StatusNotFound, "portal.receipts.none")
		return
	}
	rec, err := api.SubmissionReceipt(r.Context(), h.cfg.Store, h.cfg.Proofs, d.ID, 0, 0)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	sendJSONFile(w, "receipt-"+d.ID.String()+".json", rec)
}

func sendJSONFile(w http.ResponseWriter, name string, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_, _ = w.Write(append(b, '\n'))
}

// mdfNumber reads the {n} path value, an MDF request's number.
func mdfNumber(r *http.Request) (int, error) {
	v := r.PathValue("n")
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || strconv.Itoa(n) != v {
		return 0, domain.Errorf(domain.ENOTFOUND, "MDF request not found")
	}
	return n, nil
}

// parseAmount reads a decimal amount typed in a form; ok is false for
// text that is not a number (shown as a field error, and kept).
func parseAmount(v string) (decimal.Decimal, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return decimal.Zero, true
	}
	d, err := decimal.NewFromString(v)
	return d, err == nil
}

// requestMDF asks for marketing development funds against the
// registration's allocation (app.Service.RequestMDF, as POST
// /v1/registrations/{id}/mdf-requests).
func (h *Handler) requestMDF(w http.ResponseWriter, r *http.Request, s app.Session) {
	d, err := h.visible(r, s)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	l := h.newPage(w, r, "", nil).L
	vals := map[string]string{}
	for _, k := range []string{"activity", "description", "amount", "currency", "start_date", "end_date"} {
		vals[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	amount, ok := parseAmount(vals["amount"])
	if !ok {
		h.showRegistration(w, r, s, http.StatusUnprocessableEntity, d, formErrors{Form: "mdf-request", Values: vals, Fields: map[string]string{"amount": l.T("error.amount")}})
		return
	}
	in := domain.MDFRequestInput{Activity: domain.MDFActivity(vals["activity"]), Description: vals["description"],
		Amount: domain.Money{Amount: amount, Currency: vals["currency"]}, StartDate: domain.Date(vals["start_date"]), EndDate: domain.Date(vals["end_date"])}
	if vals["amount"] == "" {
		in.Amount = domain.Money{}
	}
	if _, err := h.app.RequestMDF(r.Context(), app.Call{Caller: s.Caller}, d.ID, in); err != nil {
		h.refused(w, r, s, d.ID, "mdf-request", vals, mdfFields(err))
		return
	}
	http.Redirect(w, r, regPath(d.ID)+"?done=mdf-requested", http.StatusSeeOther)
}

// mdfFields names an MDF command's field errors after the form's fields
// ("amount.amount" is the amount box).
func mdfFields(err error) error {
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.EINVALID {
		return err
	}
	out := *de
	out.Fields = slices.Clone(de.Fields)
	for i, f := range out.Fields {
		switch {
		case strings.HasPrefix(f.Field, "amount"):
			out.Fields[i].Field = "amount"
		case strings.HasPrefix(f.Field, "receipts"):
			out.Fields[i].Field = "receipts"
		}
	}
	return &out
}

// uploadMDFReceipt stores a receipt of an approved MDF request, through
// the API's one stager of documents (api.StageDocument), and records it
// (app.Service.AddMDFReceipt): checked before it is stored, published
// under its hash only once the command is decided.
func (h *Handler) uploadMDFReceipt(w http.ResponseWriter, r *http.Request, s app.Session) {
	d, err := h.visible(r, s)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	n, err := mdfNumber(r)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	store := h.cfg.Attachments
	if store == nil {
		h.fail(w, r, http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	form := "mdf-receipt-" + strconv.Itoa(n)
	file, hdr, err := r.FormFile("receipt")
	if err != nil {
		l := h.newPage(w, r, "", nil).L
		h.showRegistration(w, r, s, http.StatusUnprocessableEntity, d, formErrors{Form: form, Fields: map[string]string{"receipt": l.T("error.required")}})
		return
	}
	defer file.Close()
	name := api.DocumentName(hdr.Filename)
	call := app.Call{Caller: s.Caller}
	ctx := r.Context()
	if err := store.CheckSize(hdr.Size); err != nil {
		h.refused(w, r, s, d.ID, form, nil, fieldOf("receipt", err))
		return
	}
	if err := h.app.CheckMDFReceipt(ctx, call, d.ID, n, name); err != nil {
		h.refused(w, r, s, d.ID, form, nil, fieldOf("receipt", err))
		return
	}
	a, publish, discard, err := api.StageDocument(ctx, store, file, hdr.Header.Get("Content-Type"), name)
	if err != nil {
		h.refused(w, r, s, d.ID, form, nil, fieldOf("receipt", err))
		return
	}
	defer discard()
	if _, err := h.app.AddMDFReceipt(ctx, call, d.ID, n, a, publish); err != nil {
		h.refused(w, r, s, d.ID, form, nil, fieldOf("receipt", err))
		return
	}
	http.Redirect(w, r, regPath(d.ID)+"?done=receipt-added", http.StatusSeeOther)
}

// fieldOf turns an invalid-input error without fields (a document refused
// for its type or size) into one on field, so it shows beside the input.
func fieldOf(field string, err error) error {
	var de *domain.Error
	if errors.As(err, &de) && (de.Code == domain.EINVALID || de.Code == domain.ETOOLARGE) && len(de.Fields) == 0 {
		return &domain.Error{Code: domain.EINVALID, Message: de.Message, Fields: []domain.FieldError{{Field: field, Code: domain.FieldInvalid, Message: de.Message}}}
	}
	return mdfFields(err)
}

// downloadMDFReceipt sends a receipt of one of the registration's MDF
// requests, as GET /v1/registrations/{id}/mdf-requests/{n}/receipts/{sha}.
func (h *Handler) downloadMDFReceipt(w http.ResponseWriter, r *http.Request, s app.Session) {
	d, err := h.visible(r, s)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	n, err := mdfNumber(r)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	acc, err := h.app.MDFAccountOf(s.Caller, d.ID)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	sha := strings.ToLower(r.PathValue("sha256"))
	var found *domain.Attachment
	if n <= len(acc.Requests) {
		q := acc.Requests[n-1]
		if i := slices.IndexFunc(q.Receipts, func(a domain.Attachment) bool { return a.SHA256 == sha }); i >= 0 {
			found = &q.Receipts[i]
		}
	}
	if found == nil || h.cfg.Attachments == nil {
		h.fail(w, r, http.StatusNotFound, "error.not-found")
		return
	}
	if err := api.ServeDocument(w, h.cfg.Attachments, sha, found.Filename); err != nil {
		h.logger.Error("serve receipt", "sha256", sha, "err", err)
	}
}

// claimMDF claims reimbursement of an approved MDF request, citing its
// receipts (app.Service.ClaimMDF, as POST .../mdf-requests/{n}/claim).
func (h *Handler) claimMDF(w http.ResponseWriter, r *http.Request, s app.Session) {
	d, err := h.visible(r, s)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	n, err := mdfNumber(r)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	l := h.newPage(w, r, "", nil).L
	form := "mdf-claim-" + strconv.Itoa(n)
	vals := map[string]string{"amount": strings.TrimSpace(r.PostFormValue("amount")), "note": r.PostFormValue("note"), "currency": r.PostFormValue("currency")}
	amount, ok := parseAmount(vals["amount"])
	if !ok {
		h.showRegistration(w, r, s, http.StatusUnprocessableEntity, d, formErrors{Form: form, Values: vals, Fields: map[string]string{"amount": l.T("error.amount")}})
		return
	}
	money := domain.Money{Amount: amount, Currency: vals["currency"]}
	if vals["amount"] == "" {
		money = domain.Money{}
	}
	receipts := r.PostForm["receipts"]
	if _, err := h.app.ClaimMDF(r.Context(), app.Call{Caller: s.Caller}, d.ID, n, money, receipts, vals["note"]); err != nil {
		h.refused(w, r, s, d.ID, form, vals, mdfFields(err))
		return
	}
	http.Redirect(w, r, regPath(d.ID)+"?done=mdf-claimed", http.StatusSeeOther)
}

// policyRow is one published policy version as a partner reads it.
type policyRow struct {
	projections.PolicyVersionView
	InForce bool
	// Acked is the partner's acknowledgement, nil before one.
	Acked   *projections.PolicyAck
	AckedBy string
}

type policiesData struct {
	InForce  projections.PolicyVersionView
	Versions []policyRow
}

// policies lists the published versions, newest first, the one in force
// marked, with the partner's acknowledgement of each or the form to
// acknowledge it.
func (h *Handler) policies(w http.ResponseWriter, r *http.Request, s app.Session) {
	versions, err := h.app.PolicyVersions(s.Caller)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	cur, err := h.app.CurrentPolicy(s.Caller)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	d := policiesData{InForce: cur}
	for _, v := range slices.Backward(versions) {
		row := policyRow{PolicyVersionView: v, InForce: v.Policy.Version == cur.Policy.Version}
		if a, ok := h.app.Policies.Acknowledgements(v.Policy.Version)[s.Caller.Actor.PartnerID]; ok {
			row.Acked, row.AckedBy = &a, h.userName(s, a.AcknowledgedBy)
		}
		d.Versions = append(d.Versions, row)
	}
	h.render(w, http.StatusOK, "policies", h.newPage(w, r, "portal.policies.title", d))
}

// userName is the name of actor ("user:<id>") when it is a user of the
// caller's own partner, else the actor as recorded.
func (h *Handler) userName(s app.Session, actor string) string {
	id, err := uuid.Parse(strings.TrimPrefix(actor, "user:"))
	if err != nil {
		return actor
	}
	if u, ok := h.app.Users.User(id); ok && u.PartnerID == s.User.PartnerID {
		return u.Name
	}
	return actor
}

// acknowledgePolicy records the partner's acknowledgement of a published
// version (app.Service.AcknowledgePolicy, as POST
// /v1/policies/{v}/acknowledge): a PolicyAcknowledged event naming the
// user. Acknowledging again records nothing.
func (h *Handler) acknowledgePolicy(w http.ResponseWriter, r *http.Request, s app.Session) {
	v, err := strconv.Atoi(r.PathValue("v"))
	if err != nil || v < 1 {
		h.fail(w, r, http.StatusNotFound, "error.not-found")
		return
	}
	if _, err := h.app.AcknowledgePolicy(r.Context(), app.Call{Caller: s.Caller}, v); err != nil {
		h.failErr(w, r, err)
		return
	}
	http.Redirect(w, r, "/portal/policies?done=acknowledged#policy-"+strconv.Itoa(v), http.StatusSeeOther)
}

// days is a duration in whole days, for the policy's terms.
func days(d time.Duration) int { return int(d / domain.Day) }

// portalMoreRoutes adds the routes of this file and portal_inbox.go.
func (h *Handler) portalMoreRoutes() {
	h.linkRoutes()
	h.teamRoutes()
	h.mux.HandleFunc("POST /portal/registrations/{id}/extension", h.partner(h.requestExtension))
	h.mux.HandleFunc("GET /portal/registrations/{id}/receipts", h.partner(h.downloadReceipts))
	h.mux.HandleFunc("GET /portal/registrations/{id}/receipt", h.partner(h.downloadReceipt))
	h.mux.HandleFunc("POST /portal/registrations/{id}/mdf", h.partner(h.requestMDF))
	h.mux.HandleFunc("POST /portal/registrations/{id}/mdf/{n}/receipts", h.partner(h.uploadMDFReceipt))
	h.mux.HandleFunc("GET /portal/registrations/{id}/mdf/{n}/receipts/{sha256}", h.partner(h.downloadMDFReceipt))
	h.mux.HandleFunc("POST /portal/registrations/{id}/mdf/{n}/claim", h.partner(h.claimMDF))
	h.mux.HandleFunc("GET /portal/policies", h.partner(h.policies))
	h.mux.HandleFunc("POST /portal/policies/{v}/acknowledge", h.partner(h.acknowledgePolicy))
	h.mux.HandleFunc("GET /portal/notifications", h.partner(h.notifications))
	h.mux.HandleFunc("GET /portal/reports", h.partner(h.reports))
	h.mux.HandleFunc("GET /portal/reports.csv", h.partner(h.reportCSV))
}

// moreFuncs are the template functions the portal's extra pages use.
var moreFuncs = map[string]any{
	"days":  days,
	"short": func(sha string) string { return sha[:min(12, len(sha))] },
}
