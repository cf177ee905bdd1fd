package api

import (
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// CSV exports are the API's lists as CSV: the console's auditor view
// serves them to signed-in users through ExportCSV, so a download from the
// pages and one from `?format=csv` are written by the same code, with the
// same columns, roles and visibility.

// The lists ExportCSV writes.
const (
	ExportRegistrations = "registrations"
	ExportConflicts     = "conflicts"
)

// ExportCSV writes list (ExportRegistrations, or ExportConflicts of the
// queue status "open", "decided" or "" for all) as caller sees it, to w.
// A refusal is returned before anything is written.
func ExportCSV(svc *app.Service, caller app.Caller, w http.ResponseWriter, r *http.Request, list, status string) error {
	s := &Server{app: svc, logger: slog.Default()}
	c := echo.New().NewContext(r, w)
	c.Set(callerKey, caller)
	switch list {
	case ExportRegistrations:
		return s.streamRegistrations(c, projections.ListFilter{}, "", 0)
	case ExportConflicts:
		if err := caller.Actor.Validate(); err != nil {
			return err
		}
		if caller.Actor.Role == domain.RolePartner || caller.Actor.Role == domain.RoleDirectSales {
			return domain.Errorf(domain.ENOTFOUND, "no such export")
		}
		return streamConflicts(c, s.conflictItems(caller, projections.QueueFilter{Status: status}))
	}
	return domain.Errorf(domain.ENOTFOUND, "no such export")
}
