package api

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
)

const callerKey = "dealreg.caller"

// authenticate requires a valid bearer token on every request it guards
// and puts the caller in the context.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		scheme, secret, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="dealreg"`)
			return domain.Errorf(domain.EUNAUTHORIZED, "send a bearer token: Authorization: Bearer <token>")
		}
		caller, err := s.app.Authenticate(c.Request().Context(), strings.TrimSpace(secret))
		if err != nil {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="dealreg", error="invalid_token"`)
			return err
		}
		c.Set(callerKey, caller)
		return next(c)
	}
}

func callerOf(c echo.Context) app.Caller {
	caller, _ := c.Get(callerKey).(app.Caller)
	return caller
}

// requireRole refuses callers whose role is not one of roles.
func requireRole(c echo.Context, action string, roles ...domain.Role) error {
	caller := callerOf(c)
	for _, r := range roles {
		if caller.Actor.Role == r {
			return nil
		}
	}
	return domain.Errorf(domain.EFORBIDDEN, "role %q may not %s", caller.Actor.Role, action)
}
