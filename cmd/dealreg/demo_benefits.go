package main

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore/attachments"
	"github.com/dealreg/dealreg/projections"
)

var demoMarketing = app.Call{Caller: app.Caller{Actor: domain.Actor{ID: "demo:elena", Role: domain.RoleChannelMarketing}, Name: "Elena (channel marketing)"}}

func usd(s string) domain.Money {
	return domain.Money{Amount: decimal.RequireFromString(s), Currency: "USD"}
}

// mdf plays the MDF process on approved registration id of partner, one
// request in each state: reimbursed for less than claimed, claim rejected,
// claimed, rejected, approved, requested. The receipts are stored in the
// attachment store of dataDir.
func (d *demoRun) mdf(partner app.Call, id uuid.UUID, dataDir string) {
	if d.err != nil {
		return
	}
	docs, err := attachments.Open(filepath.Join(dataDir, attachmentsDir), attachments.Options{})
	if err != nil {
		d.err = err
		return
	}
	s := d.svc
	day := domain.Date(d.clock.Now().Format(time.DateOnly))
	request := func(activity domain.MDFActivity, amount, what string) int {
		if d.err != nil {
			return 0
		}
		n, err := s.RequestMDF(d.ctx, partner, id, domain.MDFRequestInput{Activity: activity, Description: what, Amount: usd(amount), StartDate: day, EndDate: day})
		d.check(app.Result{}, err)
		return n
	}
	receipt := func(n int, text string) string {
		if d.err != nil {
			return ""
		}
		blob, err := docs.Put(d.ctx, bytes.NewReader([]byte(text)), "text/plain")
		if err != nil {
			d.err = err
			return ""
		}
		d.check(s.AddMDFReceipt(d.ctx, partner, id, n, domain.Attachment{SHA256: blob.SHA256, Size: blob.Size, ContentType: blob.ContentType, Filename: fmt.Sprintf("receipt-%d.txt", n)}, nil))
		return blob.SHA256
	}
	event := request(domain.MDFJointCustomerEvent, "2500", "Breakfast seminar with the customer's finance team")
	d.check(s.ApproveMDF(d.ctx, demoMarketing, id, event, usd("2000"), "Shared venue with another partner"))
	sha := receipt(event, "Hotel Quinta Real: room and breakfast for 40, 1950.00 USD")
	d.check(s.ClaimMDF(d.ctx, partner, id, event, usd("1950"), []string{sha}, "Invoice attached"))
	d.check(s.ReimburseMDF(d.ctx, demoMarketing, id, event, usd("1800"), "Parking is not covered by the programme"))

	demo := request(domain.MDFCustomDemo, "1200", "A demo environment with the customer's own payroll data")
	d.check(s.ApproveMDF(d.ctx, demoMarketing, id, demo, domain.Money{}, ""))
	sha = receipt(demo, "Cloud invoice for another customer's project, 1200.00 USD")
	d.check(s.ClaimMDF(d.ctx, partner, id, demo, usd("1200"), []string{sha}, ""))
	d.check(s.RejectMDFClaim(d.ctx, demoMarketing, id, demo, "The receipt is for another customer's project"))

	poc := request(domain.MDFPOCEnvironment, "1500", "Two-week proof of concept at the customer's airport")
	d.check(s.ApproveMDF(d.ctx, demoMarketing, id, poc, domain.Money{}, ""))
	sha = receipt(poc, "Proof-of-concept hardware rental, 1500.00 USD")
	d.check(s.ClaimMDF(d.ctx, partner, id, poc, usd("1500"), []string{sha}, ""))

	sponsor := request(domain.MDFSponsorship, "900", "A booth at a logistics fair")
	d.check(s.RejectMDF(d.ctx, demoMarketing, id, sponsor, "Sponsorships are funded from the regional budget"))
	approved := request(domain.MDFCustomDemo, "400", "A follow-up demo for the CIO")
	d.check(s.ApproveMDF(d.ctx, demoMarketing, id, approved, domain.Money{}, ""))
	request(domain.MDFPOCEnvironment, "300", "Extra test licences for the proof of concept")
}

// presales adds the presales desk and assigns a dedicated architect and
// engineer to the enterprise deal id.
func (d *demoRun) presales(id uuid.UUID) {
	for _, r := range []domain.PresalesResource{
		{ID: "ana.ruiz", Name: "Ana Ruiz", Kind: domain.SolutionsArchitect, CapacityHours: 120},
		{ID: "luis.gomez", Name: "Luis Gómez", Kind: domain.PresalesEngineer, CapacityHours: 80},
		{ID: "marta.diaz", Name: "Marta Díaz", Kind: domain.TechnicalSpecialist, CapacityHours: 40},
	} {
		if _, err := d.svc.AddPresalesResource(d.ctx, demoManager, r); err != nil && d.err == nil {
			d.err = err
		}
	}
	d.check(d.svc.AssignPresales(d.ctx, demoManager, id, "ana.ruiz", 60))
	d.check(d.svc.AssignPresales(d.ctx, demoManager, id, "luis.gomez", 40))
}

// benefitsSummary prints the MDF requests by state and the presales desk.
func (d *demoRun) benefitsSummary(w io.Writer) {
	count := map[domain.MDFState]int{}
	for _, q := range d.svc.MDF.Requests(projections.MDFRequestFilter{}) {
		count[q.State]++
	}
	states := make([]string, 0, len(count))
	for s := range count {
		states = append(states, string(s))
	}
	slices.Sort(states)
	fmt.Fprintln(w, "mdf requests:")
	for _, s := range states {
		fmt.Fprintf(w, "  mdf %-16s %d\n", s, count[domain.MDFState(s)])
	}
	fmt.Fprintln(w, "presales:")
	for _, r := range d.svc.Presales.Resources() {
		fmt.Fprintf(w, "  %-20s %d of %d hours assigned\n", r.ID, r.LoadHours, r.CapacityHours)
	}
}
