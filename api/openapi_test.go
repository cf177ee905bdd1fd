package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/api"
)

// documentTypes are the attachment media types the document lists; their
// bodies are opaque bytes to the validator.
var documentTypes = []string{
	"application/pdf",
	"image/png",
	"image/jpeg",
	"image/gif",
	"message/rfc822",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation",
}

// anyUUID accepts a UUID of any version in its canonical textual form, as
// github.com/google/uuid writes it.
const anyUUID = `^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`

var (
	openAPIDoc    *openapi3.T
	openAPIRouter routers.Router
	openAPIErr    error
)

// loadOpenAPI parses and validates the embedded document and builds a
// router over it.
func loadOpenAPI() (*openapi3.T, routers.Router, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPIDocument)
	if err != nil {
		return nil, nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, nil, err
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, nil, err
	}
	return doc, router, nil
}

func init() {
	openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(anyUUID))
	// application/problem+json is decoded as JSON by kin-openapi already;
	// register it anyway so a future default change does not matter.
	openapi3filter.RegisterBodyDecoder("application/problem+json", openapi3filter.JSONBodyDecoder)
	for _, t := range documentTypes {
		openapi3filter.RegisterBodyDecoder(t, openapi3filter.FileBodyDecoder)
	}
	openAPIDoc, openAPIRouter, openAPIErr = loadOpenAPI()
	checkExchange = checkAgainstOpenAPI
}

// acceptAnyBearer stands in for the server's own authentication: the
// document only promises that a bearer token is required.
func acceptAnyBearer(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecuritySchemeName != "bearerAuth" {
		return errors.New("unknown security scheme " + in.SecuritySchemeName)
	}
	scheme, secret, ok := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
		return errors.New("no bearer token")
	}
	return nil
}

// checkAgainstOpenAPI validates one exchange the harness made: the route
// must be documented, the request must match it (unless the test sent it
// malformed on purpose) and the response must match it in status, headers
// and body.
func checkAgainstOpenAPI(tb testing.TB, req *http.Request, reqBody []byte, res *http.Response, resBody []byte) {
	tb.Helper()
	require.NoError(tb, openAPIErr, "the OpenAPI document is invalid")

	route, pathParams, err := openAPIRouter.FindRoute(req)
	if err != nil {
		// A deliberately unknown path or method must be refused as such.
		if res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusMethodNotAllowed {
			return
		}
		tb.Fatalf("openapi: %s %s (answered %d) is not in the document: %v", req.Method, req.URL.Path, res.StatusCode, err)
		return
	}

	ctx := context.Background()
	in := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: pathParams,
		Route:      route,
		Options: &openapi3filter.Options{
			AuthenticationFunc: acceptAnyBearer,
			MultiError:         true,
		},
	}
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(reqBody)), nil }
	switch res.StatusCode {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnauthorized, http.StatusUnsupportedMediaType:
		// Sent malformed (or unauthenticated) on purpose: only the answer
		// is checked.
	default:
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			// A path parameter outside its schema (a registration ID that is
			// not a UUID, an extension number that is not a number) cannot
			// name anything: the server answers 404 by design.
			//
			// A resource the caller may not see answers 404 before its body
			// is read, whatever the body (see notyours_test.go).
			if !(res.StatusCode == http.StatusNotFound && onlyErrorsIn(err, isPathParameterError, isBodyError)) {
				tb.Errorf("openapi: request %s %s (answered %d) does not match the document: %v\nbody: %.2000s",
					req.Method, req.URL.RequestURI(), res.StatusCode, err, reqBody)
			}
		}
	}

	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Body:                   io.NopCloser(bytes.NewReader(resBody)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		tb.Errorf("openapi: response %d to %s %s does not match the document: %v\nbody: %.2000s",
			res.StatusCode, req.Method, req.URL.RequestURI(), err, resBody)
	}
}

// onlyErrorsIn reports whether every error in err is of one of the kinds.
func onlyErrorsIn(err error, kinds ...func(*openapi3filter.RequestError) bool) bool {
	var multi openapi3.MultiError
	if errors.As(err, &multi) {
		for _, e := range multi {
			if !onlyErrorsIn(e, kinds...) {
				return false
			}
		}
		return len(multi) > 0
	}
	var re *openapi3filter.RequestError
	return errors.As(err, &re) && slices.ContainsFunc(kinds, func(k func(*openapi3filter.RequestError) bool) bool { return k(re) })
}

func isPathParameterError(re *openapi3filter.RequestError) bool {
	return re.Parameter != nil && re.Parameter.In == openapi3.ParameterInPath
}

func isBodyError(re *openapi3filter.RequestError) bool { return re.RequestBody != nil }

func TestOpenAPIDocumentIsValid(t *testing.T) {
	require.NoError(t, openAPIErr)
	require.Equal(t, "3.0.3", openAPIDoc.OpenAPI)
	require.Contains(t, openAPIDoc.Components.SecuritySchemes, "bearerAuth")
}

func TestOpenAPIServed(t *testing.T) {
	h := newHarness(t)
	status, body, hdr := h.do(t, "", http.MethodGet, "/v1/openapi.json", nil)
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.True(t, strings.HasPrefix(hdr.Get("Content-Type"), "application/json"), hdr.Get("Content-Type"))
	require.Equal(t, api.OpenAPIDocument, body)
	doc, err := openapi3.NewLoader().LoadFromData(body)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(t.Context()))
}

// Every route the server registers is documented, and every documented
// operation is served.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	require.NoError(t, openAPIErr)
	e, ok := api.NewServer(api.Config{}).Handler().(*echo.Echo)
	require.True(t, ok, "the server's handler is an *echo.Echo")

	methods := []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
		http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodConnect}
	var served []string
	for _, r := range e.Routes() {
		if !slices.Contains(methods, r.Method) || strings.HasSuffix(r.Path, "*") {
			continue // echo's own not-found and any routes
		}
		// An escaped colon ("…\\:batch") is a literal one (AIP-136 custom methods).
		segs := strings.Split(strings.ReplaceAll(r.Path, `\:`, ":"), "/")
		for i, s := range segs {
			if name, ok := strings.CutPrefix(s, ":"); ok {
				segs[i] = "{" + name + "}"
			}
		}
		served = append(served, r.Method+" "+strings.Join(segs, "/"))
	}
	var documented []string
	for path, item := range openAPIDoc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	sort.Strings(served)
	sort.Strings(documented)
	served = slices.Compact(served)
	require.NotEmpty(t, served)
	require.Equal(t, served, documented)
}

// The document's schemas describe real bodies: a sample problem decodes
// into api.Problem with every required member present.
func TestOpenAPIProblemSchema(t *testing.T) {
	require.NoError(t, openAPIErr)
	schema := openAPIDoc.Components.Schemas["Problem"].Value
	raw, err := json.Marshal(api.Problem{Type: "urn:dealreg:problem:invalid", Title: "Bad Request", Status: 400, Code: "invalid"})
	require.NoError(t, err)
	var v any
	require.NoError(t, json.Unmarshal(raw, &v))
	require.NoError(t, schema.VisitJSON(v))
}
