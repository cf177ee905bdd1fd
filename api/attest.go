package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dealreg/dealreg/domain"
)

type attestationRequest struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Language string `json:"language"`
}

// requestAttestation answers POST /v1/conflicts/{id}/attestations: a
// decider sends the prospect's contact of an open partner-vs-partner case
// a signed, expiring, single-use link (domain/conflict_attestation.go).
// The answer carries the link's token once; the ledger keeps its hash.
// When the server sends mail, the outbox also e-mails the link to the
// contact (app/notify.go), in the contact's language if given.
func (s *Server) requestAttestation(c echo.Context) error {
	id, err := conflictIDParam(c)
	if err != nil {
		return err
	}
	if _, err := s.conflictFor(callerOf(c), id); err != nil {
		return err
	}
	var req attestationRequest
	call, err := bindCall(c, &req)
	if err != nil {
		return err
	}
	link, err := s.app.RequestAttestation(c.Request().Context(), call, id, domain.AttestationContact{Name: req.Name, Email: req.Email, Language: req.Language})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, link)
}
