package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
)

// TestAuthenticate_TokenFromAnotherProcess creates tokens through a second
// handle on the ledger file, as `dealreg token create` does while serve
// runs, and uses each at once: the first request is already accepted.
func TestAuthenticate_TokenFromAnotherProcess(t *testing.T) {
	h := newHarness(t)
	other, err := eventstore.OpenSQLite(h.store.Path(), eventstore.Options{Clock: h.clock})
	require.NoError(t, err)
	t.Cleanup(func() { other.Close() })
	console := app.New(app.Config{Store: other, Clock: h.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx := context.Background()
	require.NoError(t, console.Start(ctx, false))
	t.Cleanup(console.Stop)

	for i := range 30 {
		name := fmt.Sprintf("console-%d", i)
		tok, err := console.CreateToken(ctx, adminCall, name, domain.RoleAuditor, "")
		require.NoError(t, err)
		h.tokens[name] = tok.Secret
		status, body, _ := h.do(t, name, http.MethodGet, "/v1/partners", nil)
		require.Equal(t, http.StatusOK, status, "token %d, first request: %s", i, body)
	}

	// An unknown token is still a 401.
	h.tokens["unknown"] = "drt_" + "A0000000000000000000000000000000000000000000"[:43]
	status, _, _ := h.do(t, "unknown", http.MethodGet, "/v1/partners", nil)
	require.Equal(t, http.StatusUnauthorized, status)
}
