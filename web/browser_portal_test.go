package web_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/proof"
)

// The partner's pages beyond the form, in Chromium at a phone and a
// desktop viewport: an extension request (refused without a reason,
// then recorded), the receipts downloaded and verified, an MDF request
// (its errors beside the fields with the input kept, then recorded), and
// a policy version acknowledged. Every screenshot is checked for
// sideways scrolling and with axe-core.
func TestBrowser_PortalExtensionReceiptsMDFPolicy(t *testing.T) {
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			s := newTestSite(t)
			id := s.registration(t, "acme", "Empresa Uno", "uno.example", true)
			s.clock.Advance(time.Hour)
			s.publishPolicy(t, "Clearer proof rules")
			reg := "/portal/registrations/" + id.String()
			b := s.tab(t, vp, "partner")
			b.signIn(s.user(t, domain.RolePartner, "acme", "en"))

			// Extension request: refused without a reason, then recorded.
			b.do(chromedp.Navigate(b.base+reg), chromedp.WaitVisible(chromedp.CSS("#extension-reason")))
			b.screenshot("registration-protected")
			b.do(chromedp.Click(chromedp.CSS("form.extension button")), chromedp.WaitVisible(chromedp.CSS("#extension-reason-error")))
			b.screenshot("extension-error")
			b.do(chromedp.SendKeys(chromedp.CSS("#extension-reason"), "The customer's board meets in July."),
				chromedp.Click(chromedp.CSS("form.extension button")), chromedp.WaitVisible(chromedp.CSS("#extension-pending")))
			require.Contains(t, b.text(".flash"), "Extension requested.")
			require.Contains(t, b.text("#status"), "Extension requested")
			b.screenshot("extension-requested")

			// Receipts: the links download documents that verify offline.
			v, err := proof.NewVerifier(s.vkey)
			require.NoError(t, err)
			for _, link := range []string{"#receipt-link", "#receipts-link"} {
				body, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`fetch(document.querySelector("`+link+`").href, {credentials: "same-origin"}).then(r => r.text())`, chromedp.EvalAwaitPromise))
				require.NoError(t, err)
				rep, err := proof.Verify([]byte(body), v, nil)
				require.NoError(t, err, link)
				var types []string
				for _, e := range rep.Events {
					types = append(types, e.Leaf.Type)
				}
				require.Contains(t, types, "RegistrationSubmitted", link)
			}
			b.do(chromedp.ScrollIntoView(chromedp.CSS("#receipts")))
			b.screenshot("receipts")

			// MDF: errors beside the fields, the input kept; then recorded.
			day := s.clock.Now().Format(time.DateOnly)
			b.do(chromedp.SetValue(chromedp.CSS("#mdf-activity"), "custom_demo"),
				chromedp.SendKeys(chromedp.CSS("#mdf-description"), "Demo for the CFO"),
				chromedp.SendKeys(chromedp.CSS("#mdf-amount"), "lots"),
				chromedp.Click(chromedp.CSS("form.mdf-request button")), chromedp.WaitVisible(chromedp.CSS("#mdf-amount-error")))
			require.Equal(t, "lots", must(chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS("#mdf-amount")))))
			require.Equal(t, "Demo for the CFO", must(chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS("#mdf-description")))))
			b.screenshot("mdf-errors")
			b.do(retype("#mdf-amount", "1200")...)
			b.do(chromedp.SetValue(chromedp.CSS("#mdf-start"), day), chromedp.SetValue(chromedp.CSS("#mdf-end"), day),
				chromedp.Click(chromedp.CSS("form.mdf-request button")), chromedp.WaitVisible(chromedp.CSS("#mdf-request-1")))
			require.Contains(t, b.text(".flash"), "Funds requested.")
			require.Contains(t, b.text("#mdf-request-1"), "Requested")
			require.Contains(t, b.text("#mdf-remaining"), "1800.00 USD")
			b.screenshot("mdf-requested")

			// Policies: the version in force, acknowledged.
			b.do(chromedp.Click(chromedp.CSS(`nav a[href="/portal/policies"]`)), chromedp.WaitVisible(chromedp.CSS("#ack-button-2")))
			require.Contains(t, b.text("#in-force"), "version 2")
			b.screenshot("policies")
			b.do(chromedp.Click(chromedp.CSS("#ack-button-2")), chromedp.WaitVisible(chromedp.CSS("#ack-2")))
			require.Contains(t, b.text("#ack-2"), "Acknowledged by Test partner")
			b.screenshot("policy-acknowledged")
			recs, err := s.store.ReadStream(t.Context(), domain.PolicyAckStream("acme"), domain.ReadStreamOptions{})
			require.NoError(t, err)
			require.Len(t, recs, 1)
			var ack domain.PolicyAcknowledged
			require.NoError(t, json.Unmarshal(recs[0].Data, &ack))
			require.Equal(t, 2, ack.Version)

			// The inbox and the reports render too.
			b.do(chromedp.Click(chromedp.CSS(`nav a[href="/portal/notifications"]`)), chromedp.WaitVisible(chromedp.CSS("ol.inbox")))
			require.Contains(t, b.text("ol.inbox"), "Registration approved")
			b.screenshot("inbox")
			b.do(chromedp.Click(chromedp.CSS(`nav a[href="/portal/reports"]`)), chromedp.WaitVisible(chromedp.CSS("#report-csv")))
			csvText, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`fetch(document.querySelector("#report-csv").href).then(r => r.text())`, chromedp.EvalAwaitPromise))
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(csvText, "id,partner_id,"), csvText)
			require.Contains(t, csvText, "Empresa Uno")
			b.screenshot("reports")
		})
	}
}

// Another partner's user opening the registration's receipts or MDF
// receipt sees the page of a registration that does not exist.
func TestBrowser_PortalOtherPartnerRefused(t *testing.T) {
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			s := newTestSite(t)
			theirs := s.registration(t, "globex", "Empresa XYZ", "xyz.example", true)
			b := s.tab(t, vp, "acme")
			b.signIn(s.user(t, domain.RolePartner, "acme", "en"))
			b.do(chromedp.Navigate(b.base+"/portal/registrations/00000000-0000-4000-8000-000000000000/receipts"), chromedp.WaitVisible(chromedp.CSS("main")))
			missing := b.text("main")
			b.do(chromedp.Navigate(b.base+"/portal/registrations/"+theirs.String()+"/receipts"), chromedp.WaitVisible(chromedp.CSS("main")))
			require.Equal(t, missing, b.text("main"))
			require.Contains(t, missing, "This page does not exist.")
			b.screenshot("receipts-not-yours")
		})
	}
}
