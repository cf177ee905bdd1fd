package api

import (
	"net/http"
	"strconv"

	"github.com/dealreg/dealreg/domain"
	"github.com/labstack/echo/v4"
)

// Ledger paging limits for GET /v1/ledger/events.
const (
	DefaultLedgerPage = 100
	MaxLedgerPage     = 1000
)

// LedgerPage is one page of the global log, for auditors replaying history.
type LedgerPage struct {
	Events []domain.RecordedEvent `json:"events"`
	// Next is the position to pass as from to continue after this page.
	Next uint64 `json:"next"`
}

func (s *Server) healthz(c echo.Context) error {
	if _, err := s.store.ReadAll(c.Request().Context(), domain.ReadAllOptions{Direction: domain.Backwards, FromEnd: true, Count: 1}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) ledgerEvents(c echo.Context) error {
	// The whole ledger names every partner: vendor staff and auditors only.
	if err := requireRole(c, "read the ledger", domain.RoleAuditor, domain.RoleAdmin,
		domain.RoleChannelManager, domain.RoleChannelDirector, domain.RoleExecutive); err != nil {
		return err
	}
	var fields []domain.FieldError
	from, limit := uint64(0), DefaultLedgerPage
	if v := c.QueryParam("from"); v != "" {
		n, err := strconv.ParseUint(v, 10, 63)
		if err != nil {
			fields = append(fields, domain.FieldError{Field: "from", Code: "invalid", Message: "from must be a non-negative integer position"})
		}
		from = n
	}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLedgerPage {
			fields = append(fields, domain.FieldError{Field: "limit", Code: "out_of_range", Message: "limit must be an integer from 1 to " + strconv.Itoa(MaxLedgerPage)})
		}
		limit = n
	}
	if fields != nil {
		return &domain.Error{Code: domain.EINVALID, Message: "invalid query parameters", Fields: fields}
	}
	events, err := s.store.ReadAll(c.Request().Context(), domain.ReadAllOptions{From: from, Count: limit})
	if err != nil {
		return err
	}
	page := LedgerPage{Events: events, Next: from}
	if page.Events == nil {
		page.Events = []domain.RecordedEvent{}
	}
	if n := len(events); n > 0 {
		page.Next = events[n-1].Position + 1
	}
	return c.JSON(http.StatusOK, page)
}
