package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dealreg/dealreg/domain"
)

// retryAfterSeconds is what a client is told to wait while the read side
// catches up.
const retryAfterSeconds = "1"

// readyz answers 200 once the views have caught up with the ledger, and 503
// with Retry-After before that. /healthz only says the process is alive.
func (s *Server) readyz(c echo.Context) error {
	applied, head := s.app.CaughtUp(c.Request().Context())
	body := map[string]any{"status": "ready", "applied": applied, "head": head}
	if !s.app.Ready() {
		body["status"] = "catching_up"
		c.Response().Header().Set("Retry-After", retryAfterSeconds)
		return c.JSON(http.StatusServiceUnavailable, body)
	}
	return c.JSON(http.StatusOK, body)
}

// requireReady answers every API route that reads the views (all of them,
// authentication included) with a 503 problem and Retry-After until the
// views have caught up, so nobody is answered from a half-built state.
func (s *Server) requireReady(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !s.app.Ready() {
			c.Response().Header().Set("Retry-After", retryAfterSeconds)
			return &domain.Error{Code: domain.EUNAVAILABLE, Message: "the service is catching up with the ledger; retry shortly"}
		}
		return next(c)
	}
}
