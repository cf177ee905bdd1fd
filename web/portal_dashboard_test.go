package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDashboard_CountsEveryRegistrationAndListsTheNewest: the dashboard's
// counts are of every registration of the partner (not of a first page of
// them), its list is the most recently changed ones only, and nothing of
// another partner shows.
func TestDashboard_CountsEveryRegistrationAndListsTheNewest(t *testing.T) {
	s := newTestSite(t)
	// Names no two of which the duplicate check confuses.
	names := strings.Fields("Quorvex Baltrim Zelnora Muvastik Prendolux Fywatch Kolbranet Traskimo Vendulix Hozmeric " +
		"Jarnvold Xilotech Plombaris Cretavent Ulmiroba Wexfordia Nibrastol Gorviltra Sampoleth Dravinko Lutzmaren Ekvanori Ropellun Tiskarvo")
	n := len(names)
	for i, name := range names {
		s.registration(t, "acme", name+" Holdings", strings.ToLower(name)+".example", i%3 == 0)
	}
	s.registration(t, "globex", "Theirs Only Corporation", "theirsonly.example", true)
	c := s.partnerClient(t, "acme", "en")
	pg := c.get("/portal")
	require.Equal(t, http.StatusOK, pg.Status)
	tiles := pg.Body[strings.Index(pg.Body, `class="tiles"`):]
	tiles = tiles[:strings.Index(tiles, "</ul>")]
	total := 0
	for _, part := range strings.Split(tiles, `<span class="n">`)[1:] {
		var k int
		_, err := fmt.Sscanf(part, "%d", &k)
		require.NoError(t, err)
		total += k
	}
	require.Equal(t, n, total, "the tiles count every registration of the partner")
	require.Equal(t, 20, strings.Count(pg.Body, `<tr><td><a href="/portal/registrations/`), "the list shows the 20 most recent")
	require.Contains(t, pg.Body, "Tiskarvo Holdings", "the newest is listed")
	require.NotContains(t, pg.Body, "Quorvex Holdings", "the oldest is not (the reports page has it)")
	require.NotContains(t, pg.Body, "Theirs Only")
}
