package web

import (
	"net/http"
	"time"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
)

type loginData struct {
	Email string
	Next  string
	Error string
}

func (h *Handler) loginShow(w http.ResponseWriter, r *http.Request) {
	if _, ok := sessionOf(r); ok {
		h.home(w, r)
		return
	}
	h.render(w, http.StatusOK, "login", h.newPage(w, r, "login.title", loginData{Next: pathOnly(r.URL.Query().Get("next"))}))
}

// loginCheck signs in. Attempts are limited per account and per address,
// counted before the password is checked, so guessing costs the guesser
// time whatever it guesses; the answer never says which part was wrong.
func (h *Handler) loginCheck(w http.ResponseWriter, r *http.Request) {
	email := domain.NormalizeEmail(r.PostFormValue("email"))
	data := loginData{Email: email, Next: pathOnly(r.PostFormValue("next"))}
	if !h.byIP.allow(clientIP(r)) || !h.byAccount.allow(email) {
		p := h.newPage(w, r, "login.title", data)
		data.Error = p.L.T("login.too-many")
		p.Data = data
		w.Header().Set("Retry-After", "900")
		h.render(w, http.StatusTooManyRequests, "login", p)
		return
	}
	s, err := h.app.SignIn(r.Context(), email, r.PostFormValue("password"))
	if err != nil {
		p := h.newPage(w, r, "login.title", data)
		if domain.ErrorCode(err) != domain.EUNAUTHORIZED {
			h.failErr(w, r, err)
			return
		}
		data.Error = p.L.T("login.wrong")
		p.Data = data
		h.render(w, http.StatusUnauthorized, "login", p)
		return
	}
	h.setCookie(w, r, sessionCookie, s.Secret, app.SessionLifetime)
	h.clearCookie(w, r, preCookie)
	next := data.Next
	if next == "/" || next == "" {
		next = "/portal"
		if s.User.Role != domain.RolePartner {
			next = "/console"
		}
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if s, ok := sessionOf(r); ok {
		if err := h.app.EndSession(r.Context(), app.Call{Caller: s.Caller}, s.ID); err != nil {
			h.failErr(w, r, err)
			return
		}
	}
	h.clearCookie(w, r, sessionCookie)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

type inviteData struct {
	Name, Email string
	Errors      map[string]string
}

func (h *Handler) inviteShow(w http.ResponseWriter, r *http.Request) {
	u, ok := h.app.Invited(r.PathValue("secret"))
	if !ok {
		h.fail(w, r, http.StatusNotFound, "error.invite-spent")
		return
	}
	h.render(w, http.StatusOK, "invite", h.newPage(w, r, "invite.title", inviteData{Name: u.Name, Email: u.Email}))
}

func (h *Handler) inviteAccept(w http.ResponseWriter, r *http.Request) {
	secret := r.PathValue("secret")
	u, ok := h.app.Invited(secret)
	if !ok {
		h.fail(w, r, http.StatusNotFound, "error.invite-spent")
		return
	}
	p := h.newPage(w, r, "invite.title", nil)
	data := inviteData{Name: u.Name, Email: u.Email, Errors: map[string]string{}}
	pw := r.PostFormValue("password")
	if pw != r.PostFormValue("password2") {
		data.Errors["password2"] = p.L.T("invite.mismatch")
	} else if _, err := h.app.AcceptInvitation(r.Context(), secret, pw, h.cfg.Argon2); err != nil {
		fields := fieldErrors(p.L, err)
		if fields == nil {
			h.failErr(w, r, err)
			return
		}
		data.Errors = fields
	}
	if len(data.Errors) > 0 {
		p.Data = data
		h.render(w, http.StatusUnprocessableEntity, "invite", p)
		return
	}
	http.Redirect(w, r, "/login?done=password-set", http.StatusSeeOther)
}

// setLanguage records a signed-in user's language, or remembers an
// anonymous visitor's in a cookie.
func (h *Handler) setLanguage(w http.ResponseWriter, r *http.Request) {
	lang := r.PostFormValue("language")
	if !domain.ValidLanguage(lang) {
		h.fail(w, r, http.StatusUnprocessableEntity, "error.language")
		return
	}
	if s, ok := sessionOf(r); ok {
		if err := h.app.SetLanguage(r.Context(), s, lang); err != nil {
			h.failErr(w, r, err)
			return
		}
	} else {
		h.setCookie(w, r, langCookie, lang, 365*24*time.Hour)
	}
	http.Redirect(w, r, pathOnly(r.PostFormValue("back")), http.StatusSeeOther)
}
