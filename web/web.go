// Package web serves dealreg's pages: the partner portal (/portal) and the
// channel-ops console (/console), with sign-in for invited users. Pages are
// rendered on the server with html/template from templates embedded in the
// binary, in English or Spanish (messages in locales/*.json); a few lines
// of plain JavaScript add the live duplicate hint, and every main action
// works without it. Authorisation is the API's: a signed-in user acts as an
// app.Caller, so a partner user sees only its own partner's data, and
// another partner's registration answers exactly as one that does not exist.
package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore/attachments"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Config is what the pages need.
type Config struct {
	App *app.Service
	// Attachments stores proof documents; nil disables uploads.
	Attachments *attachments.Store
	Logger      *slog.Logger
	// Secure marks cookies Secure: set it when the pages are served over
	// TLS (directly or behind a TLS-terminating proxy).
	Secure bool
	// Argon2 are the cost parameters of new password hashes; zero takes
	// app.DefaultArgon2.
	Argon2 app.Argon2Params
	// SignInPerAccount and SignInPerIP bound sign-in attempts per 15
	// minutes; zero takes 10 and 50.
	SignInPerAccount, SignInPerIP int
	// Store is the ledger the portal reads notifications and receipts
	// from; Proofs (nil: no receipts offered) answers receipts, and
	// VerifierKey is the key they verify with, shown beside them.
	Store       domain.EventStore
	Proofs      api.Proofs
	VerifierKey string
	// PublicURL is the portal's address as people reach it
	// ("https://dealreg.example"): e-mailed sign-in links and invitations
	// point there.
	PublicURL string
}

// Handler serves the pages.
type Handler struct {
	cfg       Config
	app       *app.Service
	logger    *slog.Logger
	mux       *http.ServeMux
	pages     map[string]*template.Template
	byAccount *limiter
	byIP      *limiter
	hints     *limiter
	links     *limiter
}

// Prefixes are the paths the pages own; the API server routes them here.
var Prefixes = []string{"/", "/login", "/logout", "/invite/*", "/settings/*", "/portal", "/portal/*", "/console", "/console/*", "/static/*", "/login/*", "/attest/*"}

// New returns the pages' handler.
func New(cfg Config) *Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Argon2.Time == 0 {
		cfg.Argon2 = app.DefaultArgon2
	}
	if cfg.SignInPerAccount <= 0 {
		cfg.SignInPerAccount = 10
	}
	if cfg.SignInPerIP <= 0 {
		cfg.SignInPerIP = 50
	}
	clock := cfg.App.Clock()
	h := &Handler{cfg: cfg, app: cfg.App, logger: cfg.Logger, mux: http.NewServeMux(), pages: parsePages(),
		byAccount: newLimiter(cfg.SignInPerAccount, 15*time.Minute, clock),
		byIP:      newLimiter(cfg.SignInPerIP, 15*time.Minute, clock),
		hints:     newLimiter(60, time.Minute, clock),
		links:     newLimiter(linksPerAccount, 15*time.Minute, clock),
	}
	static, _ := fs.Sub(staticFiles, "static")
	h.mux.Handle("GET /static/", http.StripPrefix("/static/", cacheFor(http.FileServerFS(static))))
	h.mux.HandleFunc("GET /{$}", h.home)
	h.mux.HandleFunc("GET /login", h.loginShow)
	h.mux.HandleFunc("POST /login", h.loginCheck)
	h.mux.HandleFunc("POST /logout", h.logout)
	h.mux.HandleFunc("GET /invite/{secret}", h.inviteShow)
	h.mux.HandleFunc("POST /invite/{secret}", h.inviteAccept)
	h.mux.HandleFunc("POST /settings/language", h.setLanguage)

	h.mux.HandleFunc("GET /portal", h.partner(h.dashboard))
	h.mux.HandleFunc("GET /portal/registrations/new", h.partner(h.newForm))
	h.mux.HandleFunc("POST /portal/registrations", h.partner(h.createRegistration))
	h.mux.HandleFunc("GET /portal/registrations/{id}", h.partner(h.registrationPage))
	h.mux.HandleFunc("GET /portal/registrations/{id}/edit", h.partner(h.editForm))
	h.mux.HandleFunc("POST /portal/registrations/{id}", h.partner(h.saveRegistration))
	h.mux.HandleFunc("POST /portal/registrations/{id}/proof", h.partner(h.uploadProof))
	h.mux.HandleFunc("GET /portal/duplicate-hint", h.partner(h.duplicateHint))
	h.portalMoreRoutes()

	h.mux.HandleFunc("GET /console", h.reviewer(h.queue))
	h.mux.HandleFunc("GET /console/registrations/{id}", h.reviewer(h.reviewPage))
	h.mux.HandleFunc("POST /console/registrations/{id}/decide", h.reviewer(h.decide))
	h.consoleRoutes() // console_routes.go
	return h
}

func cacheFor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

// ServeHTTP implements http.Handler: security headers on every page, the
// session in the context, and the CSRF check before any POST is handled.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	r = h.withSession(r)
	if r.Method == http.MethodPost {
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
			max := int64(20 << 20)
			if h.cfg.Attachments != nil {
				max = h.cfg.Attachments.MaxSize()
			}
			r.Body = http.MaxBytesReader(w, r.Body, max+1<<20)
			if err := r.ParseMultipartForm(1 << 20); err != nil {
				h.fail(w, r, http.StatusRequestEntityTooLarge, "error.too-large")
				return
			}
		} else {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		}
		if !checkCSRF(r) {
			h.fail(w, r, http.StatusForbidden, "error.csrf")
			return
		}
	}
	if r.Method == http.MethodGet || r.Method == http.MethodPost {
		hd.Set("Cache-Control", "no-store")
	}
	h.mux.ServeHTTP(w, r)
}

