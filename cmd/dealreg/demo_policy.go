package main

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

var demoLeader = app.Call{Caller: app.Caller{Actor: domain.Actor{ID: "demo:ines", Role: domain.RoleChannelLeader}, Name: "Inés (channel leader)"}}

// demoPolicyV2 is the demo's second policy version: version 1 with approval
// automation switched on for proven gold and platinum partners (three
// decisions in the last year, 90% approved, 30% won) and reviews routed
// to an enterprise desk, a Northeast desk and channel operations.
func demoPolicyV2() domain.Policy {
	p := domain.DefaultPolicy()
	p.Version = 0
	p.Summary = "Version 2: proven gold and platinum partners are approved at once below 100,000; enterprise deals and the Northeast have their own reviewers."
	p.AutoApproval.Enabled = true
	p.AutoApproval.MinDecided = 3
	usd := func(s string) map[string]decimal.Decimal {
		return map[string]decimal.Decimal{"USD": decimal.RequireFromString(s)}
	}
	p.Routing.Groups = []domain.ReviewGroup{
		{Name: "enterprise", MinValue: usd("250000")},
		{Name: "northeast", Regions: []string{"Northeast"}},
		{Name: "channel-operations"},
	}
	// A channel manager in no review group approves up to 250,000; the
	// enterprise desk and the directors approve the rest.
	p.Routing.UnassignedManagerMaxValue = usd("250000")
	return p
}

// publishPolicyV2 proposes version 2 and publishes it with the notice
// version 1 requires (30 days): the registrations decided before its
// effective date keep version 1's terms, those after are decided under it.
func (d *demoRun) publishPolicyV2() {
	if d.err != nil {
		return
	}
	v, err := d.svc.ProposePolicy(d.ctx, demoLeader, demoPolicyV2())
	if err != nil {
		d.err = fmt.Errorf("demo: propose policy: %w", err)
		return
	}
	notice := domain.DefaultPolicy().NoticePeriod
	from := d.clock.Now().Add(notice + domain.Day).Truncate(domain.Day)
	if _, err := d.svc.PublishPolicy(d.ctx, demoLeader, domain.Publication{Version: v.Policy.Version, EffectiveFrom: from}); err != nil {
		d.err = fmt.Errorf("demo: publish policy: %w", err)
	}
}

// policySummary prints the policy versions and how the reviews of the
// registrations went: approved automatically, or routed to which group.
func (d *demoRun) policySummary(w io.Writer, views []projections.RegistrationView) {
	staff := demoAdmin.Caller
	versions, err := d.svc.PolicyVersions(staff)
	if err == nil {
		fmt.Fprintln(w, "policies:")
		for _, v := range versions {
			from := "the beginning"
			if !v.BuiltIn() {
				from = v.Publication.EffectiveFrom.Format(time.DateOnly)
			}
			fmt.Fprintf(w, "  policy v%d %-12s from %s\n", v.Policy.Version, v.State, from)
		}
	}
	auto, approvedUnder := 0, map[int]int{}
	routed := map[string]int{}
	for _, v := range views {
		if v.Approved {
			approvedUnder[v.PolicyVersion]++
		}
		switch {
		case v.Review == nil:
		case v.Review.AutoApproved:
			auto++
		case v.Review.Group != "":
			routed[v.Review.Group]++
		}
	}
	fmt.Fprintln(w, "reviews:")
	fmt.Fprintf(w, "  auto-approved %d\n", auto)
	groups := make([]string, 0, len(routed))
	for g := range routed {
		groups = append(groups, g)
	}
	slices.Sort(groups)
	for _, g := range groups {
		fmt.Fprintf(w, "  routed to %-20s %d\n", g, routed[g])
	}
	versionsApproved := make([]int, 0, len(approvedUnder))
	for n := range approvedUnder {
		versionsApproved = append(versionsApproved, n)
	}
	slices.Sort(versionsApproved)
	for _, n := range versionsApproved {
		fmt.Fprintf(w, "  approved under policy v%d %d\n", n, approvedUnder[n])
	}
}
