package api

import (
	"net/http"
	"strconv"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

type openConflictRequest struct {
	Registrations       []uuid.UUID `json:"registrations"`
	DirectOpportunities []uuid.UUID `json:"direct_opportunities"`
	Reason              string      `json:"reason"`
}

type evidenceRequestRequest struct {
	PartyKey string `json:"party_key"`
	Request  string `json:"request"`
}

type evidenceRequest struct {
	PartyKey string `json:"party_key"`
	domain.Evidence
}

type decideRequest struct {
	Outcome      domain.ConflictOutcome `json:"outcome"`
	Winner       string                 `json:"winner"`
	Shares       []domain.Share         `json:"shares"`
	Rationale    string                 `json:"rationale"`
	PolicyClause string                 `json:"policy_clause"`
}

func (s *Server) conflictRoutes(g router) {
	g.GET("/conflicts", s.conflictQueue)
	g.POST("/conflicts", s.openConflict)
	g.GET("/conflicts/:id", s.getConflict)
	g.POST("/conflicts/:id/evidence-requests", s.requestEvidence)
	g.POST("/conflicts/:id/evidence", s.submitEvidence)
	g.POST("/conflicts/:id/escalate", s.escalateConflict)
	g.POST("/conflicts/:id/decide", s.decideConflict)
	g.POST("/conflicts/:id/attestations", s.requestAttestation) // attest.go
}

// conflictFor returns conflict id as caller may see it: vendor staff and
// auditors see all of it; a partner only its own side of a conflict it is a
// party to (anything else answers 404); direct sales the conflicts with a
// direct party.
func (s *Server) conflictFor(caller app.Caller, id uuid.UUID) (projections.ConflictView, error) {
	v, ok := s.app.Conflicts.Get(id)
	notFound := domain.Errorf(domain.ENOTFOUND, "conflict not found")
	if !ok {
		return v, notFound
	}
	switch caller.Actor.Role {
	case domain.RolePartner:
		own, ok := ownSide(v, caller.Actor.PartnerID)
		if !ok {
			return v, notFound
		}
		return own, nil
	case domain.RoleDirectSales:
		if v.Kind != domain.ConflictPartnerVsDirect {
			return v, notFound
		}
	}
	return v, nil
}

// ownSide cuts a conflict down to what partner may see: its own party, the
// requests made to it, its evidence, and what the decision means for it.
// Other parties, their evidence and the recommendation are left out.
func ownSide(v projections.ConflictView, partner string) (projections.ConflictView, bool) {
	var key string
	for _, p := range v.Parties {
		if p.PartnerID == partner {
			key = p.Key
			v.Parties = []domain.Party{p}
			break
		}
	}
	if key == "" {
		return v, false
	}
	var reqs []projections.EvidenceRequest
	for _, r := range v.Requests {
		if r.PartyKey == key {
			reqs = append(reqs, r)
		}
	}
	var evs []projections.EvidenceEntry
	for _, e := range v.Evidence {
		if e.PartyKey == key {
			evs = append(evs, e)
		}
	}
	v.Requests, v.Evidence = nonNil(reqs), nonNil(evs)
	v.Recommendation, v.History, v.Attestations = nil, nil, nil
	if v.Decision != nil {
		d := *v.Decision
		if d.Winner != key {
			d.Winner = ""
		}
		var shares []domain.Share
		for _, sh := range d.Shares {
			if sh.PartyKey == key {
				shares = append(shares, sh)
			}
		}
		d.Shares = shares
		d.Recommended, d.Overrode = "", false
		v.Decision = &d
	}
	return v, true
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (s *Server) conflictQueue(c echo.Context) error {
	caller := callerOf(c)
	f := projections.QueueFilter{Status: c.QueryParam("status")}
	if v := c.QueryParam("level"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3 {
			return &domain.Error{Code: domain.EINVALID, Message: "invalid query parameters", Fields: []domain.FieldError{
				{Field: "level", Code: domain.FieldOutOfRange, Message: "must be 1, 2 or 3"},
			}}
		}
		f.Level = n
	}
	if f.Status != "" && f.Status != "open" && f.Status != "decided" {
		return &domain.Error{Code: domain.EINVALID, Message: "invalid query parameters", Fields: []domain.FieldError{
			{Field: "status", Code: domain.FieldInvalid, Message: "must be open or decided"},
		}}
	}
	if caller.Actor.Role == domain.RolePartner {
		f.PartnerID = caller.Actor.PartnerID
	}
	csv, err := wantsCSV(c)
	if err != nil {
		return err
	}
	items := s.conflictItems(caller, f)
	if csv {
		return streamConflicts(c, items)
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

// conflictItems is the queue of f as caller may see each case.
func (s *Server) conflictItems(caller app.Caller, f projections.QueueFilter) []projections.ConflictView {
	now := s.app.Clock().Now()
	items := make([]projections.ConflictView, 0)
	for _, v := range s.app.Conflicts.Queue(f) {
		v, err := s.conflictFor(caller, v.ID)
		if err != nil {
			continue
		}
		v.History = nil
		v.Overdue = v.Status == "open" && now.After(v.DueAt)
		items = append(items, v)
	}
	return items
}

func conflictIDParam(c echo.Context) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return uuid.Nil, domain.Errorf(domain.ENOTFOUND, "conflict not found")
	}
	return id, nil
}

func (s *Server) respondConflict(c echo.Context, status int, id uuid.UUID) error {
	v, err := s.conflictFor(callerOf(c), id)
	if err != nil {
		return err
	}
	v.Overdue = v.Status == "open" && s.app.Clock().Now().After(v.DueAt)
	v.History = presentHistory(v.History)
	return c.JSON(status, v)
}

func (s *Server) getConflict(c echo.Context) error {
	id, err := conflictIDParam(c)
	if err != nil {
		return err
	}
	return s.respondConflict(c, http.StatusOK, id)
}

func (s *Server) openConflict(c echo.Context) error {
	var req openConflictRequest
	call, err := bindCall(c, &req)
	if err != nil {
		return err
	}
	id, err := s.app.OpenConflict(c.Request().Context(), call, req.Registrations, req.DirectOpportunities, req.Reason)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/conflicts/"+id.String())
	return s.respondConflict(c, http.StatusCreated, id)
}

// conflictCommand decodes req, runs the command on the conflict of the URL
// and answers with the conflict as the caller may see it.
func conflictCommand[Req any](s *Server, run func(c echo.Context, call app.Call, id uuid.UUID, req Req) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := conflictIDParam(c)
		if err != nil {
			return err
		}
		// A partner may act only on a conflict it can see.
		if _, err := s.conflictFor(callerOf(c), id); err != nil {
			return err
		}
		var req Req
		call, err := bindCall(c, &req)
		if err != nil {
			return err
		}
		if err := run(c, call, id, req); err != nil {
			return err
		}
		return s.respondConflict(c, http.StatusOK, id)
	}
}

func (s *Server) requestEvidence(c echo.Context) error {
	return conflictCommand(s, func(c echo.Context, call app.Call, id uuid.UUID, r evidenceRequestRequest) error {
		return s.app.RequestEvidence(c.Request().Context(), call, id, r.PartyKey, r.Request)
	})(c)
}

func (s *Server) submitEvidence(c echo.Context) error {
	return conflictCommand(s, func(c echo.Context, call app.Call, id uuid.UUID, r evidenceRequest) error {
		return s.app.SubmitEvidence(c.Request().Context(), call, id, r.PartyKey, r.Evidence)
	})(c)
}

func (s *Server) escalateConflict(c echo.Context) error {
	return conflictCommand(s, func(c echo.Context, call app.Call, id uuid.UUID, r reasonRequest) error {
		return s.app.EscalateConflict(c.Request().Context(), call, id, r.Reason)
	})(c)
}

func (s *Server) decideConflict(c echo.Context) error {
	return conflictCommand(s, func(c echo.Context, call app.Call, id uuid.UUID, r decideRequest) error {
		return s.app.DecideConflict(c.Request().Context(), call, id, domain.ConflictDecision{
			Outcome: r.Outcome, Winner: r.Winner, Shares: r.Shares, Rationale: r.Rationale, PolicyClause: r.PolicyClause,
		})
	})(c)
}
