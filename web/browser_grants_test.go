package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// Certifications and territory grants in the browser, from the console's
// partner page: a field error beside its field with the input kept, then
// recorded and revoked.
func TestBrowser_PartnerProgram(t *testing.T) {
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			s := newTestSite(t)
			dir := s.tab(t, vp, "director")
			dir.signIn(s.user(t, domain.RoleChannelDirector, "", "en"))
			dir.do(chromedp.Navigate(dir.base+"/console/partners/acme"), chromedp.WaitVisible(chromedp.CSS("#cred-form")))
			dir.screenshot("partner")

			dir.do(chromedp.SendKeys(chromedp.CSS("#cred-name"), "Cloud Architect"),
				chromedp.SetValue(chromedp.CSS("#cred-issued"), "2026-01-15"),
				chromedp.SetValue(chromedp.CSS("#cred-expires"), "2025-01-15"),
				chromedp.Click(chromedp.CSS(`#cred-form button`)), chromedp.WaitVisible(chromedp.CSS("#cred-expires-error")))
			require.Equal(t, "Cloud Architect", must(chromedp.Run(dir.ctx, chromedp.Value(chromedp.CSS("#cred-name")))))
			dir.screenshot("credential-error")
			dir.do(chromedp.SetValue(chromedp.CSS("#cred-expires"), "2028-01-15"),
				chromedp.Click(chromedp.CSS(`#cred-form button`)), chromedp.WaitVisible(chromedp.CSS(".flash")))
			require.Contains(t, dir.text(".flash"), "Certification recorded.")
			require.Contains(t, dir.text("#credentials"), "Cloud Architect")
			dir.do(chromedp.Click(chromedp.CSS(`.cred-revoke button`)), chromedp.WaitNotPresent(chromedp.CSS(".cred-revoke")))
			require.Contains(t, dir.text(".flash"), "Certification revoked")
			require.Contains(t, dir.text("#credentials"), "not in force")
			dir.screenshot("credential-revoked")

			dir.do(chromedp.SendKeys(chromedp.CSS("#grant-country"), "M3"),
				chromedp.SendKeys(chromedp.CSS("#grant-region"), "Noreste"),
				chromedp.SetValue(chromedp.CSS("#grant-from"), "2026-03-01"),
				chromedp.SetValue(chromedp.CSS("#grant-to"), "2027-03-01"),
				chromedp.Click(chromedp.CSS(`#grant-form button`)), chromedp.WaitVisible(chromedp.CSS("#grant-country-error")))
			require.Equal(t, "Noreste", must(chromedp.Run(dir.ctx, chromedp.Value(chromedp.CSS("#grant-region")))))
			dir.screenshot("grant-error")
			dir.do(retype("#grant-country", "MX")...)
			dir.do(chromedp.Click(chromedp.CSS(`#grant-form button`)), chromedp.WaitVisible(chromedp.CSS(".grant-revoke")))
			require.Contains(t, dir.text(".flash"), "Territory granted.")
			require.Contains(t, dir.text("#grants"), "MX · Noreste")
			dir.screenshot("granted")
			dir.do(chromedp.SendKeys(chromedp.CSS(".grant-revoke input[name=reason]"), "contract ended early"),
				chromedp.Click(chromedp.CSS(".grant-revoke button")), chromedp.WaitNotPresent(chromedp.CSS(".grant-revoke")))
			require.Contains(t, dir.text("#grants"), "contract ended early")
			dir.screenshot("grant-revoked")
		})
	}
}
