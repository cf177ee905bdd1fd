package domain

import (
	"errors"
	"fmt"
)

// Error codes are stable strings clients may switch on. They are mapped to
// HTTP statuses in one table in package api.
const (
	ECONFLICT     = "conflict"     // state or revision conflict, retry after re-reading
	EINTERNAL     = "internal"     // a bug or an unexpected failure; details are logged, not shown
	EINVALID      = "invalid"      // the input failed validation; see Fields
	ENOTFOUND     = "not_found"    // the thing does not exist or is not visible to the caller
	EUNAUTHORIZED = "unauthorized" // no valid credentials
	EFORBIDDEN    = "forbidden"    // valid credentials, not allowed
	ETOOLARGE     = "too_large"    // the request or a field is over its size limit
	EUNAVAILABLE  = "unavailable"  // the service is shutting down or its storage cannot accept writes
	ENOTIMPL      = "not_implemented"
)

// Error is a domain error: a stable code, a message safe to show to the user,
// and optional per-field messages for validation failures.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
}

// FieldError names one failing input field and why it failed.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("dealreg error: code=%s message=%s", e.Code, e.Message)
}

// Errorf is a helper returning an *Error with the given code and formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or one of
// the store sentinels' codes, falling back to EINTERNAL. A nil err has no code.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var wrong *WrongExpectedRevisionError
	switch {
	case errors.As(err, &wrong):
		return ECONFLICT
	case errors.Is(err, ErrStreamNotFound):
		return ENOTFOUND
	case errors.Is(err, ErrClosed), errors.Is(err, ErrStorageFull):
		return EUNAVAILABLE
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err. Internal errors get a
// generic message so that no implementation detail leaks to clients.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	switch ErrorCode(err) {
	case ECONFLICT, ENOTFOUND, EUNAVAILABLE:
		return err.Error()
	}
	return "internal error"
}

// ErrorFields returns the field errors carried by err, if any.
func ErrorFields(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}
