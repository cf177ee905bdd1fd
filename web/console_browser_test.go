package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// A conflict decided from the desk, in the browser: the queue, the case
// with both claims and the recommendation, an award.
func TestBrowser_ConflictDecided(t *testing.T) {
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			s := newTestSite(t)
			cid, _, _ := s.conflictCase(t)
			cm := s.tab(t, vp, "manager")
			cm.signIn(s.user(t, domain.RoleChannelManager, "", "en"))
			cm.do(chromedp.Navigate(cm.base+"/console/conflicts"), chromedp.WaitVisible(chromedp.CSS("#conflict-queue")))
			require.Contains(t, cm.text("#conflict-queue"), "Empresa XYZ")
			cm.screenshot("conflict-queue")
			cm.do(chromedp.Click(chromedp.CSS(`a[href="/console/conflicts/`+cid.String()+`"]`)), chromedp.WaitVisible(chromedp.CSS("#decide-form")))
			require.Contains(t, cm.text("#recommendation"), "Globex Partners")
			cm.screenshot("case")
			cm.do(chromedp.SendKeys(chromedp.CSS("#rationale"), "Globex registered first, with proof of the first meeting."),
				chromedp.Click(chromedp.CSS(`#decide-form button[value="decide"]`)), chromedp.WaitVisible(chromedp.CSS("#decision")))
			require.Contains(t, cm.text(".flash"), "Conflict decided.")
			require.Contains(t, cm.text("#decision"), "Award")
			require.Contains(t, cm.text("#decision"), "Globex Partners")
			cm.screenshot("decided")
		})
	}
}

// A customer attestation answered: the reviewer makes the link, the
// prospect's contact answers on the public page, the case shows it.
func TestBrowser_AttestationAnswered(t *testing.T) {
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			s := newTestSite(t)
			cid, _, _ := s.conflictCase(t)
			cm := s.tab(t, vp, "manager")
			cm.signIn(s.user(t, domain.RoleChannelManager, "", "en"))
			cm.do(chromedp.Navigate(cm.base+"/console/conflicts/"+cid.String()), chromedp.WaitVisible(chromedp.CSS("#attest-form")),
				chromedp.SendKeys(chromedp.CSS("#contact-name"), "Ana Pérez"),
				chromedp.SendKeys(chromedp.CSS("#contact-email"), "ana@xyz.example"),
				chromedp.Click(chromedp.CSS(`#attest-form button`)), chromedp.WaitVisible(chromedp.CSS("#attest-link")))
			cm.screenshot("link-made")
			link := must(chromedp.Run(cm.ctx, chromedp.Value(chromedp.CSS("#attest-link input"))))

			customer := s.tab(t, vp, "customer")
			customer.do(chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#attest-answer")))
			require.NotContains(t, customer.text("main"), "Empresa XYZ")
			customer.screenshot("question")
			customer.do(chromedp.Click(chromedp.CSS(`label[for="party-1"]`)),
				chromedp.SendKeys(chromedp.CSS("#solution"), "cloud migration"),
				chromedp.Click(chromedp.CSS("#attest-answer button")), chromedp.WaitVisible(chromedp.CSS(".error-text")))
			require.Contains(t, customer.text("main"), "your answer was recorded")
			customer.screenshot("answered")

			cm.do(chromedp.Navigate(cm.base+"/console/conflicts/"+cid.String()), chromedp.WaitVisible(chromedp.CSS("#attestations")))
			require.Contains(t, cm.text("#attestations"), "Works with Acme Integradores for: cloud migration")
			require.Contains(t, cm.text("#recommendation"), "customer-attestation")
			cm.screenshot("case-attested")
		})
	}
}

// The analytics page renders its charts.
func TestBrowser_AnalyticsCharts(t *testing.T) {
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			s := newTestSite(t)
			s.registration(t, "globex", "Empresa XYZ", "xyz.example", true)
			s.registration(t, "acme", "Cadena Norte", "norte.example", false)
			cm := s.tab(t, vp, "manager")
			cm.signIn(s.user(t, domain.RoleChannelManager, "", "es"))
			cm.do(chromedp.Navigate(cm.base+"/console/analytics"), chromedp.WaitVisible(chromedp.CSS("#chart-approval")))
			n, err := chromedp.Run(cm.ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.chart").length`))
			require.NoError(t, err)
			require.Equal(t, 6, n)
			w, err := chromedp.Run(cm.ctx, chromedp.Evaluate[int](`Math.round(document.querySelector("#chart-approval").getBoundingClientRect().width)`))
			require.NoError(t, err)
			require.Greater(t, w, 200)
			cm.screenshot("analytics")
		})
	}
}

