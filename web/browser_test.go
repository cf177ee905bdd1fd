package web_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// The browser tests drive Debian's Chromium through the real server. One
// browser serves the whole package (started on first use); each test user
// gets a browser context of its own, so cookies never mix.
//
// They run wherever chromium is installed (.ci/run installs it). Without
// it they fail, so that CI cannot pass them silently; DEALREG_SKIP_BROWSER=1
// lets a machine without a browser skip them, with a message.

var (
	browserOnce   sync.Once
	browserCtx    context.Context
	browserCancel context.CancelFunc
	browserErr    error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if browserCancel != nil {
		browserCancel()
	}
	os.Exit(code)
}

func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser returns the package's browser, starting it if needed.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("DEALREG_SKIP_BROWSER") == "1" {
			t.Skip("no chromium binary found and DEALREG_SKIP_BROWSER=1: browser tests skipped")
		}
		t.Fatal("no chromium binary found (apt-get install chromium); set DEALREG_SKIP_BROWSER=1 to skip the browser tests on this machine")
	}
	browserOnce.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
			chromedp.Flag("disable-dev-shm-usage", true))
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel := chromedp.NewContext(alloc)
		browserErr = chromedp.Do(ctx) // starts the browser
		browserCtx, browserCancel = ctx, func() { cancel(); cancelAlloc() }
	})
	require.NoError(t, browserErr, "start chromium")
	return browserCtx
}

// viewport is a screen the pages are tried on.
type viewport struct {
	name          string
	width, height int64
	mobile        bool
}

var viewports = []viewport{{"phone", 375, 812, true}, {"desktop", 1280, 900, false}}

// tab is one user's browser: its own context (cookies), at a viewport,
// writing screenshots into dir.
type tab struct {
	t    *testing.T
	ctx  context.Context
	vp   viewport
	dir  string
	base string
	shot int
}

func (s *site) tab(t *testing.T, vp viewport, who string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser(t), chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelTimeout)
	opts := []chromedp.EmulateViewportOption{}
	if vp.mobile {
		opts = append(opts, chromedp.EmulateMobile)
	}
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(vp.width, vp.height, opts...)))
	// Screenshots go under the test's temp dir, or where
	// DEALREG_SCREENSHOTS says, to look at them after the run.
	dir := t.TempDir()
	if d := os.Getenv("DEALREG_SCREENSHOTS"); d != "" {
		dir = filepath.Join(d, strings.ReplaceAll(t.Name(), "/", "_"))
	}
	return &tab{t: t, ctx: ctx, vp: vp, dir: filepath.Join(dir, who), base: s.url}
}

// do runs steps, each batch within 15 s; on failure the test reports the
// page's text, which usually says why.
func (b *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		defer cancel()
		where, _ := chromedp.Run(ctx, chromedp.Location())
		text, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		b.t.Fatalf("%v at %s; the page says:\n%s", err, where, text)
	}
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(b.t, err, "text of %s", sel)
	return s
}

func (b *tab) location() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Location())
	require.NoError(b.t, err)
	return strings.TrimPrefix(s, b.base)
}

// screenshot saves the whole page, and checks that nothing is wider than
// the screen (no sideways scrolling on a phone).
func (b *tab) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	require.NoError(b.t, err)
	require.NoError(b.t, os.MkdirAll(b.dir, 0o755))
	b.shot++
	path := filepath.Join(b.dir, fmt.Sprintf("%02d-%s-%s.png", b.shot, b.vp.name, name))
	require.NoError(b.t, os.WriteFile(path, png, 0o644))
	fits, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
	require.NoError(b.t, err)
	require.True(b.t, fits, "%s: the page is wider than the %d px screen (%s)", name, b.vp.width, path)
	b.axe(name)
}

// axeViolation is what the check reports of one failed rule.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

var (
	axeOnce   sync.Once
	axeSource string
)

// axe runs axe-core (web/testdata/axe) on the page and fails on any
// serious or critical violation.
func (b *tab) axe(name string) {
	b.t.Helper()
	axeOnce.Do(func() {
		src, err := os.ReadFile("testdata/axe/axe.min.js")
		if err == nil {
			axeSource = string(src)
		}
	})
	require.NotEmpty(b.t, axeSource, "testdata/axe/axe.min.js is missing")
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe !== "undefined"`))
	require.NoError(b.t, err)
	if !loaded {
		_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](axeSource+";true"))
		require.NoError(b.t, err, "inject axe-core")
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](`axe.run(document, {resultTypes: ["violations"]}).then(r =>
		r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({
			id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" "))})))`, chromedp.EvalAwaitPromise))
	require.NoError(b.t, err, "axe.run")
	require.Empty(b.t, got, "%s at %s: accessibility violations", name, b.vp.name)
}

func TestAxeIsTheVendoredRelease(t *testing.T) {
	src, err := os.ReadFile("testdata/axe/axe.min.js")
	require.NoError(t, err)
	require.Equal(t, "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c", fmt.Sprintf("%x", sha256.Sum256(src)))
}

func (b *tab) signIn(email string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base+"/login"),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword))
	b.screenshot("sign-in")
	b.do(chromedp.Click(chromedp.CSS("form.card button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"]`)))
}

