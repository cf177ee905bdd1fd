package api

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// PartnerAnswer is a partner as the API shows it: the directory's view and
// its status at the time of the answer (the view keeps the suspensions;
// whether one is in force depends on when it is asked).
type PartnerAnswer struct {
	projections.PartnerView
	Status         domain.PartnerStatus `json:"status"`
	SuspendedUntil time.Time            `json:"suspended_until,omitzero"`
}

func (s *Server) partnerAnswer(v projections.PartnerView) PartnerAnswer {
	status, until := s.app.PartnerStatus(v)
	return PartnerAnswer{PartnerView: v, Status: status, SuspendedUntil: until}
}

type suspendRequest struct {
	Until  time.Time `json:"until"`
	Reason string    `json:"reason"`
}

func (s *Server) partnerProgramRoutes(g router) {
	g.PATCH("/partners/:id", s.partnerCommand(func(ctx context.Context, call app.Call, id string, body []byte) (projections.PartnerView, error) {
		var change domain.PartnerProfile
		if err := decodeJSON(body, &change, false); err != nil {
			return projections.PartnerView{}, err
		}
		return s.app.UpdatePartner(ctx, call, id, change)
	}))
	g.POST("/partners/:id/credentials", s.partnerCommand(func(ctx context.Context, call app.Call, id string, body []byte) (projections.PartnerView, error) {
		var c domain.Credential
		if err := decodeJSON(body, &c, false); err != nil {
			return projections.PartnerView{}, err
		}
		return s.app.RecordCredential(ctx, call, id, c)
	}))
	g.POST("/partners/:id/suspension", s.partnerCommand(func(ctx context.Context, call app.Call, id string, body []byte) (projections.PartnerView, error) {
		var req suspendRequest
		if err := decodeJSON(body, &req, false); err != nil {
			return projections.PartnerView{}, err
		}
		return s.app.SuspendPartner(ctx, call, id, req.Until, req.Reason)
	}))
	g.POST("/partners/:id/reinstatement", s.partnerCommand(func(ctx context.Context, call app.Call, id string, body []byte) (projections.PartnerView, error) {
		var req reasonRequest
		if err := decodeJSON(body, &req, false); err != nil {
			return projections.PartnerView{}, err
		}
		return s.app.ReinstatePartner(ctx, call, id, req.Reason)
	}))
	g.POST("/partners/:id/termination", s.partnerCommand(func(ctx context.Context, call app.Call, id string, body []byte) (projections.PartnerView, error) {
		var req reasonRequest
		if err := decodeJSON(body, &req, false); err != nil {
			return projections.PartnerView{}, err
		}
		return s.app.TerminatePartner(ctx, call, id, req.Reason)
	}))
	g.POST("/registrations/:id/violations", command(s, func(ctx context.Context, call app.Call, id uuid.UUID, rep domain.ViolationReport) (app.Result, error) {
		return s.app.RecordViolation(ctx, call, id, rep)
	}))
}

// partnerCommand is the handler of a write on partner :id: run decodes the
// body, then the domain checks the caller's role before it looks at
// whether the partner exists, so that a partner (who may not write program
// records) learns nothing of which exist.
func (s *Server) partnerCommand(run func(ctx context.Context, call app.Call, id string, body []byte) (projections.PartnerView, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		body, err := readBody(c)
		if err != nil {
			return err
		}
		call, err := callFor(c, body)
		if err != nil {
			return err
		}
		v, err := run(c.Request().Context(), call, c.Param("id"), body)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, s.partnerAnswer(v))
	}
}
