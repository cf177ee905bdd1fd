package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

func (s *Server) policyRoutes(g router) {
	g.GET("/policies", s.listPolicies)
	g.POST("/policies", s.proposePolicy)
	g.GET("/policies/current", s.currentPolicy)
	g.GET("/policies/:v", s.getPolicy)
	g.POST("/policies/:v/publish", s.publishPolicy)
	g.POST("/policies/:v/withdraw", s.withdrawPolicy)
	g.GET("/policies/:v/diff/:w", s.diffPolicies)
	g.POST("/policies/:v/acknowledge", s.acknowledgePolicy)
	g.GET("/policies/:v/acknowledgements", s.policyAcknowledgements)
}

// PolicyPublication is how a published version was published.
type PolicyPublication struct {
	PublishedAt    time.Time            `json:"published_at"`
	PublishedBy    string               `json:"published_by"`
	PublisherRole  domain.Role          `json:"publisher_role"`
	InForceVersion int                  `json:"in_force_version"`
	RequiredNotice string               `json:"required_notice"`
	NoticeGiven    string               `json:"notice_given"`
	Emergency      bool                 `json:"emergency"`
	Rationale      string               `json:"rationale,omitempty"`
	PartnerNotice  domain.PartnerNotice `json:"partner_notice"`
}

// PolicyWithdrawal is why and when a version was withdrawn.
type PolicyWithdrawal struct {
	WithdrawnAt time.Time `json:"withdrawn_at"`
	WithdrawnBy string    `json:"withdrawn_by"`
	Reason      string    `json:"reason"`
}

// PolicySummary is one version in the list.
type PolicySummary struct {
	Version int    `json:"version"`
	State   string `json:"state"`
	Summary string `json:"summary,omitempty"`
	// EffectiveFrom is when a published version applies; version 1 has
	// applied since the beginning and has none.
	EffectiveFrom *time.Time         `json:"effective_from,omitempty"`
	ProposedBy    string             `json:"proposed_by"`
	ProposedAt    *time.Time         `json:"proposed_at,omitempty"`
	Publication   *PolicyPublication `json:"publication,omitempty"`
	Withdrawal    *PolicyWithdrawal  `json:"withdrawal,omitempty"`
}

// PolicyVersion is one version with its document.
type PolicyVersion struct {
	PolicySummary
	Document domain.Policy `json:"document"`
}

func presentPolicy(v projections.PolicyVersionView) PolicyVersion {
	out := PolicyVersion{PolicySummary: PolicySummary{
		Version: v.Policy.Version, State: v.State, Summary: v.Policy.Summary, ProposedBy: v.ProposedBy,
	}, Document: v.Policy}
	if !v.ProposedAt.IsZero() {
		at := v.ProposedAt
		out.ProposedAt = &at
	}
	if v.Published && !v.BuiltIn() {
		from := v.Policy.EffectiveFrom
		out.EffectiveFrom = &from
		p := v.Publication
		out.Publication = &PolicyPublication{PublishedAt: p.At, PublishedBy: p.PublishedBy, PublisherRole: p.PublisherRole,
			InForceVersion: p.InForceVersion, RequiredNotice: p.RequiredNotice, NoticeGiven: p.NoticeGiven,
			Emergency: p.Emergency, Rationale: p.Rationale, PartnerNotice: p.Notice}
	}
	if v.Withdrawn {
		w := v.Withdrawal
		out.Withdrawal = &PolicyWithdrawal{WithdrawnAt: w.At, WithdrawnBy: w.WithdrawnBy, Reason: w.Reason}
	}
	return out
}

// policyParam reads a version number from the path; anything else names
// no version.
func policyParam(c echo.Context, name string) (int, error) {
	n, err := strconv.Atoi(c.Param(name))
	if err != nil || n < 1 || strconv.Itoa(n) != c.Param(name) {
		return 0, domain.Errorf(domain.ENOTFOUND, "policy version not found")
	}
	return n, nil
}

func (s *Server) listPolicies(c echo.Context) error {
	vs, err := s.app.PolicyVersions(callerOf(c))
	if err != nil {
		return err
	}
	items := make([]PolicySummary, len(vs))
	for i, v := range vs {
		items[i] = presentPolicy(v).PolicySummary
	}
	return listAnswer(c, "policies", items)
}

