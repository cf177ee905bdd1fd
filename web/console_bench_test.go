package web_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// BenchmarkConsolePages times the console's pages over real HTTP on a
// ledger of 300 submitted registrations (a third approved) and a conflict
// case: go test -run '^$' -bench ConsolePages -benchtime 200x ./web/
func BenchmarkConsolePages(b *testing.B) {
	s, stop := newSite(b, b.TempDir())
	defer stop()
	for i := range 300 {
		partner := []string{"acme", "globex"}[i%2]
		s.registration(b, partner, fmt.Sprintf("Empresa %d Industrial", i), fmt.Sprintf("e%d.example", i), i%3 == 0)
	}
	cid, _, _ := s.conflictCase(b)
	c := s.client(b)
	c.signIn(s.user(b, domain.RoleChannelManager, "", "en"))
	for _, p := range []string{"/console", "/console/conflicts", "/console/conflicts/" + cid.String(), "/console/analytics", "/console/audit", "/console/partners", "/console/policies"} {
		b.Run(p, func(b *testing.B) {
			for b.Loop() {
				if pg := c.get(p); pg.Status != http.StatusOK {
					require.Equal(b, http.StatusOK, pg.Status, p)
				}
			}
		})
	}
}
