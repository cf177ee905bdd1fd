package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dealreg/dealreg/domain"
)

// peopleRoutes are the people dealreg notifies by e-mail (docs/notifications.md).
func (s *Server) peopleRoutes(g router) {
	g.GET("/people", s.listPeople)
	g.POST("/people", s.recordPerson)
	g.GET("/people/:pid", s.getPerson)
}

func (s *Server) listPeople(c echo.Context) error {
	items, err := s.app.People(callerOf(c))
	if err != nil {
		return err
	}
	return listAnswer(c, "people", items)
}

func (s *Server) recordPerson(c echo.Context) error {
	if err := adminOnly(c, "record people"); err != nil {
		return err
	}
	var p domain.Person
	call, err := bindCall(c, &p)
	if err != nil {
		return err
	}
	out, err := s.app.RecordPerson(c.Request().Context(), call, p)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/people/"+out.ID)
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) getPerson(c echo.Context) error {
	p, err := s.app.Person(callerOf(c), c.Param("pid"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}
