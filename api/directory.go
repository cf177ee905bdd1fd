package api

import (
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/dealreg/dealreg/domain"
)

type createTokenRequest struct {
	Name      string      `json:"name"`
	Role      domain.Role `json:"role"`
	PartnerID string      `json:"partner_id"`
}

func (s *Server) directoryRoutes(g router) {
	g.GET("/partners", s.listPartners)
	g.POST("/partners", s.addPartner)
	g.GET("/partners/:id", s.getPartner)
	g.POST("/partners/:id/grants", s.grantTerritory)
	g.POST("/partners/:id/grants/:grant/revoke", s.revokeGrant)
	g.POST("/tokens", s.createToken)
	g.DELETE("/tokens/:id", s.revokeToken)
}

func (s *Server) listPartners(c echo.Context) error {
	ps, err := s.app.Partners(callerOf(c))
	if err != nil {
		return err
	}
	items := make([]PartnerAnswer, len(ps))
	for i, p := range ps {
		items[i] = s.partnerAnswer(p)
	}
	return listAnswer(c, "partners", items)
}

func (s *Server) getPartner(c echo.Context) error {
	caller := callerOf(c)
	id := c.Param("id")
	p, ok := s.app.Directory.Partner(id)
	if !ok || (caller.Actor.Role == domain.RolePartner && caller.Actor.PartnerID != id) {
		// Another partner is not found, in the same words as one that
		// does not exist.
		return domain.Errorf(domain.ENOTFOUND, "partner not found")
	}
	return c.JSON(http.StatusOK, s.partnerAnswer(p))
}

func (s *Server) addPartner(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var p domain.Partner
	if err := decodeJSON(body, &p, false); err != nil {
		return err
	}
	call, err := callFor(c, body)
	if err != nil {
		return err
	}
	v, err := s.app.AddPartner(c.Request().Context(), call, p)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/partners/"+v.ID)
	return c.JSON(http.StatusCreated, s.partnerAnswer(v))
}

func (s *Server) grantTerritory(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var g domain.TerritoryGrant
	if err := decodeJSON(body, &g, false); err != nil {
		return err
	}
	if g.PartnerID != "" && g.PartnerID != c.Param("id") {
		return invalidBody("partner_id", "must be the partner of the URL, or omitted")
	}
	g.PartnerID = c.Param("id")
	call, err := callFor(c, body)
	if err != nil {
		return err
	}
	v, err := s.app.GrantTerritory(c.Request().Context(), call, g)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, v)
}

type revokeGrantRequest struct {
	Reason string `json:"reason"`
}

// revokeGrant answers POST /v1/partners/{id}/grants/{grant}/revoke: the
// grant covers nothing from now on (TerritoryGrantRevoked).
func (s *Server) revokeGrant(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var req revokeGrantRequest
	if err := decodeJSON(body, &req, false); err != nil {
		return err
	}
	id, err := uuid.Parse(c.Param("grant"))
	if err != nil {
		return domain.Errorf(domain.ENOTFOUND, "grant not found")
	}
	call, err := callFor(c, body)
	if err != nil {
		return err
	}
	v, err := s.app.RevokeGrant(c.Request().Context(), call, c.Param("id"), id, req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Server) createToken(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var req createTokenRequest
	if err := decodeJSON(body, &req, false); err != nil {
		return err
	}
	call, err := callFor(c, body)
	if err != nil {
		return err
	}
	t, err := s.app.CreateToken(c.Request().Context(), call, req.Name, req.Role, req.PartnerID)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusCreated, t)
}

func (s *Server) revokeToken(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return domain.Errorf(domain.ENOTFOUND, "token not found")
	}
	call, err := callFor(c, nil)
	if err != nil {
		return err
	}
	if err := s.app.RevokeToken(c.Request().Context(), call, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
