package main

import (
	"context"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/eventstore"
)

// The demo prints how to sign in, and the users it prints can.
func TestDemo_PortalUsers(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCLI(t, "", "demo", "--data", dir)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "open http://127.0.0.1:8080/")
	m := regexp.MustCompile(`\(password ([a-z-]+)\)`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	store, err := eventstore.OpenSQLite(ledgerPath(dir), eventstore.Options{})
	require.NoError(t, err)
	defer store.Close()
	svc := app.New(app.Config{Store: store, DirectoryOnly: true})
	require.NoError(t, svc.Start(context.Background(), false))
	defer svc.Stop()
	for _, u := range demoUsers {
		require.Contains(t, out, u.email)
		s, err := svc.SignIn(context.Background(), u.email, m[1])
		require.NoError(t, err, u.email)
		require.Equal(t, u.role, s.User.Role)
		require.Equal(t, u.partner, s.User.PartnerID)
	}
}
