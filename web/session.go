package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
)

// Cookies. The session cookie holds the session's secret (the ledger keeps
// only its SHA-256); the pre-session cookie carries the CSRF secret of a
// visitor not yet signed in (the sign-in form is protected too).
const (
	sessionCookie = "dealreg_session"
	preCookie     = "dealreg_pre"
	langCookie    = "dealreg_lang"
	csrfField     = "csrf"
)

type ctxKey int

const sessionKey ctxKey = 0

// sessionOf returns the request's session, if signed in.
func sessionOf(r *http.Request) (app.Session, bool) {
	s, ok := r.Context().Value(sessionKey).(app.Session)
	return s, ok
}

// setCookie sets an HttpOnly, SameSite=Lax cookie, Secure when the pages
// are configured for TLS or the request came over it.
func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", HttpOnly: true, Secure: h.cfg.Secure || r.TLS != nil,
		SameSite: http.SameSiteLaxMode, MaxAge: int(maxAge / time.Second),
	})
}

func (h *Handler) clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", HttpOnly: true, Secure: h.cfg.Secure || r.TLS != nil,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// withSession puts the live session of the request's cookie, if any, in
// its context.
func (h *Handler) withSession(r *http.Request) *http.Request {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return r
	}
	s, ok := h.app.SessionFor(c.Value)
	if !ok {
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), sessionKey, s))
}

// csrfToken is the token every form of the request carries: an HMAC of a
// purpose over the session's secret (or the pre-session secret), so it
// needs no storage and dies with the session.
func csrfToken(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("dealreg csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfSecret returns the secret the request's CSRF token derives from,
// setting a pre-session cookie for an anonymous visitor that has none.
func (h *Handler) csrfSecret(w http.ResponseWriter, r *http.Request) string {
	if s, ok := sessionOf(r); ok {
		return s.Secret
	}
	if c, err := r.Cookie(preCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	v := base64.RawURLEncoding.EncodeToString(raw[:])
	h.setCookie(w, r, preCookie, v, 24*time.Hour)
	// Later reads in this request see it.
	r.AddCookie(&http.Cookie{Name: preCookie, Value: v})
	return v
}

// checkCSRF reports whether a POST carries the token of its session (or
// pre-session). It is checked before anything else the request asks.
func checkCSRF(r *http.Request) bool {
	var secret string
	if s, ok := sessionOf(r); ok {
		secret = s.Secret
	} else if c, err := r.Cookie(preCookie); err == nil {
		secret = c.Value
	}
	if secret == "" {
		return false
	}
	got := r.PostFormValue(csrfField)
	if got == "" {
		got = r.Header.Get("X-CSRF-Token")
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(csrfToken(secret))) == 1
}

// limiter is a fixed-window counter per key: at most max events per
// window. Refusals append nothing to the ledger, so it lives in memory.
type limiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	clock  domain.Clock
	hits   map[string]*window
}

type window struct {
	start time.Time
	n     int
}

func newLimiter(max int, every time.Duration, clock domain.Clock) *limiter {
	return &limiter{max: max, window: every, clock: clock, hits: map[string]*window{}}
}

// allow counts one event for key and reports whether it is within the
// limit.
func (l *limiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	if len(l.hits) > 100_000 {
		for k, w := range l.hits {
			if now.Sub(w.start) >= l.window {
				delete(l.hits, k)
			}
		}
	}
	w, ok := l.hits[key]
	if !ok || now.Sub(w.start) >= l.window {
		w = &window{start: now}
		l.hits[key] = w
	}
	w.n++
	return w.n <= l.max
}

// clientIP is the peer's address; dealreg serves directly, so forwarded
// headers, which anyone can send, are not trusted.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
