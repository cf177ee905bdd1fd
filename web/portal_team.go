package web

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// A partner's admin invites colleagues of its own partner from the
// portal (app.Service.InviteColleague); the invitation link is shown once
// and, when the server sends mail, e-mailed to the colleague. Other
// partner users see their team and who its admins are.

type teamData struct {
	Members  []projections.UserView
	MayAdd   bool
	Name     string
	Email    string
	Language string
	Errors   map[string]string
	Link     string
	Mailed   bool
}

func (h *Handler) teamRoutes() {
	h.mux.HandleFunc("GET /portal/team", h.partner(h.team))
	h.mux.HandleFunc("POST /portal/team", h.partner(h.inviteColleague))
}

func (h *Handler) teamPage(w http.ResponseWriter, r *http.Request, s app.Session, status int, d teamData) {
	d.Members = h.app.Users.Colleagues(s.User.PartnerID)
	slices.SortFunc(d.Members, func(a, b projections.UserView) int { return strings.Compare(a.Email, b.Email) })
	d.MayAdd = s.User.PartnerAdmin
	if d.Language == "" {
		d.Language = s.User.Language
	}
	h.render(w, status, "team", h.newPage(w, r, "portal.team.title", d))
}

func (h *Handler) team(w http.ResponseWriter, r *http.Request, s app.Session) {
	h.teamPage(w, r, s, http.StatusOK, teamData{})
}

// inviteColleague invites a user of the admin's own partner: the partner
// comes from the session, never from the form.
func (h *Handler) inviteColleague(w http.ResponseWriter, r *http.Request, s app.Session) {
	d := teamData{Name: r.PostFormValue("name"), Email: r.PostFormValue("email"), Language: r.PostFormValue("language")}
	inv, err := h.app.InviteColleague(r.Context(), app.Call{Caller: s.Caller}, domain.UserPersonal{Name: d.Name, Email: d.Email}, d.Language)
	if err != nil {
		l := h.newPage(w, r, "", nil).L
		if d.Errors = fieldErrors(l, err); d.Errors == nil {
			h.failErr(w, r, err)
			return
		}
		h.teamPage(w, r, s, http.StatusUnprocessableEntity, d)
		return
	}
	link := h.publicURL("/invite/" + inv.Secret)
	if h.app.MailsEnabled() {
		l := localeFor(inv.Language)
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		if err := h.app.MailUser(ctx, inv.Email, l.Lang, l.T("portal.team.mail-subject"), l.T("portal.team.mail-body", inv.Name, s.User.Name, link)); err != nil {
			h.logger.Error("mail invitation", "user", inv.ID, "err", err)
		} else {
			d.Mailed = true
		}
	}
	h.teamPage(w, r, s, http.StatusOK, teamData{Link: link, Mailed: d.Mailed, Email: inv.Email})
}
