package main

import (
	"fmt"
	"io"

	"github.com/dealreg/dealreg/domain"
)

// program plays the demo's partner-program story (docs/partners.md):
// certification and training records, and a partner caught registering a
// relationship it invented: the registration is revoked, the account freed
// and the partner suspended for the policy's 180 days.
func (d *demoRun) program() {
	if d.err != nil {
		return
	}
	s := d.svc
	now := d.clock.Now()
	for _, c := range []struct {
		partner string
		cred    domain.Credential
	}{
		{"acme", domain.Credential{Kind: domain.CredentialCertification, Name: "hr-suite-sales", Issued: now.Add(-300 * domain.Day), Expires: now.Add(400 * domain.Day)}},
		{"acme", domain.Credential{Kind: domain.CredentialTraining, Name: "deal-registration-101", Issued: now.Add(-120 * domain.Day)}},
		{"initech", domain.Credential{Kind: domain.CredentialCertification, Name: "hr-suite-sales", Issued: now.Add(-90 * domain.Day), Expires: now.Add(275 * domain.Day)}},
	} {
		if _, err := s.RecordCredential(d.ctx, demoManager, c.partner, c.cred); err != nil {
			d.err = err
			return
		}
	}
	if _, err := s.AddPartner(d.ctx, demoAdmin, domain.Partner{ID: "stark", Name: "Stark Resellers", Tier: domain.TierSilver, Regions: []string{"Norte"}}); err != nil {
		d.err = err
		return
	}
	stark := partnerCall("stark", "tony")
	claimed := d.register(stark, domain.TypeOpportunity, d.deal("Vidriera Monterrey", "vidrieramty.example", "MX", "Norte", "Manufacturing", "Inventory", "130000"), true)
	d.check(s.Approve(d.ctx, demoManager, claimed))
	d.days(3)
	d.check(s.RecordViolation(d.ctx, demoManager, claimed, domain.ViolationReport{
		Kind:       domain.ViolationFalseInformation,
		Statement:  "The buyer named in the registration confirmed she never met the partner; the discovery call never happened.",
		References: []string{"CRM case 88412", "E-mail from the customer's CFO, forwarded by the account team"},
	}))
}

// programSummary prints the partners not in good standing at the end.
func (d *demoRun) programSummary(w io.Writer) {
	for _, p := range d.svc.Directory.Partners() {
		status, until := d.svc.PartnerStatus(p)
		switch status {
		case domain.PartnerStatusSuspended:
			fmt.Fprintf(w, "  partner %s suspended until %s (%d violation)\n", p.ID, until.Format("2006-01-02"), len(p.Standing.Violations))
		case domain.PartnerStatusTerminated:
			fmt.Fprintf(w, "  partner %s terminated\n", p.ID)
		}
	}
}
