package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// Partner administration in the console: the partners with their tier and
// standing, enrolment, and on a partner's page its tier, certifications,
// suspensions, violations and termination. Every command is the app's, as
// in api/partner_program.go and api/directory.go; the domain decides who
// may (enrolment: admins; tier: channel directors and above; standing:
// vendor reviewers), and a refusal shows on the page in its words.

// refusal turns a command's error into what the page shows: field errors
// beside their fields, or a message above the form for a refusal that is
// not about a field (a role, a state). ok is false for any other error,
// which the error page answers.
func refusal(l Locale, err error) (fields map[string]string, message string, ok bool) {
	if fields = fieldErrors(l, err); fields != nil {
		return fields, "", true
	}
	var de *domain.Error
	if errors.As(err, &de) {
		switch de.Code {
		case domain.EINVALID, domain.ECONFLICT, domain.EFORBIDDEN:
			return map[string]string{}, de.Message, true
		}
	}
	return nil, "", false
}

type partnerRow struct {
	projections.PartnerView
	Status domain.PartnerStatus
	Until  time.Time
}

type partnersData struct {
	Partners  []partnerRow
	Tiers     []string
	MayEnrol  bool
	Form      domain.Partner
	RegionsIn string
	Errors    map[string]string
	FormError string
}

var tiers = []string{string(domain.TierRegistered), string(domain.TierSilver), string(domain.TierGold), string(domain.TierPlatinum)}

func (h *Handler) partnersData(s app.Session) (partnersData, error) {
	list, err := h.app.Partners(s.Caller)
	if err != nil {
		return partnersData{}, err
	}
	d := partnersData{Tiers: tiers, MayEnrol: s.User.Role == domain.RoleAdmin, Errors: map[string]string{}}
	for _, p := range list {
		st, until := h.app.PartnerStatus(p)
		d.Partners = append(d.Partners, partnerRow{PartnerView: p, Status: st, Until: until})
	}
	return d, nil
}

func (h *Handler) partners(w http.ResponseWriter, r *http.Request, s app.Session) {
	d, err := h.partnersData(s)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	h.render(w, http.StatusOK, "console_partners", h.newPage(w, r, "console.partners.title", d))
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// enrol adds a partner to the program.
func (h *Handler) enrol(w http.ResponseWriter, r *http.Request, s app.Session) {
	d, err := h.partnersData(s)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	l := h.newPage(w, r, "", nil).L
	d.Form = domain.Partner{ID: strings.TrimSpace(r.PostFormValue("id")), Name: r.PostFormValue("name"), Tier: domain.PartnerTier(r.PostFormValue("tier"))}
	d.RegionsIn = r.PostFormValue("regions")
	d.Form.Regions = splitList(d.RegionsIn)
	if _, err := h.app.AddPartner(r.Context(), app.Call{Caller: s.Caller}, d.Form); err != nil {
		var ok bool
		if d.Errors, d.FormError, ok = refusal(l, err); !ok {
			h.failErr(w, r, err)
			return
		}
		h.render(w, http.StatusUnprocessableEntity, "console_partners", h.newPage(w, r, "console.partners.title", d))
		return
	}
	http.Redirect(w, r, "/console/partners/"+d.Form.ID+"?done=partner-enrolled", http.StatusSeeOther)
}

type partnerData struct {
	P         partnerRow
	Tiers     []string
	MayEdit   bool
	Errors    map[string]string
	FormError string
	Until     string
	Reason    string
	// Certifications and territory grants (console_grants.go).
	Now          time.Time
	Credentials  []credentialRow
	Grants       []grantRow
	Cred         credentialForm
	Grant        grantForm
	RevokeGrant  string // the grant whose revocation form was sent
	RevokeReason string
}

func (h *Handler) partnerData(r *http.Request, s app.Session) (partnerData, error) {
	p, ok := h.app.Directory.Partner(r.PathValue("id"))
	if !ok {
		return partnerData{}, domain.Errorf(domain.ENOTFOUND, "partner not found")
	}
	st, until := h.app.PartnerStatus(p)
	d := partnerData{P: partnerRow{PartnerView: p, Status: st, Until: until}, Tiers: tiers, MayEdit: s.User.Role.Reviewer(), Errors: map[string]string{},
		Now: h.app.Clock().Now(), Cred: credentialForm{Kind: string(domain.CredentialCertification)}}
	d.programRows()
	return d, nil
}

func (h *Handler) partnerPage(w http.ResponseWriter, r *http.Request, s app.Session) {
	d, err := h.partnerData(r, s)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	h.render(w, http.StatusOK, "console_partner", h.newPage(w, r, "console.partner.title", d))
}

// partnerCommand changes the tier, suspends, reinstates or terminates.
func (h *Handler) partnerCommand(w http.ResponseWriter, r *http.Request, s app.Session) {
	d, err := h.partnerData(r, s)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	l := h.newPage(w, r, "", nil).L
	ctx, call, id := r.Context(), app.Call{Caller: s.Caller}, d.P.ID
	action := r.PostFormValue("action")
	d.Reason, d.Until = r.PostFormValue("reason"), r.PostFormValue("until")
	switch action {
	case "tier":
		t := domain.PartnerTier(r.PostFormValue("tier"))
		_, err = h.app.UpdatePartner(ctx, call, id, domain.PartnerProfile{Tier: &t})
	case "suspend":
		until, perr := time.Parse(time.DateOnly, d.Until)
		if perr != nil {
			d.Errors["until"] = l.T("error.date")
			break
		}
		_, err = h.app.SuspendPartner(ctx, call, id, until, d.Reason)
	case "reinstate":
		_, err = h.app.ReinstatePartner(ctx, call, id, d.Reason)
	case "terminate":
		_, err = h.app.TerminatePartner(ctx, call, id, d.Reason)
	case "credential-add", "credential-revoke", "grant-add", "grant-revoke":
		err = h.programCommand(r, call, l, &d, action)
	default:
		d.Errors["action"] = l.fieldMessage(domain.FieldInvalid, "")
	}
	if err == nil && len(d.Errors) == 0 {
		http.Redirect(w, r, "/console/partners/"+id+"?done=partner-"+action, http.StatusSeeOther)
		return
	}
	if err != nil {
		var ok bool
		if d.Errors, d.FormError, ok = refusal(l, err); !ok {
			h.failErr(w, r, err)
			return
		}
	}
	h.render(w, http.StatusUnprocessableEntity, "console_partner", h.newPage(w, r, "console.partner.title", d))
}

func asDomainError(err error, de **domain.Error) bool { return errors.As(err, de) }
