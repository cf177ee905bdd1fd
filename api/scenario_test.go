package api_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

func (h *harness) register(tb testing.TB, who, company, domainName string, status int, header ...string) api.Registration {
	tb.Helper()
	var r api.Registration
	h.mustDo(tb, who, http.MethodPost, "/v1/registrations", map[string]any{
		"type": "opportunity", "details": h.details(company, domainName), "submit": true,
	}, status, &r, header...)
	return r
}

func (h *harness) get(tb testing.TB, who string, id uuid.UUID) api.Registration {
	tb.Helper()
	var r api.Registration
	h.mustDo(tb, who, http.MethodGet, "/v1/registrations/"+id.String(), nil, http.StatusOK, &r)
	return r
}

func historyEntry(tb testing.TB, r api.Registration, typ string) projections.HistoryEntry {
	tb.Helper()
	for _, e := range r.History {
		if e.Type == typ {
			return e
		}
	}
	tb.Fatalf("no %s in the history of %s", typ, r.ID)
	return projections.HistoryEntry{}
}

// The seed's first story, end to end: partner A registers first; partner B,
// registering the same account later, is told it is already registered and
// nothing more; approval grants 90 days under policy v1 from the approval's
// recorded time; an extension moves the end; past the end the registration
// expires and the account is free again.
func TestScenario_FirstToRegisterLifecycle(t *testing.T) {
	h := newHarness(t)

	a := h.register(t, "acme", "Empresa XYZ S.A. de C.V.", "xyz.example", http.StatusCreated)
	require.Equal(t, domain.StatusCleared, a.Status)
	require.Equal(t, domain.VerdictClear, a.Verdict)
	require.Empty(t, a.Notice)

	h.clock.Advance(time.Hour)
	rawB := h.mustDo(t, "globex", http.MethodPost, "/v1/registrations", map[string]any{
		"type": "opportunity", "details": h.details("EMPRESA XYZ", "www.xyz.example"), "submit": true,
	}, http.StatusCreated, nil)
	var b api.Registration
	require.NoError(t, jsonUnmarshal(rawB, &b))
	require.Equal(t, domain.StatusDuplicate, b.Status)
	require.Equal(t, "This opportunity is already registered. Your registration cannot proceed.", b.Notice)
	require.Nil(t, b.Finding, "a partner never sees the finding")
	require.Nil(t, b.DuplicateOf)
	for _, leak := range []string{a.ID.String(), "acme", "Acme"} {
		require.NotContains(t, string(rawB), leak, "the duplicate notice must not reveal who holds the claim")
	}
	rawHistory := h.mustDo(t, "globex", http.MethodGet, "/v1/registrations/"+b.ID.String(), nil, http.StatusOK, nil)
	require.NotContains(t, string(rawHistory), a.ID.String(), "nor may its history")
	require.NotContains(t, string(rawHistory), "acme")

	// Reviewers see what the check found.
	staff := h.get(t, "manager", b.ID)
	require.NotNil(t, staff.Finding)
	require.Equal(t, []uuid.UUID{a.ID}, staff.Finding.Matches)

	// Approval: 90 days from the approval's recorded time, policy v1.
	h.clock.Advance(26 * time.Hour)
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+a.ID.String()+"/approve", nil, http.StatusOK, nil)
	a = h.get(t, "acme", a.ID)
	require.Equal(t, domain.StatusActive, a.Status)
	approved := historyEntry(t, a, "RegistrationApproved")
	require.Equal(t, approved.RecordedAt.Add(90*domain.Day), a.ProtectionEnd)
	require.Equal(t, 1, a.Terms.PolicyVersion)
	require.Equal(t, 1, a.PolicyVersion)
	require.Equal(t, 2, a.ExtensionsLeft)

	// An extension moves the end by 30 days.
	h.clock.Advance(80 * domain.Day)
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations/"+a.ID.String()+"/extensions", map[string]string{"reason": "budget moved to Q3"}, http.StatusOK, nil)
	h.problem(t, "manager", http.MethodPost, "/v1/registrations/"+a.ID.String()+"/extensions/2/grant", nil, http.StatusNotFound, domain.ENOTFOUND)
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+a.ID.String()+"/extensions/1/grant", nil, http.StatusOK, nil)
	a = h.get(t, "acme", a.ID)
	end := approved.RecordedAt.Add(120 * domain.Day)
	require.Equal(t, end, a.ProtectionEnd)
	require.Equal(t, 1, a.ExtensionsGranted)

	// Before the end, the scheduler reminds but does not expire.
	n, err := h.app.RunDue(t.Context(), h.clock.Now().Add(35*domain.Day))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, domain.StatusActive, h.get(t, "acme", a.ID).Status)
	historyEntry(t, h.get(t, "acme", a.ID), "RegistrationExpiryReminderSent")

	// Past the end the registration expires; running again changes nothing.
	h.clock.Set(end.Add(time.Minute))
	n, err = h.app.RunDue(t.Context(), h.clock.Now())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	head := h.eventCount()
	n, err = h.app.RunDue(t.Context(), h.clock.Now())
	require.NoError(t, err)
	require.Zero(t, n)
	require.Equal(t, head, h.eventCount(), "re-running the scheduler appends nothing")
	require.Equal(t, domain.StatusExpired, h.get(t, "acme", a.ID).Status)

	// The account is free again.
	again := h.register(t, "globex", "Empresa XYZ", "xyz.example", http.StatusCreated)
	require.Equal(t, domain.StatusCleared, again.Status)
}

