package projections

import (
	"fmt"
	"strings"
	"time"

	"github.com/dealreg/dealreg/domain"
)

// applyReview fills the review queue item's routing from its view: the
// routed due time replaces the one computed from policy p (the policy the
// submission was made under), and NextAction says when the scheduler may
// next remind or escalate it (zero: never again).
func (i *ReviewItem) applyReview(p domain.Policy) {
	var rs domain.ReviewState
	if i.Review != nil {
		rs = *i.Review
	}
	if rs.DueAt.IsZero() {
		rs.DueAt = i.DueAt
		if p.ReviewReminderBefore > 0 {
			rs.RemindAt = rs.DueAt.Add(-p.ReviewReminderBefore)
		}
		rs.EscalateAt = rs.DueAt.Add(p.ReviewEscalateAfter)
	}
	i.DueAt, i.Group = rs.DueAt, rs.Group
	i.Reminded, i.Escalated = !rs.RemindedAt.IsZero(), !rs.EscalatedAt.IsZero()
	if i.Escalated {
		i.EscalatedTo = rs.EscalateTo
		return
	}
	if !i.Reminded && !rs.RemindAt.IsZero() {
		i.NextAction = rs.RemindAt
		return
	}
	i.NextAction = rs.EscalateAt.Add(time.Nanosecond)
}

// describeReview summarises an event of approval automation.
func describeReview(e domain.Event) string {
	const at = "2006-01-02 15:04 MST"
	switch e := e.(type) {
	case domain.RegistrationAutoApproved:
		return fmt.Sprintf("Approved automatically under policy v%d (%s): %d decided, %s%% approved, %s%% won",
			e.PolicyVersion, e.Rule, e.Figures.Decided, e.Figures.ApprovalRate(), e.Figures.WinRate())
	case domain.RegistrationRouted:
		s := fmt.Sprintf("Routed to %s, review due %s", e.Group, e.DueAt.UTC().Format(at))
		if len(e.Criteria) > 0 {
			s += " (" + strings.Join(e.Criteria, ", ") + ")"
		}
		return s
	case domain.RegistrationReviewReminderSent:
		return fmt.Sprintf("Reminded %s: review due %s", e.Group, e.DueAt.UTC().Format(at))
	case domain.RegistrationReviewEscalated:
		return fmt.Sprintf("Review overdue since %s: escalated from %s to %s", e.DueAt.UTC().Format(at), e.FromGroup, e.To)
	}
	return e.EventType()
}
