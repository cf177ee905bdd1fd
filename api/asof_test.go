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
