package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
)

// E-mailed one-time sign-in links: a signed-out user types an address and
// gets a link valid for app.SignInLinkLifetime; opening it shows a button
// that signs in (a GET never spends a link, so a mail scanner that follows
// links signs no one in). The link's token is drl_<link id>.<secret>; the
// ledger keeps only its SHA-256 (SignInLinkIssued) and records its one use
// (SignInLinkUsed). Requests are limited per address and per peer, and
// the answer is the same whether or not a user has the address. The
// token travels in the query, which the request log does not record.

// linksPerAccount bounds the links one address may be sent per 15
// minutes.
const linksPerAccount = 3

type linkData struct {
	Email string
	Sent  bool
	Token string
	Error string
	Off   bool
}

func (h *Handler) linkShow(w http.ResponseWriter, r *http.Request) {
	if _, ok := sessionOf(r); ok {
		h.home(w, r)
		return
	}
	h.render(w, http.StatusOK, "login-link", h.newPage(w, r, "portal.link.title", linkData{Off: !h.app.MailsEnabled()}))
}

// linkRequest e-mails a sign-in link to the address typed, if an active
// user has it; the page says the same either way.
func (h *Handler) linkRequest(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(w, r, "portal.link.title", nil)
	email := domain.NormalizeEmail(r.PostFormValue("email"))
	data := linkData{Email: email, Off: !h.app.MailsEnabled()}
	if data.Off {
		p.Data = data
		h.render(w, http.StatusServiceUnavailable, "login-link", p)
		return
	}
	if email == "" {
		data.Error = p.L.T("error.required")
		p.Data = data
		h.render(w, http.StatusUnprocessableEntity, "login-link", p)
		return
	}
	if !h.byIP.allow(clientIP(r)) || !h.links.allow(email) {
		data.Error = p.L.T("login.too-many")
		p.Data = data
		w.Header().Set("Retry-After", "900")
		h.render(w, http.StatusTooManyRequests, "login-link", p)
		return
	}
	token, u, ok, err := h.app.IssueSignInLink(r.Context(), email)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	if ok {
		l := localeFor(u.Language)
		link := h.publicURL("/login/link?t=" + url.QueryEscape(token))
		minutes := int(app.SignInLinkLifetime / time.Minute)
		// Sent in the background of the request: its time would tell
		// whether the address is known.
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := h.app.MailUser(ctx, u.Email, l.Lang, l.T("portal.link.mail-subject"), l.T("portal.link.mail-body", u.Name, link, minutes)); err != nil {
				h.logger.Error("mail sign-in link", "user", u.ID, "err", err)
			}
		}()
	}
	data.Sent = true
	p.Data = data
	h.render(w, http.StatusOK, "login-link", p)
}

// publicURL is path on the portal's public address (Config.PublicURL),
// never on the Host a request named: a link mailed to someone must not
// point where a requester chose.
func (h *Handler) publicURL(path string) string {
	return strings.TrimRight(h.cfg.PublicURL, "/") + path
}

// linkConfirm shows the button that spends the link.
func (h *Handler) linkConfirm(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("t")
	if token == "" {
		h.linkShow(w, r)
		return
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	h.render(w, http.StatusOK, "login-link", h.newPage(w, r, "portal.link.title", linkData{Token: token}))
}

// linkUse spends the link and signs its user in.
func (h *Handler) linkUse(w http.ResponseWriter, r *http.Request) {
	if !h.byIP.allow(clientIP(r)) {
		w.Header().Set("Retry-After", "900")
		h.fail(w, r, http.StatusTooManyRequests, "login.too-many")
		return
	}
	s, err := h.app.SignInWithLink(r.Context(), r.PostFormValue("t"))
	if err != nil {
		if domain.ErrorCode(err) == domain.EUNAUTHORIZED {
			h.fail(w, r, http.StatusUnauthorized, "portal.link.spent")
			return
		}
		h.failErr(w, r, err)
		return
	}
	h.setCookie(w, r, sessionCookie, s.Secret, app.SessionLifetime)
	h.clearCookie(w, r, preCookie)
	next := "/portal"
	if s.User.Role != domain.RolePartner {
		next = "/console"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// linkRoutes adds the sign-in link routes.
func (h *Handler) linkRoutes() {
	h.mux.HandleFunc("GET /login/link", h.linkConfirm)
	h.mux.HandleFunc("POST /login/link/send", h.linkRequest)
	h.mux.HandleFunc("POST /login/link", h.linkUse)
}
