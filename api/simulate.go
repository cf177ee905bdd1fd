package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
)

type simulateRequest struct {
	Draft json.RawMessage `json:"draft"`
	From  *time.Time      `json:"from"`
	To    *time.Time      `json:"to"`
}

// SimulationProtection is a ProtectionChange with its move in ISO 8601.
type SimulationProtection struct {
	app.ProtectionChange
	Delta Duration `json:"delta"`
}

// SimulationChange is one registration whose decisions would differ.
type SimulationChange struct {
	app.SimulatedRegistration
	Protection *SimulationProtection `json:"protection,omitempty"`
}

// SimulationSummary is app.SimulationSummary with the protection moves in
// ISO 8601.
type SimulationSummary struct {
	app.SimulationSummary
	ProtectionDelta Duration `json:"protection_delta"`
}

// Simulation answers POST /v1/policies/simulate.
type Simulation struct {
	app.Simulation
	Summary SimulationSummary  `json:"summary"`
	Changes []SimulationChange `json:"changes"`
}

// PresentSimulation shows sim as the API does (the CLI prints the same).
func PresentSimulation(sim app.Simulation) Simulation {
	out := Simulation{Simulation: sim, Summary: SimulationSummary{SimulationSummary: sim.Summary, ProtectionDelta: Duration(sim.Summary.ProtectionDelta)},
		Changes: make([]SimulationChange, 0, len(sim.Changes))}
	for _, c := range sim.Changes {
		sc := SimulationChange{SimulatedRegistration: c}
		if c.Protection != nil {
			sc.Protection = &SimulationProtection{ProtectionChange: *c.Protection, Delta: Duration(c.Protection.Delta)}
		}
		out.Changes = append(out.Changes, sc)
	}
	return out
}

func (s *Server) simulateRoutes(g router) {
	g.POST("/policies/simulate", s.simulatePolicy)
}

// simulatePolicy replays the registrations first submitted in [from, to)
// under the draft policy document and answers what would differ. It
// appends nothing, so it takes no Idempotency-Key.
func (s *Server) simulatePolicy(c echo.Context) error {
	caller := callerOf(c)
	if err := caller.Actor.Validate(); err != nil {
		return err
	}
	if caller.Actor.Role == domain.RolePartner || caller.Actor.Role == domain.RoleDirectSales {
		return domain.Errorf(domain.EFORBIDDEN, "role %q may not simulate policies", caller.Actor.Role)
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var in simulateRequest
	if err := decodeJSON(body, &in, false); err != nil {
		return err
	}
	var fields []domain.FieldError
	if len(in.Draft) == 0 || string(in.Draft) == "null" {
		fields = append(fields, domain.FieldError{Field: "draft", Code: domain.FieldRequired, Message: "give the draft policy document"})
	}
	if in.From == nil {
		fields = append(fields, domain.FieldError{Field: "from", Code: domain.FieldRequired, Message: "give the start of the period (RFC 3339)"})
	}
	var from, to time.Time
	if in.From != nil {
		from = in.From.UTC()
	}
	if in.To != nil {
		to = in.To.UTC()
		if in.From != nil && !from.Before(to) {
			fields = append(fields, domain.FieldError{Field: "to", Code: domain.FieldOutOfRange, Message: "must be after from"})
		}
	}
	if fields != nil {
		return &domain.Error{Code: domain.EINVALID, Message: "invalid simulation request", Fields: fields}
	}
	sim, err := s.app.SimulatePolicy(c.Request().Context(), caller, in.Draft, from, to)
	if err != nil {
		if de, ok := err.(*domain.Error); ok && de.Code == domain.EINVALID {
			// The draft's fields, by their path within the request.
			out := &domain.Error{Code: de.Code, Message: de.Message}
			for _, f := range de.Fields {
				f.Field = strings.TrimSuffix("draft."+f.Field, ".")
				out.Fields = append(out.Fields, f)
			}
			return out
		}
		return err
	}
	return c.JSON(http.StatusOK, PresentSimulation(sim))
}
