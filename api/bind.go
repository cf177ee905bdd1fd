package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
)

// MaxJSONBody is the largest JSON request body accepted.
const MaxJSONBody = 1 << 20

// MaxIdempotencyKeyLen bounds the Idempotency-Key header.
const MaxIdempotencyKeyLen = 255

// readBody reads the whole request body, at most MaxJSONBody bytes.
func readBody(c echo.Context) ([]byte, error) {
	r := http.MaxBytesReader(c.Response(), c.Request().Body, MaxJSONBody)
	body, err := io.ReadAll(r)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, domain.Errorf(domain.ETOOLARGE, "the request body is larger than %d bytes", MaxJSONBody)
	}
	if err != nil {
		return nil, domain.Errorf(domain.EINVALID, "the request body could not be read")
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := requireJSON(c.Request().Header.Get(echo.HeaderContentType)); err != nil {
			return nil, err
		}
	}
	return body, nil
}

// requireJSON refuses a body that is declared as anything but JSON (a
// missing Content-Type is taken as JSON), or as JSON in another encoding
// than UTF-8 (RFC 8259 §8.1): a declared charset must be utf-8.
func requireJSON(contentType string) error {
	if contentType == "" {
		return nil
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || !(mt == "application/json" || mt == "application/merge-patch+json" || strings.HasSuffix(mt, "+json")) {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "send the body as application/json")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "send JSON in UTF-8: charset=utf-8 or none")
	}
	return nil
}

// decodeJSON decodes body into v strictly: text that decodes faithfully
// (checkJSONText), one JSON object, no unknown fields, every type error
// reported against its field. An empty body decodes as {} when emptyOK.
// Every JSON request body goes through it.
func decodeJSON(body []byte, v any, emptyOK bool) error {
	if len(bytes.TrimSpace(body)) == 0 {
		if emptyOK {
			return nil
		}
		return invalidBody("", "the request body is empty; send a JSON object")
	}
	if err := checkJSONText(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return describeJSONError(err)
	}
	if dec.More() {
		return invalidBody("", "the request body holds more than one JSON value")
	}
	return nil
}

func invalidBody(field, msg string) error {
	e := &domain.Error{Code: domain.EINVALID, Message: "the request body is invalid"}
	if field == "" {
		e.Message = msg
		return e
	}
	e.Fields = []domain.FieldError{{Field: field, Code: domain.FieldInvalid, Message: msg}}
	return e
}

// describeJSONError turns a decoding error into a field-level problem.
func describeJSONError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return invalidBody("", fmt.Sprintf("the request body is not valid JSON (at byte %d)", syntax.Offset))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return invalidBody("", "the request body must be a JSON object")
		}
		return invalidBody(field, fmt.Sprintf("must be a JSON %s", jsonKind(typ.Type.Kind().String())))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return invalidBody("", "the request body is truncated JSON")
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return invalidBody(strings.Trim(f, `"`), "is not a known field")
	}
	// Errors from a field's own UnmarshalJSON (decimal amounts, times,
	// UUIDs) carry no field name; say what failed.
	return invalidBody("", "the request body has an invalid value: "+trimJSONPrefix(msg))
}

func trimJSONPrefix(s string) string {
	s = strings.TrimPrefix(s, "json: ")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "map", "struct":
		return "object"
	}
	return "number"
}

// callFor builds the app.Call of a write request: its caller, its
// Idempotency-Key (validated) and the fingerprint of what it asks.
func callFor(c echo.Context, body []byte) (app.Call, error) {
	call := app.Call{Caller: callerOf(c), CorrelationID: c.Response().Header().Get(echo.HeaderXRequestID)}
	key := c.Request().Header.Get("Idempotency-Key")
	if key == "" {
		return call, nil
	}
	if len(key) > MaxIdempotencyKeyLen || strings.IndexFunc(key, func(r rune) bool { return r < '!' || r > '~' }) >= 0 {
		return call, &domain.Error{Code: domain.EINVALID, Message: "the Idempotency-Key header is invalid", Fields: []domain.FieldError{
			{Field: "Idempotency-Key", Code: domain.FieldInvalid, Message: fmt.Sprintf("must be 1-%d printable ASCII characters", MaxIdempotencyKeyLen)},
		}}
	}
	call.IdempotencyKey = key
	call.RequestHash = app.HashRequest(c.Request().Method+" "+c.Request().URL.Path, body)
	return call, nil
}

// bindCall reads and strictly decodes a JSON body into v and builds the
// call of the write request.
func bindCall(c echo.Context, v any) (app.Call, error) { return bind(c, v, false) }

// bindOptionalCall is bindCall for a command whose body may be empty (v
// keeps its zero value).
func bindOptionalCall(c echo.Context, v any) (app.Call, error) { return bind(c, v, true) }

func bind(c echo.Context, v any, allowEmpty bool) (app.Call, error) {
	body, err := readBody(c)
	if err != nil {
		return app.Call{}, err
	}
	if err := decodeJSON(body, v, allowEmpty); err != nil {
		return app.Call{}, err
	}
	return callFor(c, body)
}
