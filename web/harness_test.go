package web_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
	"github.com/dealreg/dealreg/eventstore/attachments"
	"github.com/dealreg/dealreg/web"
)

// t0 is when every site's ledger starts; the clock moves only when a test
// moves it.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// fastArgon2 keeps test sign-ins quick; production hashes use
// app.DefaultArgon2 (a hash carries its own parameters).
var fastArgon2 = app.Argon2Params{Time: 1, Memory: 1024, Threads: 1}

var adminCall = app.Call{Caller: app.Caller{Actor: domain.Actor{ID: "cli:test", Role: domain.RoleAdmin}, Name: "test"}}

// site is the real server (API and pages) on a real ledger, over HTTP.
type site struct {
	url   string
	store *eventstore.SQLite
	app   *app.Service
	clock *domain.ManualClock
	docs  *attachments.Store
	vkey  string
	n     atomic.Int64
}

func newSite(tb testing.TB, dir string) (*site, func()) {
	tb.Helper()
	return newSiteWith(tb, dir, nil)
}

// newSiteWith is newSite with the service's configuration changed by
// configure (a mail server, say).
func newSiteWith(tb testing.TB, dir string, configure func(*app.Config)) (*site, func()) {
	tb.Helper()
	clock := domain.NewManualClock(t0)
	skey, vkey, err := note.GenerateKey(rand.Reader, "dealreg.test/ledger")
	require.NoError(tb, err)
	signer, err := note.NewSigner(skey)
	require.NoError(tb, err)
	store, err := eventstore.OpenSQLite(filepath.Join(dir, "ledger.db"), eventstore.Options{Clock: clock, Signer: signer})
	require.NoError(tb, err)
	var logOut io.Writer = io.Discard
	if os.Getenv("DEALREG_TEST_LOG") != "" {
		logOut = os.Stderr
	}
	logger := slog.New(slog.NewTextHandler(logOut, nil))
	cfg := app.Config{Store: store, Clock: clock, Logger: logger, PublicURL: "https://portal.test"}
	if configure != nil {
		configure(&cfg)
	}
	svc := app.New(cfg)
	require.NoError(tb, svc.Start(context.Background(), false))
	docs, err := attachments.Open(filepath.Join(dir, "attachments"), attachments.Options{MaxSize: 1 << 20, RegistrationQuota: 3 << 20})
	require.NoError(tb, err)
	pages := web.New(web.Config{App: svc, Attachments: docs, Logger: logger, Argon2: fastArgon2, SignInPerAccount: 5, SignInPerIP: 1000,
		Store: store, Proofs: store, VerifierKey: vkey, PublicURL: "https://portal.test"})
	srv := api.NewServer(api.Config{Addr: "127.0.0.1:0", Store: store, App: svc, Attachments: docs, Logger: logger,
		Pages: pages, PagePaths: web.Prefixes, VerifierKey: vkey})
	require.NoError(tb, srv.Open())
	s := &site{url: "http://" + srv.Addr(), store: store, app: svc, clock: clock, docs: docs, vkey: vkey}
	ctx := context.Background()
	for _, p := range []domain.Partner{
		{ID: "acme", Name: "Acme Integradores", Tier: domain.TierGold},
		{ID: "globex", Name: "Globex Partners", Tier: domain.TierSilver},
	} {
		_, err := svc.AddPartner(ctx, adminCall, p)
		require.NoError(tb, err)
	}
	return s, func() {
		_ = srv.Close(context.Background())
		svc.Stop()
		store.Close()
	}
}

// newTestSite is newSite in the test's temp dir.
func newTestSite(t *testing.T) *site {
	s, stop := newSite(t, t.TempDir())
	t.Cleanup(stop)
	return s
}

const testPassword = "a long enough passphrase"

// user invites a person and sets their password; it returns the e-mail.
func (s *site) user(tb testing.TB, role domain.Role, partner, lang string) string {
	tb.Helper()
	email := fmt.Sprintf("%s%d@%s.example", role, s.n.Add(1), strings.ReplaceAll(partner+"vendor", "_", ""))
	inv, err := s.app.InviteUser(context.Background(), adminCall, domain.UserPersonal{Name: "Test " + string(role), Email: email}, role, partner, lang)
	require.NoError(tb, err)
	_, err = s.app.AcceptInvitation(context.Background(), inv.Secret, testPassword, fastArgon2)
	require.NoError(tb, err)
	return email
}

// registration records a submitted registration of partner for company,
// approved when approve is set.
func (s *site) registration(tb testing.TB, partner, company, site string, approve bool) uuid.UUID {
	tb.Helper()
	ctx := context.Background()
	call := app.Call{Caller: app.Caller{Actor: domain.Actor{ID: "token:" + partner, Role: domain.RolePartner, PartnerID: partner}, Name: partner}}
	now := s.clock.Now()
	d := domain.Details{
		Account:      domain.Account{CompanyName: company, Domain: site, Country: "MX"},
		Opportunity:  domain.Opportunity{ProductLines: []string{"Cloud"}, EstimatedValue: domain.Money{Amount: decimal.RequireFromString("150000"), Currency: "USD"}, ExpectedCloseDate: now.Add(60 * domain.Day)},
		Relationship: domain.Relationship{HowFound: domain.SourceReferral, FirstContactDate: now.Add(-5 * domain.Day)},
	}
	id, _, err := s.app.Create(ctx, call, domain.TypeOpportunity, d, true)
	require.NoError(tb, err)
	if approve {
		cm := app.Call{Caller: app.Caller{Actor: domain.Actor{ID: "token:cm", Role: domain.RoleChannelManager}, Name: "cm"}}
		_, err := s.app.Approve(ctx, cm, id)
		require.NoError(tb, err)
	}
	return id
}

// client is a browser without JavaScript: cookies, forms, redirects.
type client struct {
	tb   testing.TB
	base string
	http *http.Client
	lang string
}

func (s *site) client(tb testing.TB) *client {
	jar, _ := cookiejar.New(nil)
	return &client{tb: tb, base: s.url, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

type page struct {
	Status int
	URL    string
	Body   string
	Header http.Header
}

func (c *client) do(req *http.Request) page {
	c.tb.Helper()
	if c.lang != "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	res, err := c.http.Do(req)
	require.NoError(c.tb, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(c.tb, err)
	return page{Status: res.StatusCode, URL: res.Request.URL.Path, Body: string(b), Header: res.Header}
}

func (c *client) get(path string) page {
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	require.NoError(c.tb, err)
	return c.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of the page at path.
func (c *client) csrf(path string) string {
	c.tb.Helper()
	m := csrfRE.FindStringSubmatch(c.get(path).Body)
	require.NotNil(c.tb, m, "no CSRF token on %s", path)
	return m[1]
}

// post sends a form, with the CSRF token of the page at from unless the
// form sets one.
func (c *client) post(from, path string, form url.Values) page {
	c.tb.Helper()
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", c.csrf(from))
	}
	req, err := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	require.NoError(c.tb, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

func (c *client) signIn(email string) page {
	c.tb.Helper()
	return c.post("/login", "/login", url.Values{"email": {email}, "password": {testPassword}})
}

// head returns the ledger's head, to check that a refused request appended
// nothing.
func (s *site) head() uint64 { return s.store.Head() }