// Ledger order decides "first" even when two partners submit at once:
// exactly one of them is clear.
func TestScenario_SimultaneousSubmissions(t *testing.T) {
	h := newHarness(t)
	var wg sync.WaitGroup
	results := make([]api.Registration, 2)
	for i, who := range []string{"acme", "globex"} {
		wg.Go(func() { results[i] = h.register(t, who, "Initech LLC", "initech.example", http.StatusCreated) })
	}
	wg.Wait()
	statuses := []domain.Status{results[0].Status, results[1].Status}
	require.ElementsMatch(t, []domain.Status{domain.StatusCleared, domain.StatusDuplicate}, statuses)
	first, second := results[0], results[1]
	if first.Status != domain.StatusCleared {
		first, second = second, first
	}
	require.Less(t, first.SubmittedPosition, second.SubmittedPosition, "the clear one was recorded first")
}

func TestScenario_RejectionCarriesItsReason(t *testing.T) {
	h := newHarness(t)
	r := h.register(t, "acme", "Umbrella Corp", "umbrella.example", http.StatusCreated)
	p := h.problem(t, "manager", http.MethodPost, "/v1/registrations/"+r.ID.String()+"/reject", map[string]string{"reason": "bogus"}, http.StatusBadRequest, domain.EINVALID)
	require.NotEmpty(t, p.Errors)
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+r.ID.String()+"/reject", map[string]string{
		"reason": "relationship_not_proven", "explanation": "No evidence of a meeting with the buyer.",
		"guidance": "Attach the meeting confirmation and resubmit as a new registration.",
	}, http.StatusOK, nil)
	got := h.get(t, "acme", r.ID)
	require.Equal(t, domain.StatusRejected, got.Status)
	require.Equal(t, domain.RejectRelationshipNotProven, got.RejectReason)
	require.Equal(t, "No evidence of a meeting with the buyer.", got.RejectExplanation)
	require.Contains(t, got.RejectGuidance, "meeting confirmation")
	e := historyEntry(t, got, "RegistrationRejected")
	require.Equal(t, domain.RoleChannelManager, e.Role)
	require.Equal(t, "manager", e.ActorName)
}

