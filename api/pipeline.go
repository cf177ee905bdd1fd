package api

import (
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/dealreg/dealreg/domain"
)

type closeDirectRequest struct {
	Outcome domain.DirectStatus `json:"outcome"`
	Reason  string              `json:"reason"`
}

type accountDecisionRequest struct {
	A    string `json:"a"`
	B    string `json:"b"`
	Same bool   `json:"same"`
	Note string `json:"note"`
}

type subsidiaryRequest struct {
	Parent     string `json:"parent"`
	Subsidiary string `json:"subsidiary"`
	Note       string `json:"note"`
}

func (s *Server) pipelineRoutes(g router) {
	g.GET("/direct-opportunities", s.listDirect)
	g.POST("/direct-opportunities", s.recordDirect)
	g.POST("/direct-opportunities\\:batch", s.importCRM)
	g.GET("/direct-opportunities/:id", s.getDirect)
	g.PUT("/direct-opportunities/:id", s.updateDirect)
	g.POST("/direct-opportunities/:id/close", s.closeDirect)
	g.POST("/accounts/decisions", s.decideAccounts)
	g.POST("/accounts/subsidiaries", s.linkSubsidiary)
}

// The direct pipeline is the vendor's: partners never see it.
func mayReadPipeline(c echo.Context) error {
	return requireRole(c, "read the direct-sales pipeline", domain.RoleDirectSales, domain.RoleAdmin, domain.RoleAuditor,
		domain.RoleChannelManager, domain.RoleChannelDirector, domain.RoleExecutive)
}

func (s *Server) listDirect(c echo.Context) error {
	if err := mayReadPipeline(c); err != nil {
		return err
	}
	return listAnswer(c, "direct-opportunities", s.app.Pipeline.List(c.QueryParam("status") == "open"))
}

func directIDParam(c echo.Context) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return uuid.Nil, domain.Errorf(domain.ENOTFOUND, "direct opportunity not found")
	}
	return id, nil
}

func (s *Server) getDirect(c echo.Context) error {
	if err := mayReadPipeline(c); err != nil {
		return err
	}
	id, err := directIDParam(c)
	if err != nil {
		return err
	}
	v, ok := s.app.Pipeline.Get(id)
	if !ok {
		return domain.Errorf(domain.ENOTFOUND, "direct opportunity not found")
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Server) respondDirect(c echo.Context, status int, id uuid.UUID) error {
	v, ok := s.app.Pipeline.Get(id)
	if !ok {
		return domain.Errorf(domain.ENOTFOUND, "direct opportunity not found")
	}
	return c.JSON(status, v)
}

func (s *Server) recordDirect(c echo.Context) error {
	var o domain.DirectOpportunity
	call, err := bindCall(c, &o)
	if err != nil {
		return err
	}
	id, err := s.app.RecordDirect(c.Request().Context(), call, o)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/direct-opportunities/"+id.String())
	return s.respondDirect(c, http.StatusCreated, id)
}

func (s *Server) updateDirect(c echo.Context) error {
	id, err := directIDParam(c)
	if err != nil {
		return err
	}
	var o domain.DirectOpportunity
	call, err := bindCall(c, &o)
	if err != nil {
		return err
	}
	if err := s.app.UpdateDirect(c.Request().Context(), call, id, o); err != nil {
		return err
	}
	return s.respondDirect(c, http.StatusOK, id)
}

func (s *Server) closeDirect(c echo.Context) error {
	id, err := directIDParam(c)
	if err != nil {
		return err
	}
	var req closeDirectRequest
	call, err := bindCall(c, &req)
	if err != nil {
		return err
	}
	if err := s.app.CloseDirect(c.Request().Context(), call, id, req.Outcome, req.Reason); err != nil {
		return err
	}
	return s.respondDirect(c, http.StatusOK, id)
}

func (s *Server) decideAccounts(c echo.Context) error {
	var req accountDecisionRequest
	call, err := bindCall(c, &req)
	if err != nil {
		return err
	}
	if err := s.app.DecideAccountMatch(c.Request().Context(), call, req.A, req.B, req.Same, req.Note); err != nil {
		return err
	}
	req.A, req.B = strings.TrimSpace(req.A), strings.TrimSpace(req.B)
	return c.JSON(http.StatusCreated, req)
}

func (s *Server) linkSubsidiary(c echo.Context) error {
	var req subsidiaryRequest
	call, err := bindCall(c, &req)
	if err != nil {
		return err
	}
	if err := s.app.LinkSubsidiary(c.Request().Context(), call, req.Parent, req.Subsidiary, req.Note); err != nil {
		return err
	}
	req.Parent, req.Subsidiary = strings.TrimSpace(req.Parent), strings.TrimSpace(req.Subsidiary)
	return c.JSON(http.StatusCreated, req)
}