func (s *Server) getPolicy(c echo.Context) error {
	n, err := policyParam(c, "v")
	if err != nil {
		return err
	}
	v, err := s.app.PolicyVersion(callerOf(c), n)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, presentPolicy(v))
}

func (s *Server) currentPolicy(c echo.Context) error {
	v, err := s.app.CurrentPolicy(callerOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, presentPolicy(v))
}

func (s *Server) proposePolicy(c echo.Context) error {
	if err := requireRole(c, "propose policies", domain.RoleChannelLeader, domain.RoleAdmin); err != nil {
		return err
	}
	body, doc, err := readPolicyBody(c) // JSON or YAML (policy_yaml.go)
	if err != nil {
		return err
	}
	if err := checkJSONText(doc); err != nil {
		return err
	}
	p, err := domain.ParsePolicy(doc)
	if err != nil {
		return err
	}
	call, err := callFor(c, body)
	if err != nil {
		return err
	}
	v, err := s.app.ProposePolicy(c.Request().Context(), call, p)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/policies/"+strconv.Itoa(v.Policy.Version))
	return c.JSON(http.StatusCreated, presentPolicy(v))
}

type publishPolicyRequest struct {
	EffectiveFrom time.Time `json:"effective_from"`
	Emergency     bool      `json:"emergency"`
	Rationale     string    `json:"rationale"`
}

func (s *Server) publishPolicy(c echo.Context) error {
	n, err := policyParam(c, "v")
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var req publishPolicyRequest
	if err := decodeJSON(body, &req, false); err != nil {
		return err
	}
	if err := requireRole(c, "publish policies", domain.RoleChannelLeader, domain.RoleAdmin, domain.RoleExecutive); err != nil {
		return err
	}
	call, err := callFor(c, body)
	if err != nil {
		return err
	}
	v, err := s.app.PublishPolicy(c.Request().Context(), call, domain.Publication{
		Version: n, EffectiveFrom: req.EffectiveFrom, Emergency: req.Emergency, Rationale: req.Rationale,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, presentPolicy(v))
}

func (s *Server) withdrawPolicy(c echo.Context) error {
	n, err := policyParam(c, "v")
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(body, &req, false); err != nil {
		return err
	}
	if err := requireRole(c, "withdraw policies", domain.RoleChannelLeader, domain.RoleAdmin); err != nil {
		return err
	}
	call, err := callFor(c, body)
	if err != nil {
		return err
	}
	v, err := s.app.WithdrawPolicy(c.Request().Context(), call, n, req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, presentPolicy(v))
}

func (s *Server) diffPolicies(c echo.Context) error {
	a, err := policyParam(c, "v")
	if err != nil {
		return err
	}
	b, err := policyParam(c, "w")
	if err != nil {
		return err
	}
	changes, err := s.app.PolicyDiff(callerOf(c), a, b)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"from": a, "to": b, "changes": changes})
}

func (s *Server) acknowledgePolicy(c echo.Context) error {
	n, err := policyParam(c, "v")
	if err != nil {
		return err
	}
	if err := requireRole(c, "acknowledge policies", domain.RolePartner); err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	if err := decodeJSON(body, &struct{}{}, true); err != nil {
		return err
	}
	call, err := callFor(c, body)
	if err != nil {
		return err
	}
	a, err := s.app.AcknowledgePolicy(c.Request().Context(), call, n)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"version": n, "partner_id": a.PartnerID, "acknowledged_by": a.AcknowledgedBy, "acknowledged_at": a.At})
}

// PolicyAcknowledgements are who must be told of a published version and
// who acknowledged it.
type PolicyAcknowledgements struct {
	Version       int                  `json:"version"`
	PartnerNotice domain.PartnerNotice `json:"partner_notice"`
	Acknowledged  int                  `json:"acknowledged"`
	Pending       int                  `json:"pending"`
	Items         []app.PolicyNotice   `json:"items"`
}

func (s *Server) policyAcknowledgements(c echo.Context) error {
	n, err := policyParam(c, "v")
	if err != nil {
		return err
	}
	notice, items, err := s.app.PolicyAcknowledgements(callerOf(c), n)
	if err != nil {
		return err
	}
	out := PolicyAcknowledgements{Version: n, PartnerNotice: notice, Items: items}
	for _, it := range items {
		if it.Acknowledged != nil {
			out.Acknowledged++
		} else {
			out.Pending++
		}
	}
	return c.JSON(http.StatusOK, out)
}
