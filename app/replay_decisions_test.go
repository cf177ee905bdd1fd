package app

import (
	"fmt"
	"strings"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// requireDecisionsReplay checks, over a ledger read in order, that every
// automatic decision and every benefit it records is what the domain's
// rules decide from the ledger before it, folded here afresh from the
// events alone (no service, no views): the policy book, the partners'
// tiers and standings and the track records.
//
//   - each submission whose verdict lets it through is followed, for that
//     attempt, by exactly one RegistrationAutoApproved or
//     RegistrationRouted, the one domain.PlanReview decides under the
//     policy in force at the submission's recorded time, from the partner
//     and track record as of the ledger before the submission;
//   - each RegistrationApproved (a reviewer's or the automation's) names
//     the policy in force at its time in its terms and embeds exactly the
//     benefits that policy computes for the partner's tier then.
func requireDecisionsReplay(t require.TestingT, events []domain.RecordedEvent) {
	book := domain.NewPolicyBook()
	tracks := domain.NewTrackBook()
	claims := domain.NewClaimBook()
	partners := map[string]domain.Partner{}
	standings := map[string]*domain.PartnerStanding{}
	subs := map[string]domain.RegistrationSubmitted{} // by registration: the latest submission
	plans := map[string]*domain.ReviewPlan{}          // by registration and attempt: nil for a duplicate
	automated := map[string]int{}
	standing := func(id string) domain.PartnerStanding {
		if s, ok := standings[id]; ok {
			return s.Clone()
		}
		return domain.PartnerStanding{}
	}
	key := func(id fmt.Stringer, attempt int) string { return fmt.Sprint(id, "/", attempt) }
	for _, rec := range events {
		ev, err := domain.DecodeEvent(rec.Type, rec.SchemaVersion, rec.Data)
		require.NoError(t, err)
		switch e := ev.(type) {
		case domain.RegistrationSubmitted:
			// Decided now, from the ledger before the submission.
			subs[e.RegistrationID.String()] = e
			f := claims.Check(e, rec.RecordedAt)
			p := book.InForce(rec.RecordedAt)
			track := tracks.Record(e.PartnerID, standing(e.PartnerID), p.AutoApproval.TrackRecordWindow, rec.RecordedAt)
			plan, ok := domain.PlanReview(p, e, f.Verdict, partners[e.PartnerID], standing(e.PartnerID), track, rec.RecordedAt)
			if ok {
				plans[key(e.RegistrationID, e.Attempt)] = &plan
			} else {
				plans[key(e.RegistrationID, e.Attempt)] = nil
			}
		case domain.RegistrationAutoApproved:
			k := key(e.RegistrationID, e.Attempt)
			plan := plans[k]
			require.NotNil(t, plan, "an automatic approval of %s follows a submission that is reviewed", k)
			require.True(t, plan.AutoApprove, "%s was approved automatically; the rules route it: %+v", k, plan.Conditions)
			require.Equal(t, domain.AutoApprovalRule, e.Rule)
			require.Equal(t, plan.Conditions, e.Conditions, "the conditions of %s", k)
			require.Equal(t, plan.Figures, e.Figures, "the track record of %s", k)
			require.Equal(t, book.InForce(e.At).Version, e.PolicyVersion)
			automated[k]++
		case domain.RegistrationRouted:
			k := key(e.RegistrationID, e.Attempt)
			plan := plans[k]
			require.NotNil(t, plan, "a routing of %s follows a submission that is reviewed", k)
			require.False(t, plan.AutoApprove, "%s was routed; the rules approve it", k)
			require.Equal(t, plan.Group, e.Group, "the group of %s", k)
			require.Equal(t, plan.Criteria, e.Criteria)
			require.True(t, plan.DueAt.Equal(e.DueAt) && plan.RemindAt.Equal(e.RemindAt) && plan.EscalateAt.Equal(e.EscalateAt),
				"the times of %s: %v %v %v, recorded %v %v %v", k, plan.DueAt, plan.RemindAt, plan.EscalateAt, e.DueAt, e.RemindAt, e.EscalateAt)
			require.Equal(t, plan.EscalateTo, e.EscalateTo)
			var failed []domain.Condition
			for _, c := range plan.Conditions {
				if !c.Met {
					failed = append(failed, c)
				}
			}
			require.Equal(t, failed, e.NotAutoApproved, "the failed conditions of %s", k)
			require.Equal(t, book.InForce(e.At).Version, e.PolicyVersion)
			automated[k]++
		case domain.RegistrationApproved:
			sub, ok := subs[e.RegistrationID.String()]
			require.True(t, ok, "an approval follows a submission")
			p := book.InForce(e.At)
			require.Equal(t, p.Version, e.Terms.PolicyVersion, "the approval of %s names the policy in force at it", e.RegistrationID)
			require.NotNil(t, e.Benefits, "the approval of %s embeds its benefits", e.RegistrationID)
			tier := partners[sub.PartnerID].Tier
			if tier == "" {
				tier = domain.TierRegistered
			}
			require.Equal(t, p.BenefitsFor(sub.PartnerID, tier, sub.Type, sub.Details.Opportunity.EstimatedValue), *e.Benefits,
				"the benefits of %s are what version %d computes", e.RegistrationID, p.Version)
		case domain.PartnerAdded:
			partners[e.ID] = e.Partner
		case domain.PartnerUpdated:
			partners[e.ID] = e.Partner
		}
		// Fold the event into the books, as the follower's handlers do.
		if rec.Stream == domain.PolicyStream {
			require.NoError(t, book.Apply(ev))
		}
		if tracks.Follows(rec.Type) && strings.HasPrefix(rec.Stream, "registration-") {
			tracks.Apply(ev)
		}
		var partnerOf string
		switch e := ev.(type) {
		case domain.PartnerAdded:
			partnerOf = e.ID
		case domain.PartnerCredentialRecorded:
			partnerOf = e.PartnerID
		case domain.PartnerSuspended:
			partnerOf = e.PartnerID
		case domain.PartnerReinstated:
			partnerOf = e.PartnerID
		case domain.PartnerTerminated:
			partnerOf = e.PartnerID
		case domain.RegistrationViolationRecorded:
			partnerOf = e.PartnerID
		}
		if partnerOf != "" {
			s, ok := standings[partnerOf]
			if !ok {
				s = &domain.PartnerStanding{}
				standings[partnerOf] = s
			}
			s.Apply(ev)
		}
		claims.ApplyAt(ev, rec.Position, rec.RecordedAt)
	}
	for k, plan := range plans {
		if plan == nil {
			require.Zero(t, automated[k], "a duplicate %s is reviewed by nobody", k)
			continue
		}
		require.Equal(t, 1, automated[k], "submission %s is approved automatically or routed, once", k)
	}
}
