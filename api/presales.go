package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dealreg/dealreg/domain"
)

type assignPresalesRequest struct {
	ResourceID string `json:"resource_id"`
	Hours      int    `json:"hours"`
}

func (s *Server) presalesRoutes(g router) {
	g.GET("/presales/resources", s.listPresalesResources)
	g.POST("/presales/resources", s.addPresalesResource)
	g.GET("/presales/resources/:rid", s.getPresalesResource)
	g.GET("/registrations/:id/presales", s.getPresales)
	g.POST("/registrations/:id/presales", s.assignPresales)
	g.POST("/registrations/:id/presales/:rid/unassign", s.unassignPresales)
}

func (s *Server) listPresalesResources(c echo.Context) error {
	items, err := s.app.PresalesResources(callerOf(c))
	if err != nil {
		return err
	}
	return listAnswer(c, "presales-resources", items)
}

func (s *Server) getPresalesResource(c echo.Context) error {
	v, err := s.app.PresalesResource(callerOf(c), c.Param("rid"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Server) addPresalesResource(c echo.Context) error {
	var r domain.PresalesResource
	call, err := bindCall(c, &r)
	if err != nil {
		return err
	}
	v, err := s.app.AddPresalesResource(c.Request().Context(), call, r)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/presales/resources/"+v.ID)
	return c.JSON(http.StatusCreated, v)
}

func (s *Server) getPresales(c echo.Context) error {
	id, err := registrationIDParam(c)
	if err != nil {
		return err
	}
	v, err := s.app.PresalesOf(callerOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// presalesCommand checks that the caller may see the registration (another
// partner's answers as one that does not exist) before reading the body.
func (s *Server) presalesCommand(c echo.Context, run func() error) error {
	id, err := registrationIDParam(c)
	if err != nil {
		return err
	}
	if _, err := s.app.PresalesOf(callerOf(c), id); err != nil {
		return err
	}
	if err := run(); err != nil {
		return err
	}
	out, err := s.app.PresalesOf(callerOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) assignPresales(c echo.Context) error {
	var req assignPresalesRequest
	return s.presalesCommand(c, func() error {
		call, err := bindCall(c, &req)
		if err != nil {
			return err
		}
		id, _ := registrationIDParam(c)
		_, err = s.app.AssignPresales(c.Request().Context(), call, id, req.ResourceID, req.Hours)
		return err
	})
}

func (s *Server) unassignPresales(c echo.Context) error {
	var req reasonRequest
	return s.presalesCommand(c, func() error {
		call, err := bindOptionalCall(c, &req)
		if err != nil {
			return err
		}
		id, _ := registrationIDParam(c)
		_, err = s.app.UnassignPresales(c.Request().Context(), call, id, c.Param("rid"), req.Reason)
		return err
	})
}
