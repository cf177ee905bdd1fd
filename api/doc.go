// Package api is dealreg's HTTP interface: echo v4 behind an api.Server with
// Open and Close, JSON under /v1, and every error as RFC 9457 problem+json
// with a stable code. Nothing outside this package imports echo.
package api
