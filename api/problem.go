package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/dealreg/dealreg/domain"
	"github.com/labstack/echo/v4"
)

// Problem is an RFC 9457 problem details object, extended with dealreg's
// stable error code and per-field errors.
//
// Instance names the occurrence, "urn:dealreg:request:<X-Request-Id>", the
// key of the server's log line for the request. It never echoes the path:
// a problem depends on what was asked, not on which ID was asked about, so
// that a resource the caller may not see answers exactly as one that does
// not exist.
type Problem struct {
	Type     string              `json:"type"`
	Title    string              `json:"title"`
	Status   int                 `json:"status"`
	Detail   string              `json:"detail,omitempty"`
	Instance string              `json:"instance,omitempty"`
	Code     string              `json:"code"`
	Errors   []domain.FieldError `json:"errors,omitempty"`
}

// statusByCode is the one table mapping domain error codes to HTTP statuses.
var statusByCode = map[string]int{
	domain.EINVALID:      http.StatusBadRequest,
	domain.EUNAUTHORIZED: http.StatusUnauthorized,
	domain.EFORBIDDEN:    http.StatusForbidden,
	domain.ENOTFOUND:     http.StatusNotFound,
	domain.ECONFLICT:     http.StatusConflict,
	domain.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	domain.EUNAVAILABLE:  http.StatusServiceUnavailable,
	domain.ENOTIMPL:      http.StatusNotImplemented,
	domain.EINTERNAL:     http.StatusInternalServerError,
	domain.ENOTELIGIBLE:  http.StatusForbidden,
	domain.ESUSPENDED:    http.StatusForbidden,
}

// codeByStatus maps statuses that echo itself produces (unknown route,
// wrong method, body too large) back to codes.
var codeByStatus = map[int]string{
	http.StatusBadRequest:            domain.EINVALID,
	http.StatusUnauthorized:          domain.EUNAUTHORIZED,
	http.StatusForbidden:             domain.EFORBIDDEN,
	http.StatusNotFound:              domain.ENOTFOUND,
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusRequestTimeout:        "request_timeout",
	http.StatusRequestEntityTooLarge: domain.ETOOLARGE,
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusServiceUnavailable:    domain.EUNAVAILABLE,
}

const problemContentType = "application/problem+json"

// problemFor turns any error into the problem the client sees. Internal
// errors are logged in full and shown only as "internal error".
func problemFor(err error, logger *slog.Logger, path, requestID string) Problem {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code, ok := codeByStatus[he.Code]
		if !ok {
			code = domain.EINTERNAL
		}
		detail := http.StatusText(he.Code)
		if msg, ok := he.Message.(string); ok {
			detail = msg
		}
		return newProblem(he.Code, code, detail, nil, requestID)
	}
	code := domain.ErrorCode(err)
	status, ok := statusByCode[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if code == domain.EINTERNAL {
		logger.Error("internal error", "path", path, "err", err)
	}
	return newProblem(status, code, domain.ErrorMessage(err), domain.ErrorFields(err), requestID)
}

func newProblem(status int, code, detail string, fields []domain.FieldError, requestID string) Problem {
	instance := ""
	if requestID != "" {
		instance = "urn:dealreg:request:" + requestID
	}
	return Problem{
		Type:     "urn:dealreg:problem:" + code,
		Title:    http.StatusText(status),
		Status:   status,
		Detail:   detail,
		Instance: instance,
		Code:     code,
		Errors:   fields,
	}
}

func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p := problemFor(err, s.logger, c.Request().URL.Path, c.Response().Header().Get(echo.HeaderXRequestID))
	c.Response().Header().Set(echo.HeaderContentType, problemContentType)
	if c.Request().Method == http.MethodHead {
		c.NoContent(p.Status)
		return
	}
	if err := c.JSON(p.Status, p); err != nil {
		s.logger.Error("write problem", "err", err)
	}
}
