package api

import (
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"

	"github.com/dealreg/dealreg/domain"
)

// Review groups: the policy's routing groups and the reviewers assigned to
// them with their approval limits (docs/automation.md).

type assignReviewerRequest struct {
	TokenID  uuid.UUID                  `json:"token_id"`
	MaxValue map[string]decimal.Decimal `json:"max_value"`
}

func (s *Server) reviewGroupRoutes(g router) {
	g.GET("/review-groups", s.listReviewGroups)
	g.POST("/review-groups/:group/members", s.assignReviewer)
}

func (s *Server) listReviewGroups(c echo.Context) error {
	groups, err := s.app.ReviewGroups(callerOf(c))
	if err != nil {
		return err
	}
	return listAnswer(c, "review-groups", groups)
}

func (s *Server) assignReviewer(c echo.Context) error {
	var req assignReviewerRequest
	call, err := bindCall(c, &req)
	if err != nil {
		return err
	}
	t, err := s.app.AssignReviewer(c.Request().Context(), call, req.TokenID, domain.ReviewerAssignment{Group: c.Param("group"), MaxValue: req.MaxValue})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}