// page is what every template gets.
type page struct {
	L       Locale
	Title   string
	CSRF    string
	User    *app.Session
	Path    string
	Flash   string
	Data    any
	Console bool
	// Unread is a partner user's count of unread notifications, shown in
	// the header (at most maxUnread: "99+").
	Unread int
}

// maxUnread is the highest unread count the header tells exactly.
const maxUnread = 99

// UnreadText is the header's count: "99+" past maxUnread.
func (p page) UnreadText() string {
	if p.Unread > maxUnread {
		return strconv.Itoa(maxUnread) + "+"
	}
	return strconv.Itoa(p.Unread)
}

func (h *Handler) newPage(w http.ResponseWriter, r *http.Request, titleKey string, data any) page {
	var user *app.Session
	userLang := ""
	if s, ok := sessionOf(r); ok {
		user, userLang = &s, s.User.Language
	}
	l := localeFor(negotiate(r, userLang))
	p := page{L: l, Title: l.T(titleKey), CSRF: csrfToken(h.csrfSecret(w, r)), User: user, Path: r.URL.Path, Data: data}
	if user != nil && user.User.Role != domain.RolePartner {
		p.Console = true
	}
	if f := r.URL.Query().Get("done"); f != "" && l.Has("flash."+f) {
		p.Flash = l.T("flash." + f)
	}
	return p
}

// render writes page name with status.
func (h *Handler) render(w http.ResponseWriter, status int, name string, p page) {
	t, ok := h.pages[name]
	if !ok {
		panic("web: no page " + name)
	}
	if p.User != nil && !p.Console {
		// One bounded read of the inbox index (projections.Inbox).
		n, err := h.app.UnreadNotifications(context.Background(), p.User.User, maxUnread+1)
		if err != nil {
			h.logger.Error("unread notifications", "err", err)
		}
		p.Unread = n
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		h.logger.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", p.L.Lang)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fail renders the error page with the message key.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, key string) {
	p := h.newPage(w, r, "error.title", nil)
	p.Data = p.L.T(key)
	h.render(w, status, "error", p)
}

// failErr renders err as its status: not found, forbidden, conflict.
// Internal errors are logged; users see only a generic message.
func (h *Handler) failErr(w http.ResponseWriter, r *http.Request, err error) {
	switch domain.ErrorCode(err) {
	case domain.ENOTFOUND:
		h.fail(w, r, http.StatusNotFound, "error.not-found")
	case domain.EFORBIDDEN:
		h.fail(w, r, http.StatusForbidden, "error.forbidden")
	case domain.ECONFLICT:
		h.fail(w, r, http.StatusConflict, "error.conflict")
	case domain.EUNAVAILABLE:
		h.fail(w, r, http.StatusServiceUnavailable, "error.unavailable")
	default:
		var de *domain.Error
		if errors.As(err, &de) && de.Code != domain.EINTERNAL {
			p := h.newPage(w, r, "error.title", de.Message)
			h.render(w, http.StatusUnprocessableEntity, "error", p)
			return
		}
		h.logger.Error("page", "path", r.URL.Path, "err", err)
		h.fail(w, r, http.StatusInternalServerError, "error.internal")
	}
}

// partner wraps a handler for partner users: anyone else is sent to sign
// in (anonymous) or refused.
func (h *Handler) partner(next func(http.ResponseWriter, *http.Request, app.Session)) http.HandlerFunc {
	return h.signedIn(func(s app.Session) bool { return s.User.Role == domain.RolePartner }, next)
}

// reviewer wraps a handler for vendor reviewers and auditors.
func (h *Handler) reviewer(next func(http.ResponseWriter, *http.Request, app.Session)) http.HandlerFunc {
	return h.signedIn(func(s app.Session) bool {
		return s.User.Role.Reviewer() || s.User.Role == domain.RoleAuditor
	}, next)
}

func (h *Handler) signedIn(allowed func(app.Session) bool, next func(http.ResponseWriter, *http.Request, app.Session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, ok := sessionOf(r)
		if !ok {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(pathOnly(r.URL.RequestURI())), http.StatusSeeOther)
				return
			}
			h.fail(w, r, http.StatusUnauthorized, "error.signed-out")
			return
		}
		if !h.app.Ready() {
			w.Header().Set("Retry-After", "1")
			h.fail(w, r, http.StatusServiceUnavailable, "error.unavailable")
			return
		}
		if !allowed(s) {
			h.fail(w, r, http.StatusForbidden, "error.forbidden")
			return
		}
		next(w, r, s)
	}
}

// pathOnly keeps a local path for a redirect after sign-in: nothing that
// could send the browser elsewhere.
func pathOnly(u string) string {
	if !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//") || strings.ContainsAny(u, "\\\r\n") {
		return "/"
	}
	return u
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	s, ok := sessionOf(r)
	switch {
	case !ok:
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	case s.User.Role == domain.RolePartner:
		http.Redirect(w, r, "/portal", http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/console", http.StatusSeeOther)
	}
}