func TestScenario_PartnersSeeOnlyTheirOwn(t *testing.T) {
	h := newHarness(t)
	a := h.register(t, "acme", "Hooli", "hooli.example", http.StatusCreated)
	path := "/v1/registrations/" + a.ID.String()
	h.problem(t, "globex", http.MethodGet, path, nil, http.StatusNotFound, domain.ENOTFOUND)
	h.problem(t, "globex", http.MethodPost, path+"/withdraw", nil, http.StatusNotFound, domain.ENOTFOUND)
	h.problem(t, "globex", http.MethodPatch, path, map[string]any{"details": map[string]any{}}, http.StatusNotFound, domain.ENOTFOUND)
	h.problem(t, "globex", http.MethodGet, path+"/attachments/"+strings.Repeat("a", 64), nil, http.StatusNotFound, domain.ENOTFOUND)
	// The owner may not approve its own registration; an auditor writes nothing.
	h.problem(t, "acme", http.MethodPost, path+"/approve", nil, http.StatusForbidden, domain.EFORBIDDEN)
	h.problem(t, "auditor", http.MethodPost, path+"/approve", nil, http.StatusForbidden, domain.EFORBIDDEN)
	h.problem(t, "auditor", http.MethodPost, "/v1/registrations", map[string]any{"type": "opportunity", "details": h.details("X", "x.example")}, http.StatusForbidden, domain.EFORBIDDEN)
	h.problem(t, "sales", http.MethodGet, path, nil, http.StatusForbidden, domain.EFORBIDDEN)

	var list api.RegistrationList
	h.mustDo(t, "globex", http.MethodGet, "/v1/registrations", nil, http.StatusOK, &list)
	require.Empty(t, list.Items)
	h.mustDo(t, "globex", http.MethodGet, "/v1/registrations?partner=acme", nil, http.StatusOK, &list)
	require.Empty(t, list.Items, "a partner filter naming another partner finds nothing")
	h.mustDo(t, "auditor", http.MethodGet, "/v1/registrations?partner=acme", nil, http.StatusOK, &list)
	require.Len(t, list.Items, 1)
	require.Equal(t, a.ID, h.get(t, "auditor", a.ID).ID)

	// Unauthenticated or unknown tokens get 401.
	h.problem(t, "", http.MethodGet, "/v1/registrations", nil, http.StatusUnauthorized, domain.EUNAUTHORIZED)
	h.tokens["forged"] = "drt_" + strings.Repeat("A", 43)
	h.problem(t, "forged", http.MethodGet, "/v1/registrations", nil, http.StatusUnauthorized, domain.EUNAUTHORIZED)
	// Partners cannot read the raw ledger.
	h.problem(t, "acme", http.MethodGet, "/v1/ledger/events", nil, http.StatusForbidden, domain.EFORBIDDEN)
}

func TestScenario_IdempotentSubmit(t *testing.T) {
	h := newHarness(t)
	key := []string{"Idempotency-Key", "submit-8f1c"}
	first := h.register(t, "acme", "Vandelay Industries", "vandelay.example", http.StatusCreated, key...)
	head := h.eventCount()
	again := h.register(t, "acme", "Vandelay Industries", "vandelay.example", http.StatusCreated, key...)
	require.Equal(t, first.ID, again.ID)
	require.Equal(t, head, h.eventCount(), "a retry appends nothing")

	var list api.RegistrationList
	h.mustDo(t, "acme", http.MethodGet, "/v1/registrations", nil, http.StatusOK, &list)
	require.Len(t, list.Items, 1)

	// The same key for another request is refused.
	h.problem(t, "acme", http.MethodPost, "/v1/registrations", map[string]any{
		"type": "opportunity", "details": h.details("Other Co", "other.example"), "submit": true,
	}, http.StatusConflict, domain.ECONFLICT, key...)
	// Keys belong to their caller: another partner's identical key is its own.
	other := h.register(t, "globex", "Kramerica", "kramerica.example", http.StatusCreated, key...)
	require.NotEqual(t, first.ID, other.ID)

	// Concurrent retries of one request create one registration.
	var wg sync.WaitGroup
	ids := make([]uuid.UUID, 4)
	for i := range ids {
		wg.Go(func() {
			ids[i] = h.register(t, "acme", "Pendant Publishing", "pendant.example", http.StatusCreated, "Idempotency-Key", "concurrent-1").ID
		})
	}
	wg.Wait()
	for _, id := range ids {
		require.Equal(t, ids[0], id)
	}
}