// The console's other pages at both viewports: partners, a partner, the
// policy editor with its field errors, a policy's diff, the auditor's
// time travel — each fits the screen and passes axe-core.
func TestBrowser_ConsolePages(t *testing.T) {
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			s := newTestSite(t)
			id := s.registration(t, "globex", "Empresa XYZ", "xyz.example", true)
			admin := s.tab(t, vp, "admin")
			admin.signIn(s.user(t, domain.RoleAdmin, "", "en"))
			for _, p := range []struct{ path, sel string }{
				{"/console/partners", "#enrol-form"},
				{"/console/partners/acme", "#standing-form"},
				{"/console/policies", "#policies"},
				{"/console/audit?registration=" + id.String(), "#reg-asof"},
			} {
				admin.do(chromedp.Navigate(admin.base+p.path), chromedp.WaitVisible(chromedp.CSS(p.sel)))
				admin.screenshot(strings.Trim(strings.NewReplacer("/", "-", "?", "-", "=", "-").Replace(p.path[:min(len(p.path), 24)]), "-"))
			}
			admin.do(chromedp.Navigate(admin.base+"/console/policies/new"), chromedp.WaitVisible(chromedp.CSS("#document")),
				chromedp.SetValue(chromedp.CSS("#document"), "summary: typo\nnonsense: 1\n"),
				chromedp.Click(chromedp.CSS("#fmt-yaml")),
				chromedp.Click(chromedp.CSS("#draft-form button")), chromedp.WaitVisible(chromedp.CSS("#doc-errors")))
			require.Contains(t, admin.text("#doc-errors"), "nonsense")
			admin.screenshot("policy-errors")
		})
	}
}

// The customer attestation link e-mailed by the outbox, in the browser:
// the reviewer asks for it in the contact's language and never sees it;
// the contact opens it from the mail and answers; the case shows the
// answer and that the mail went out.
func TestBrowser_AttestationMailed(t *testing.T) {
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			s, box := newMailSite(t)
			cid, _, _ := s.conflictCase(t)
			cm := s.tab(t, vp, "manager")
			cm.signIn(s.user(t, domain.RoleChannelManager, "", "en"))
			cm.do(chromedp.Navigate(cm.base+"/console/conflicts/"+cid.String()), chromedp.WaitVisible(chromedp.CSS("#attest-form")),
				chromedp.SendKeys(chromedp.CSS("#contact-name"), "Ana Pérez"),
				chromedp.SendKeys(chromedp.CSS("#contact-email"), "ana@xyz.example"),
				chromedp.SetValue(chromedp.CSS("#contact-language"), "es"))
			cm.screenshot("attest-form")
			cm.do(chromedp.Click(chromedp.CSS(`#attest-form button`)), chromedp.WaitVisible(chromedp.CSS(".flash")))
			require.Contains(t, cm.text(".flash"), "The link is being e-mailed to ana@xyz.example")
			require.NotContains(t, cm.text("main"), "/attest/")
			cm.screenshot("attest-mailed")

			msg := box.wait(t, "ana@xyz.example", 1)[0]
			require.Equal(t, "es", msg.Language)
			m := mailedAttestRE.FindStringSubmatch(msg.Body)
			require.NotNil(t, m, msg.Body)
			customer := s.tab(t, vp, "customer")
			customer.do(chromedp.Navigate(customer.local("https://portal.test"+m[1])), chromedp.WaitVisible(chromedp.CSS("#attest-answer")))
			customer.screenshot("question")
			customer.do(chromedp.Click(chromedp.CSS(`label[for="party-1"]`)),
				chromedp.SendKeys(chromedp.CSS("#solution"), "cloud migration"),
				chromedp.Click(chromedp.CSS("#attest-answer button")), chromedp.WaitNotPresent(chromedp.CSS("#attest-answer")))
			customer.screenshot("answered")

			cm.do(chromedp.Navigate(cm.base+"/console/conflicts/"+cid.String()), chromedp.WaitVisible(chromedp.CSS("#attestations")))
			require.Contains(t, cm.text("#attestations"), "for: cloud migration")
			require.Contains(t, cm.text("#attestations"), "e-mailed")
			cm.screenshot("case-attested")
		})
	}
}
