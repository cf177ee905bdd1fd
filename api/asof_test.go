package api_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/domain"
)

// Time travel: a registration asked ?position= or ?as_of= answers exactly
// what it answered at that moment, byte for byte, history included.
func TestRegistrationAsOf_AnswersAsItStoodThen(t *testing.T) {
	h := newHarness(t)
	type snapshot struct {
		body []byte
		pos  uint64
		at   time.Time
	}
	r := h.register(t, "acme", "Grupo Salinas", "gruposalinas.mx", http.StatusCreated)
	path := "/v1/registrations/" + r.ID.String()
	var snaps []snapshot
	take := func() {
		var got api.Registration
		body := h.mustDo(t, "acme", http.MethodGet, path, nil, http.StatusOK, &got)
		snaps = append(snaps, snapshot{body: body, pos: got.History[len(got.History)-1].Position, at: h.clock.Now()})
	}
	take() // cleared
	h.clock.Advance(time.Hour)
	h.mustDo(t, "manager", http.MethodPost, path+"/approve", nil, http.StatusOK, nil)
	take()
	h.clock.Advance(10 * domain.Day)
	h.mustDo(t, "acme", http.MethodPost, path+"/progress", map[string]string{"buying_stage": "proposal", "note": "demo"}, http.StatusOK, nil)
	take()
	h.clock.Advance(2 * domain.Day)
	h.mustDo(t, "acme", http.MethodPost, path+"/close", map[string]any{"outcome": "won", "final_value": map[string]string{"amount": "120000", "currency": "USD"}}, http.StatusOK, nil)
	take()
	h.clock.Advance(time.Hour)

	for i, s := range snaps {
		byPos := h.mustDo(t, "acme", http.MethodGet, path+"?position="+strconv.FormatUint(s.pos, 10), nil, http.StatusOK, nil)
		require.Equal(t, string(s.body), string(byPos), "snapshot %d by position", i)
		byTime := h.mustDo(t, "manager", http.MethodGet, path+"?as_of="+s.at.Format(time.RFC3339Nano), nil, http.StatusOK, nil)
		var a, b api.Registration
		require.NoError(t, jsonUnmarshal(s.body, &a))
		require.NoError(t, jsonUnmarshal(byTime, &b))
		require.Equal(t, a.Status, b.Status, "snapshot %d by time", i)
		require.Equal(t, len(a.History), len(b.History), "snapshot %d by time", i)
	}
	var first api.Registration
	require.NoError(t, jsonUnmarshal(snaps[0].body, &first))
	require.Equal(t, domain.StatusCleared, first.Status)

	// Before it existed it is not found, exactly as one that never did, and
	// another partner never sees it at any moment.
	before := t0.Add(-time.Hour).Format(time.RFC3339)
	probe := []string{"X-Request-Id", "probe"}
	status, missing, _ := h.do(t, "acme", http.MethodGet, "/v1/registrations/"+uuid.NewString()+"?as_of="+before, nil, probe...)
	require.Equal(t, http.StatusNotFound, status)
	status, early, _ := h.do(t, "acme", http.MethodGet, path+"?as_of="+before, nil, probe...)
	require.Equal(t, http.StatusNotFound, status)
	require.Equal(t, string(missing), string(early))
	status, other, _ := h.do(t, "globex", http.MethodGet, path+"?position="+strconv.FormatUint(snaps[1].pos, 10), nil, probe...)
	require.Equal(t, http.StatusNotFound, status)
	require.Equal(t, string(missing), string(other))

	p := h.problem(t, "acme", http.MethodGet, path+"?as_of=yesterday", nil, http.StatusBadRequest, domain.EINVALID)
	require.Equal(t, "as_of", p.Errors[0].Field)
	p = h.problem(t, "acme", http.MethodGet, path+"?as_of="+before+"&position=3", nil, http.StatusBadRequest, domain.EINVALID)
	require.Equal(t, "as_of", p.Errors[0].Field)
	h.problem(t, "sales", http.MethodGet, path+"?position=3", nil, http.StatusForbidden, domain.EFORBIDDEN)
}

// Who held an account over time: every registration of the same company
// (by normalised name or registrable domain) with its window, now or as of
// a past moment; only vendor staff may ask, since it names the holders.
func TestAccountOwnership_OverTime(t *testing.T) {
	h := newHarness(t)
	first := h.register(t, "acme", "Cervecería Cuauhtémoc Moctezuma, S.A. de C.V.", "www.heineken.com.mx", http.StatusCreated)
	h.clock.Advance(domain.Day)
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations/"+first.ID.String()+"/withdraw", map[string]string{"reason": "lost the contact"}, http.StatusOK, nil)
	withdrawnAt := h.clock.Now()
	h.clock.Advance(3 * domain.Day)
	second := h.register(t, "globex", "Cerveceria Cuauhtemoc Moctezuma", "heineken.com.mx", http.StatusCreated)
	h.register(t, "acme", "Cementos Moctezuma", "cmoctezuma.com.mx", http.StatusCreated) // another company

	type answer struct {
		Claims []struct {
			ID        string    `json:"id"`
			PartnerID string    `json:"partner_id"`
			Status    string    `json:"status"`
			MatchedBy string    `json:"matched_by"`
			HeldFrom  time.Time `json:"held_from"`
			HeldUntil time.Time `json:"held_until"`
		} `json:"claims"`
		HeldAt []string `json:"held_at"`
	}
	var now answer
	h.mustDo(t, "auditor", http.MethodGet, "/v1/accounts/ownership?name=Cervecer%C3%ADa+Cuauht%C3%A9moc+Moctezuma", nil, http.StatusOK, &now)
	require.Len(t, now.Claims, 2)
	require.Equal(t, first.ID.String(), now.Claims[0].ID)
	require.Equal(t, "withdrawn", now.Claims[0].Status)
	require.Equal(t, withdrawnAt, now.Claims[0].HeldUntil.UTC())
	require.Equal(t, second.ID.String(), now.Claims[1].ID)
	require.Equal(t, "name", now.Claims[1].MatchedBy)
	require.True(t, now.Claims[1].HeldUntil.IsZero())
	require.Equal(t, []string{second.ID.String()}, now.HeldAt)

	// By domain, as of the day after the first submission: only acme's,
	// and it still held the account then.
	var then answer
	h.mustDo(t, "manager", http.MethodGet, "/v1/accounts/ownership?domain=https://heineken.com.mx/&as_of="+t0.Add(time.Minute).Format(time.RFC3339), nil, http.StatusOK, &then)
	require.Len(t, then.Claims, 1)
	require.Equal(t, "acme", then.Claims[0].PartnerID)
	require.Equal(t, "cleared", then.Claims[0].Status)
	require.Equal(t, "domain", then.Claims[0].MatchedBy)
	require.Equal(t, []string{first.ID.String()}, then.HeldAt)

	h.problem(t, "acme", http.MethodGet, "/v1/accounts/ownership?name=Cerveceria+Cuauhtemoc", nil, http.StatusForbidden, domain.EFORBIDDEN)
	p := h.problem(t, "auditor", http.MethodGet, "/v1/accounts/ownership", nil, http.StatusBadRequest, domain.EINVALID)
	require.Equal(t, "name", p.Errors[0].Field)
}