// retype replaces an input's text by typing, so the page's script sees
// input events as from a person.
func retype(sel, text string) []chromedp.Action[chromedp.Void] {
	clear := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](fmt.Sprintf(`(document.querySelector(%q).value = "") === ""`, sel))(ctx, t)
		return err
	})
	return []chromedp.Action[chromedp.Void]{clear, chromedp.SendKeys(chromedp.CSS(sel), text)}
}

// The partner's main path and the reviewer's decision, end to end: sign
// in, start a registration, see the duplicate hint, save a draft, come
// back, upload proof, submit; a channel manager signs in, is held to the
// checklist, approves; the partner sees the protection.
func TestBrowser_RegisterReviewApprove(t *testing.T) {
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			s := newTestSite(t)
			s.registration(t, "globex", "Empresa XYZ", "xyz.example", true)
			partner := s.tab(t, vp, "partner")
			partner.signIn(s.user(t, domain.RolePartner, "acme", "en"))
			require.Equal(t, "/portal", partner.location())
			partner.screenshot("dashboard-empty")

			partner.do(chromedp.Click(chromedp.CSS(`main a[href="/portal/registrations/new"]`)), chromedp.WaitVisible(chromedp.CSS("#f-account-company-name")))
			partner.do(chromedp.SendKeys(chromedp.CSS("#f-account-company-name"), "Empresa XYZ"),
				chromedp.SendKeys(chromedp.CSS("#f-account-domain"), "xyz.example"),
				chromedp.SendKeys(chromedp.CSS("#f-account-country"), "MX"),
				chromedp.WaitVisible(chromedp.CSS(`#dup-hint[data-hint="registered"]`)))
			require.Contains(t, partner.text("#dup-hint"), "Already registered")
			require.NotContains(t, partner.text("main"), "Globex")
			partner.screenshot("hint-registered")
			partner.do(retype("#f-account-company-name", "Nueva Cadena SA")...)
			partner.do(retype("#f-account-domain", "nuevacadena.example")...)
			partner.do(chromedp.WaitVisible(chromedp.CSS(`#dup-hint[data-hint="looks_free"]`)))
			partner.screenshot("hint-free")
			partner.do(chromedp.Click(chromedp.CSS(`button[value="draft"]`)), chromedp.WaitVisible(chromedp.CSS(".flash")))
			require.Contains(t, partner.text(".flash"), "Draft saved.")
			regPath := partner.location()
			regPath = regPath[:strings.IndexByte(regPath, '?')]
			require.True(t, strings.HasPrefix(regPath, "/portal/registrations/"), regPath)

			// Come back later, from the dashboard.
			partner.do(chromedp.Navigate(partner.base+"/portal"), chromedp.WaitVisible(chromedp.CSS("table.table")))
			require.Contains(t, partner.text("table.table"), "Nueva Cadena SA")
			require.Contains(t, partner.text("table.table"), "Draft")
			partner.screenshot("dashboard-draft")
			partner.do(chromedp.Click(chromedp.CSS(`table.table a`)), chromedp.WaitVisible(chromedp.CSS("#status")))
			require.Contains(t, partner.text(".hint"), "Looks free")

			proof := filepath.Join(t.TempDir(), "intro-email.txt")
			require.NoError(t, os.WriteFile(proof, []byte("From: ana@nuevacadena.example\nSubject: Introduction\n\nHappy to talk next week.\n"), 0o644))
			partner.do(chromedp.SetUploadFiles(chromedp.CSS("#document"), []string{proof}),
				chromedp.Click(chromedp.CSS("form.upload button")), chromedp.WaitVisible(chromedp.CSS(".flash")))
			require.Contains(t, partner.text(".flash"), "Document added.")
			require.Contains(t, partner.text("#proofs + ul"), "intro-email.txt")
			partner.screenshot("proof-added")

			now := s.clock.Now()
			partner.do(chromedp.Click(chromedp.CSS(`a[href$="/edit"]`)), chromedp.WaitVisible(chromedp.CSS("#f-opportunity-product-lines")))
			require.Equal(t, "Nueva Cadena SA", must(chromedp.Run(partner.ctx, chromedp.Value(chromedp.CSS("#f-account-company-name")))))
			partner.do(chromedp.SendKeys(chromedp.CSS("#f-opportunity-product-lines"), "Cloud, Security"),
				chromedp.SendKeys(chromedp.CSS("#f-opportunity-estimated-value"), "150000"),
				chromedp.SetValue(chromedp.CSS("#f-opportunity-expected-close-date"), now.Add(60*domain.Day).Format(time.DateOnly)),
				chromedp.SetValue(chromedp.CSS("#f-relationship-how-found"), "referral"),
				chromedp.SetValue(chromedp.CSS("#f-relationship-first-contact-date"), now.Add(-3*domain.Day).Format(time.DateOnly)))
			partner.screenshot("form-complete")
			partner.do(chromedp.Click(chromedp.CSS(`button[value="submit"]`)), chromedp.WaitVisible(chromedp.CSS(".flash")))
			require.Contains(t, partner.text(".flash"), "Registration submitted.")
			require.Contains(t, partner.text("#status"), "Cleared")
			partner.screenshot("submitted")

			cm := s.tab(t, vp, "manager")
			cm.signIn(s.user(t, domain.RoleChannelManager, "", "en"))
			require.Equal(t, "/console", cm.location())
			require.Contains(t, cm.text("table.table"), "Nueva Cadena SA")
			cm.screenshot("queue")
			id := strings.TrimPrefix(regPath, "/portal/registrations/")
			cm.do(chromedp.Click(chromedp.CSS(`a[href="/console/registrations/`+id+`"]`)), chromedp.WaitVisible(chromedp.CSS("form.decide")))
			require.Contains(t, cm.text("main"), "intro-email.txt")
			// Approving without the checklist is refused, item by item.
			cm.do(chromedp.Click(chromedp.CSS(`button[value="approve"]`)), chromedp.WaitVisible(chromedp.CSS(".check .field-error")))
			n, err := chromedp.Run(cm.ctx, chromedp.Evaluate[int](`document.querySelectorAll(".check .field-error").length`))
			require.NoError(t, err)
			require.Equal(t, 5, n)
			cm.screenshot("checklist-required")
			for _, c := range []string{"relationship", "quality", "territory", "fit", "direct"} {
				cm.do(chromedp.Click(chromedp.CSS("#check-" + c)))
			}
			cm.do(chromedp.Click(chromedp.CSS(`button[value="approve"]`)), chromedp.WaitVisible(chromedp.CSS(".flash")))
			require.Contains(t, cm.text(".flash"), "Approved")
			require.Contains(t, cm.text("#status"), "Protected")
			cm.screenshot("approved")

			// The ledger records the checklist with the approval.
			recs, err := s.store.ReadStream(t.Context(), "registration-"+id, domain.ReadStreamOptions{})
			require.NoError(t, err)
			events, err := domain.DecodeRecorded(recs)
			require.NoError(t, err)
			var approved *domain.RegistrationApproved
			for _, e := range events {
				if a, ok := e.(domain.RegistrationApproved); ok {
					approved = &a
				}
			}
			require.NotNil(t, approved)
			require.Equal(t, domain.ApprovalCriteria, approved.Checklist)

			partner.do(chromedp.Navigate(partner.base+regPath), chromedp.WaitVisible(chromedp.CSS("#protection")))
			require.Contains(t, partner.text("#status"), "Protected")
			require.Contains(t, partner.text("#protection"), "Protected from")
			require.Contains(t, partner.text("#benefits"), "Discount granted")
			partner.screenshot("protected")
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// The form in Spanish and in English: the user's own language setting,
// and the browser's Accept-Language before signing in.
func TestBrowser_Languages(t *testing.T) {
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			s := newTestSite(t)
			for _, c := range []struct{ lang, label, submit string }{
				{"es", "Nombre de la empresa", "Enviar"},
				{"en", "Company name", "Submit"},
			} {
				b := s.tab(t, vp, c.lang)
				b.signIn(s.user(t, domain.RolePartner, "acme", c.lang))
				b.do(chromedp.Navigate(b.base+"/portal/registrations/new"), chromedp.WaitVisible(chromedp.CSS("#f-account-company-name")))
				require.Contains(t, b.text(`label[for="f-account-company-name"]`), c.label)
				require.Equal(t, c.submit, b.text(`button[value="submit"]`))
				lang, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
				require.NoError(t, err)
				require.Equal(t, c.lang, lang)
				// Every required field's error shows at once, in the language.
				b.do(chromedp.Click(chromedp.CSS(`button[value="submit"]`)), chromedp.WaitVisible(chromedp.CSS(".error-summary")))
				n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll(".field-error").length`))
				require.NoError(t, err)
				require.GreaterOrEqual(t, n, 6)
				b.screenshot("form-errors-" + c.lang)
			}
		})
	}
}

// A partner user who opens another partner's registration sees what a
// registration that does not exist shows.
func TestBrowser_OtherPartnerRefused(t *testing.T) {
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			s := newTestSite(t)
			theirs := s.registration(t, "globex", "Empresa XYZ", "xyz.example", false)
			b := s.tab(t, vp, "acme")
			b.signIn(s.user(t, domain.RolePartner, "acme", "en"))
			b.do(chromedp.Navigate(b.base+"/portal/registrations/"+theirs.String()), chromedp.WaitVisible(chromedp.CSS("main")))
			got := b.text("main")
			require.Contains(t, got, "This page does not exist.")
			require.NotContains(t, got, "Empresa XYZ")
			b.screenshot("not-yours")
			b.do(chromedp.Navigate(b.base+"/portal/registrations/00000000-0000-4000-8000-000000000000"), chromedp.WaitVisible(chromedp.CSS("main")))
			require.Equal(t, b.text("main"), got)
		})
	}
}
