package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
)

// crmRoutes is the inbound CRM endpoint (docs/crm.md). It carries no
// bearer token: the CRM side signs every message with the shared secret
// (Standard Webhooks headers), and the signature is its authentication.
func (s *Server) crmRoutes(e *echo.Echo) {
	e.POST("/v1/crm/events", s.receiveCRM, s.requireReady)
}

// receiveCRM verifies the signature and the timestamp before it decodes
// anything: a refused message is answered 401 problem+json and appends
// nothing.
func (s *Server) receiveCRM(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	id, err := s.app.VerifyCRM(c.Request().Header, body)
	if err != nil {
		return err
	}
	var ev app.CRMEvent
	if err := decodeJSON(body, &ev, false); err != nil {
		return err
	}
	rc, err := s.app.ReceiveCRM(c.Request().Context(), id, body, ev)
	if err != nil {
		return err
	}
	status := http.StatusAccepted
	if rc.Status == "recorded" {
		status = http.StatusCreated
	}
	if rc.Status == "duplicate" {
		status = http.StatusOK
	}
	return c.JSON(status, rc)
}

// importRequest is the body of POST /v1/direct-opportunities:batch.
type importRequest struct {
	Opportunities []domain.DirectOpportunity `json:"opportunities"`
}

// importCRM imports CRM opportunities into the direct pipeline
// (app.ImportDirect, the one import path, which the import-crm command
// takes too).
func (s *Server) importCRM(c echo.Context) error {
	if err := requireRole(c, "import CRM opportunities", domain.RoleDirectSales, domain.RoleAdmin); err != nil {
		return err
	}
	var req importRequest
	call, err := bindCall(c, &req)
	if err != nil {
		return err
	}
	res, err := s.app.ImportDirect(c.Request().Context(), call, req.Opportunities)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.Imported > 0 {
		status = http.StatusCreated
	}
	return c.JSON(status, res)
}
