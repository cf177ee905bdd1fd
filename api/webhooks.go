package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
)

// webhookRoutes are the admin's outbound webhook subscriptions and their
// deliveries (docs/webhooks.md).
func (s *Server) webhookRoutes(g router) {
	g.GET("/webhooks", s.listWebhooks)
	g.POST("/webhooks", s.createWebhook)
	g.GET("/webhooks/:wid", s.getWebhook)
	g.PATCH("/webhooks/:wid", s.updateWebhook)
	g.GET("/webhooks/:wid/deliveries", s.listWebhookDeliveries)
	g.POST("/webhooks/:wid/replay", s.replayWebhook)
	g.POST("/webhooks/:wid/deliveries/:did/redeliver", s.redeliverWebhook)
}

// adminOnly refuses everyone but admins before anything is read, so a
// refused request reads no body and appends nothing.
func adminOnly(c echo.Context, action string) error {
	return requireRole(c, action, domain.RoleAdmin)
}

func (s *Server) listWebhooks(c echo.Context) error {
	items, err := s.app.Webhooks(c.Request().Context(), callerOf(c))
	if err != nil {
		return err
	}
	return listAnswer(c, "webhooks", items)
}

func (s *Server) createWebhook(c echo.Context) error {
	if err := adminOnly(c, "manage webhooks"); err != nil {
		return err
	}
	var in app.WebhookInput
	call, err := bindCall(c, &in)
	if err != nil {
		return err
	}
	v, err := s.app.CreateWebhook(c.Request().Context(), call, in)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/webhooks/"+v.ID)
	return c.JSON(http.StatusCreated, v)
}

func (s *Server) getWebhook(c echo.Context) error {
	v, err := s.app.Webhook(c.Request().Context(), callerOf(c), c.Param("wid"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Server) updateWebhook(c echo.Context) error {
	if _, err := s.app.Webhook(c.Request().Context(), callerOf(c), c.Param("wid")); err != nil {
		return err
	}
	var in app.WebhookInput
	call, err := bindCall(c, &in)
	if err != nil {
		return err
	}
	v, err := s.app.UpdateWebhook(c.Request().Context(), call, c.Param("wid"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Server) listWebhookDeliveries(c echo.Context) error {
	q := c.QueryParams()
	var from uint64
	var limit int
	var err error
	if v := q.Get("from"); v != "" {
		if from, err = strconv.ParseUint(v, 10, 64); err != nil {
			return webhookQueryError("from", "must be a global position (a whole number)")
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 500 {
			return webhookQueryError("limit", "must be a whole number from 1 to 500")
		}
	}
	items, err := s.app.WebhookDeliveries(c.Request().Context(), callerOf(c), c.Param("wid"), q.Get("status"), from, limit)
	if err != nil {
		return err
	}
	return listAnswer(c, "webhook-deliveries", items)
}

type replayRequest struct {
	FromPosition uint64 `json:"from_position"`
}

func (s *Server) replayWebhook(c echo.Context) error {
	if _, err := s.app.Webhook(c.Request().Context(), callerOf(c), c.Param("wid")); err != nil {
		return err
	}
	var req replayRequest
	call, err := bindCall(c, &req)
	if err != nil {
		return err
	}
	v, err := s.app.ReplayWebhook(c.Request().Context(), call, c.Param("wid"), req.FromPosition, "")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, v)
}

func (s *Server) redeliverWebhook(c echo.Context) error {
	if _, err := s.app.Webhook(c.Request().Context(), callerOf(c), c.Param("wid")); err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	call, err := callFor(c, body)
	if err != nil {
		return err
	}
	v, err := s.app.ReplayWebhook(c.Request().Context(), call, c.Param("wid"), 0, c.Param("did"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, v)
}

func webhookQueryError(field, msg string) error {
	return &domain.Error{Code: domain.EINVALID, Message: "the query is invalid",
		Fields: []domain.FieldError{{Field: field, Code: domain.FieldInvalid, Message: msg}}}
}
