package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// ReviewerAssignment makes a reviewer's token a member of one review group
// (a group of the policy's routing) with the largest estimated value it may
// approve, per currency. A reviewer with an assignment approves only
// submissions routed to its group and within its limit; one without (a
// director, an executive) is not limited. See docs/automation.md.
type ReviewerAssignment struct {
	Group string `json:"group"`
	// MaxValue is the largest value approved, per currency; a currency not
	// listed may not be approved. Empty: no limit.
	MaxValue map[string]decimal.Decimal `json:"max_value,omitempty"`
}

// ReviewerAssigned records a reviewer's assignment, on its token's stream;
// a later one replaces it.
type ReviewerAssigned struct {
	TokenID    uuid.UUID          `json:"token_id"`
	Assignment ReviewerAssignment `json:"assignment"`
	AssignedBy string             `json:"assigned_by"`
	At         time.Time          `json:"at"`
}

// AssignReviewer assigns the reviewer of token id (issued with role, or not
// at all; revoked says whether it still authenticates) to a group of
// policy p: channel directors and above.
func AssignReviewer(actor Actor, id uuid.UUID, issued bool, role Role, revoked bool, a ReviewerAssignment, p Policy, now time.Time) ([]Event, error) {
	if err := programAuthority(actor, "assign reviewers", true); err != nil {
		return nil, err
	}
	if !issued || revoked {
		return nil, Errorf(ENOTFOUND, "token not found")
	}
	var v validator
	if !role.Reviewer() {
		v.add("token_id", FieldInvalid, fmt.Sprintf("the token's role %q reviews nothing", role))
	}
	a.Group = strings.TrimSpace(a.Group)
	names := make([]string, len(p.Routing.Groups))
	for i, g := range p.Routing.Groups {
		names[i] = g.Name
	}
	if !slices.Contains(names, a.Group) {
		v.add("group", FieldInvalid, fmt.Sprintf("must be a review group of policy v%d: %s", p.Version, strings.Join(names, ", ")))
	}
	v.amounts("max_value", a.MaxValue, true)
	if err := v.err("the assignment is invalid"); err != nil {
		return nil, err
	}
	return []Event{ReviewerAssigned{TokenID: id, Assignment: a, AssignedBy: actor.ID, At: canonicalTime(now)}}, nil
}

// CheckApprover refuses (EFORBIDDEN) an approval by a reviewer assigned by
// a (nil: not assigned, not limited) when the registration was routed to
// another group or its estimated value is over the reviewer's limit.
func (r *Registration) CheckApprover(a *ReviewerAssignment) error {
	if a == nil {
		return nil
	}
	if g := r.review.Group; g != "" && g != a.Group {
		return &Error{Code: EFORBIDDEN, Message: fmt.Sprintf("registration %s was routed to the %s group; this reviewer approves for %s", r.id, g, a.Group),
			Fields: []FieldError{{Field: "review.group", Code: FieldInvalid, Message: "routed to " + g}}}
	}
	return r.checkApprovalLimit(a.MaxValue, "this reviewer")
}

// CheckUnassignedApprover refuses (EFORBIDDEN) an approval by a reviewer
// of role who is assigned to no review group, when policy p (the one in
// force at the approval) limits such reviewers: only a channel manager is
// limited, by p.Routing.UnassignedManagerMaxValue (empty: not limited).
// Directors, executives and admins never are: an escalated review must
// always have someone who may decide it.
func (r *Registration) CheckUnassignedApprover(role Role, p Policy) error {
	if role != RoleChannelManager || len(p.Routing.UnassignedManagerMaxValue) == 0 {
		return nil
	}
	return r.checkApprovalLimit(p.Routing.UnassignedManagerMaxValue, fmt.Sprintf("a channel manager in no review group (policy version %d)", p.Version))
}

// checkApprovalLimit refuses an approval of r by who, whose limits (per
// currency, not empty) do not reach its estimated value.
func (r *Registration) checkApprovalLimit(limits map[string]decimal.Decimal, who string) error {
	value := r.details.Opportunity.EstimatedValue
	if len(limits) == 0 || value.IsZero() {
		return nil
	}
	limit, ok := limits[value.Currency]
	switch {
	case !ok:
		return &Error{Code: EFORBIDDEN, Message: fmt.Sprintf("%s may approve no value in %s; a reviewer with a limit in it, or a director, must", who, value.Currency),
			Fields: []FieldError{{Field: "opportunity.estimated_value", Code: FieldOutOfRange, Message: "no approval limit in " + value.Currency}}}
	case value.Amount.GreaterThan(limit):
		lim := Money{Amount: limit, Currency: value.Currency}
		return &Error{Code: EFORBIDDEN, Message: fmt.Sprintf("%s is over the approval limit of %s for %s; a reviewer with a higher limit, or a director, must approve it", value, lim, who),
			Fields: []FieldError{{Field: "opportunity.estimated_value", Code: FieldOutOfRange, Message: "over the approval limit of " + lim.String()}}}
	}
	return nil
}

// ReviewGroupView is a review group of a policy version as the API shows
// it: its criteria (empty: any).
type ReviewGroupView struct {
	Name          string                     `json:"name"`
	Regions       []string                   `json:"regions,omitempty"`
	Industries    []string                   `json:"industries,omitempty"`
	Tiers         []PartnerTier              `json:"tiers,omitempty"`
	MinValue      map[string]decimal.Decimal `json:"min_value,omitempty"`
	PolicyVersion int                        `json:"policy_version"`
}

// ViewOfGroup returns group g of policy version v as a view.
func ViewOfGroup(g ReviewGroup, v int) ReviewGroupView {
	return ReviewGroupView{Name: g.Name, Regions: slices.Clone(g.Regions), Industries: slices.Clone(g.Industries),
		Tiers: slices.Clone(g.Tiers), MinValue: g.MinValue, PolicyVersion: v}
}
