package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dealreg/dealreg/app"
)

// handoffRoutes: the partner lets direct sales engage on its protected
// deal (docs/crm.md, field locks).
func (s *Server) handoffRoutes(g router) {
	g.POST("/registrations/:id/handoff", s.grantHandoff)
}

func (s *Server) grantHandoff(c echo.Context) error {
	id, err := registrationIDParam(c)
	if err != nil {
		return err
	}
	// Another partner's registration answers as a missing one, before
	// the body is read.
	if _, err := s.app.Visible(callerOf(c), id); err != nil {
		return err
	}
	var req app.HandoffRequest
	call, err := bindCall(c, &req)
	if err != nil {
		return err
	}
	res, err := s.app.GrantHandoff(c.Request().Context(), call, id, req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"registration_id": id, "position": res.Position})
}