// A territory grant: the holder is covered; another partner registering an
// account in it goes to a reviewer.
func TestScenario_TerritoryGrant(t *testing.T) {
	h := newHarness(t)
	grant := map[string]any{"country": "MX", "region": "Northeast", "vertical": "Healthcare",
		"valid_from": t0.Add(-domain.Day), "valid_to": t0.Add(365 * domain.Day)}
	h.problem(t, "manager", http.MethodPost, "/v1/partners/acme/grants", grant, http.StatusForbidden, domain.EFORBIDDEN)
	h.problem(t, "director", http.MethodPost, "/v1/partners/nobody/grants", grant, http.StatusBadRequest, domain.EINVALID)
	var g projections.GrantView
	h.mustDo(t, "director", http.MethodPost, "/v1/partners/acme/grants", grant, http.StatusCreated, &g)
	var p projections.PartnerView
	h.mustDo(t, "acme", http.MethodGet, "/v1/partners/acme", nil, http.StatusOK, &p)
	require.Len(t, p.Grants, 1)
	h.problem(t, "globex", http.MethodGet, "/v1/partners/acme", nil, http.StatusNotFound, domain.ENOTFOUND)

	own := h.register(t, "acme", "Hospital San Ángel", "hsa.example", http.StatusCreated)
	require.Equal(t, domain.StatusCleared, own.Status)
	require.Equal(t, g.ID, h.get(t, "manager", own.ID).Finding.CoveredByGrant)

	other := h.register(t, "globex", "Clínica del Norte", "cdn.example", http.StatusCreated)
	require.Equal(t, domain.StatusPossibleDuplicate, other.Status)
	require.Equal(t, "The account may already be claimed. A channel manager will review your registration.", other.Notice)
	require.Equal(t, []uuid.UUID{g.ID}, h.get(t, "manager", other.ID).Finding.GrantConflicts)
}

// A territory grant revoked: the roles that grant revoke, with a reason,
// once; from then on another partner's registration in it is clear.
func TestScenario_TerritoryGrantRevoked(t *testing.T) {
	h := newHarness(t)
	grant := map[string]any{"country": "MX", "region": "Northeast", "vertical": "Healthcare",
		"valid_from": t0.Add(-domain.Day), "valid_to": t0.Add(365 * domain.Day)}
	var g projections.GrantView
	h.mustDo(t, "director", http.MethodPost, "/v1/partners/acme/grants", grant, http.StatusCreated, &g)
	revoke := "/v1/partners/acme/grants/" + g.ID.String() + "/revoke"
	reason := map[string]any{"reason": "the contract ended early"}
	for _, who := range []string{"manager", "acme", "globex"} {
		h.problem(t, who, http.MethodPost, revoke, reason, http.StatusForbidden, domain.EFORBIDDEN)
	}
	p := h.problem(t, "director", http.MethodPost, revoke, map[string]any{"reason": " "}, http.StatusBadRequest, domain.EINVALID)
	require.Equal(t, "reason", p.Errors[0].Field)
	h.problem(t, "director", http.MethodPost, "/v1/partners/acme/grants/"+uuid.NewString()+"/revoke", reason, http.StatusNotFound, domain.ENOTFOUND)
	h.problem(t, "director", http.MethodPost, "/v1/partners/globex/grants/"+g.ID.String()+"/revoke", reason, http.StatusNotFound, domain.ENOTFOUND)

	h.clock.Advance(domain.Day)
	var v projections.GrantView
	h.mustDo(t, "director", http.MethodPost, revoke, reason, http.StatusOK, &v)
	require.NotNil(t, v.Revoked)
	require.Equal(t, "the contract ended early", v.Revoked.Reason)
	require.Equal(t, h.clock.Now(), v.Revoked.At)
	require.False(t, v.ActiveAt(h.clock.Now()))
	h.problem(t, "director", http.MethodPost, revoke, reason, http.StatusConflict, domain.ECONFLICT)

	other := h.register(t, "globex", "Clínica del Norte", "cdn.example", http.StatusCreated)
	require.Equal(t, domain.StatusCleared, other.Status, "a revoked grant covers nothing")
	require.Empty(t, h.get(t, "manager", other.ID).Finding.GrantConflicts)
}
