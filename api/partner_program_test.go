package api_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
)

// publishNow has an executive publish an emergency version from version
// 1's document changed by edit, in force at once; it returns its number.
func (h *harness) publishNow(t *testing.T, edit func(doc policyDoc)) int {
	t.Helper()
	doc := h.policyDocument(t, "admin", 1)
	delete(doc, "version")
	edit(doc)
	var v api.PolicyVersion
	h.mustDo(t, "admin", http.MethodPost, "/v1/policies", doc, http.StatusCreated, &v)
	h.mustDo(t, "executive", http.MethodPost, "/v1/policies/"+strconv.Itoa(v.Version)+"/publish",
		map[string]any{"effective_from": h.clock.Now(), "emergency": true, "rationale": "The partner program starts today."}, http.StatusOK, nil)
	return v.Version
}

func (h *harness) partner(t *testing.T, who, id string) api.PartnerAnswer {
	t.Helper()
	var p api.PartnerAnswer
	h.mustDo(t, who, http.MethodGet, "/v1/partners/"+id, nil, http.StatusOK, &p)
	return p
}

// An uncertified partner is refused with the missing certification named;
// it may still save a draft. A certification that expired before the
// submission's time is named as expired; once renewed, the submission goes
// through. A tier the policy does not allow for a type is named too.
func TestScenario_EligibilityOnSubmit(t *testing.T) {
	h := newHarness(t)
	v := h.publishNow(t, func(doc policyDoc) {
		section(doc, "eligibility", "opportunity")["certifications"] = []string{"hr-suite-sales"}
		section(doc, "eligibility", "named_account")["tiers"] = []string{"gold", "platinum"}
	})
	require.Equal(t, 2, v)

	// Refused on create-and-submit: nothing appended, the gap named.
	head := h.eventCount()
	body := map[string]any{"type": "opportunity", "details": h.details("Empresa XYZ", "xyz.example"), "submit": true}
	p := h.problem(t, "globex", http.MethodPost, "/v1/registrations", body, http.StatusForbidden, domain.ENOTELIGIBLE)
	require.Equal(t, []domain.FieldError{{Field: "partner.certifications.hr-suite-sales", Code: domain.FieldMissing,
		Message: `the certification "hr-suite-sales" is required to register opportunity`}}, p.Errors)
	require.Contains(t, p.Detail, "policy v2")
	require.Equal(t, head, h.eventCount(), "a refusal appends nothing")

	// A draft can still be saved; submitting it is refused the same way.
	body["submit"] = false
	var draft api.Registration
	h.mustDo(t, "globex", http.MethodPost, "/v1/registrations", body, http.StatusCreated, &draft)
	require.Equal(t, domain.StatusDraft, draft.Status)
	head = h.eventCount()
	h.problem(t, "globex", http.MethodPost, "/v1/registrations/"+draft.ID.String()+"/submit", nil, http.StatusForbidden, domain.ENOTELIGIBLE)
	require.Equal(t, head, h.eventCount())

	// A partner may not record its own certification.
	cert := map[string]any{"kind": "certification", "name": "hr-suite-sales",
		"issued": h.clock.Now().Add(-300 * domain.Day), "expires": h.clock.Now().Add(domain.Day)}
	h.problem(t, "globex", http.MethodPost, "/v1/partners/globex/credentials", cert, http.StatusForbidden, domain.EFORBIDDEN)
	got := h.partner(t, "globex", "globex")
	require.Empty(t, got.Standing.Credentials)
	var recorded api.PartnerAnswer
	h.mustDo(t, "manager", http.MethodPost, "/v1/partners/globex/credentials", cert, http.StatusOK, &recorded)
	require.Len(t, recorded.Standing.Credentials, 1)
	require.Equal(t, domain.PartnerStatusActive, recorded.Status)

	// Two days later it has expired: named as such.
	h.clock.Advance(2 * domain.Day)
	p = h.problem(t, "globex", http.MethodPost, "/v1/registrations/"+draft.ID.String()+"/submit", nil, http.StatusForbidden, domain.ENOTELIGIBLE)
	require.Len(t, p.Errors, 1)
	require.Equal(t, "partner.certifications.hr-suite-sales", p.Errors[0].Field)
	require.Equal(t, domain.FieldExpired, p.Errors[0].Code)

	// Renewed: the submission goes through, under version 2.
	cert["issued"], cert["expires"] = h.clock.Now().Add(-time.Hour), h.clock.Now().Add(365*domain.Day)
	h.mustDo(t, "manager", http.MethodPost, "/v1/partners/globex/credentials", cert, http.StatusOK, &recorded)
	require.Len(t, recorded.Standing.Credentials, 1, "the renewal replaces the record")
	var submitted api.Registration
	h.mustDo(t, "globex", http.MethodPost, "/v1/registrations/"+draft.ID.String()+"/submit", nil, http.StatusOK, &submitted)
	require.Equal(t, domain.StatusCleared, submitted.Status)
	require.Equal(t, 2, submitted.SubmittedPolicyVersion)

	// Silver may not register named accounts under version 2; gold may.
	named := map[string]any{"type": "named_account", "details": h.details("Grupo Sur", "sur.example"), "submit": true}
	p = h.problem(t, "globex", http.MethodPost, "/v1/registrations", named, http.StatusForbidden, domain.ENOTELIGIBLE)
	require.Equal(t, "partner.tier", p.Errors[0].Field)
	require.Equal(t, domain.FieldTierNotEligible, p.Errors[0].Code)
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations", named, http.StatusCreated, nil)

	// Promoted to gold by a director, globex may.
	h.problem(t, "manager", http.MethodPatch, "/v1/partners/globex", map[string]any{"tier": "gold"}, http.StatusForbidden, domain.EFORBIDDEN)
	var promoted api.PartnerAnswer
	h.mustDo(t, "director", http.MethodPatch, "/v1/partners/globex", map[string]any{"tier": "gold", "verticals": []string{"Healthcare"}}, http.StatusOK, &promoted)
	require.Equal(t, domain.TierGold, promoted.Tier)
	require.Equal(t, []string{"Healthcare"}, promoted.Verticals)
	named["details"] = h.details("Grupo Norte", "norte.example")
	h.mustDo(t, "globex", http.MethodPost, "/v1/registrations", named, http.StatusCreated, nil)
}

// A suspended partner can neither submit nor be granted an approval or an
// extension; under version 1 (on_suspension: keep) its active protection
// stays. Every refusal appends nothing. The suspension ends on its own
// date; a director may lift one early.
func TestScenario_SuspendedPartner(t *testing.T) {
	h := newHarness(t)
	active := h.approve(t, "Empresa XYZ", "xyz.example")
	pending := h.register(t, "acme", "Industrias Norte", "norte.example", http.StatusCreated)
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations/"+active.ID.String()+"/extensions", map[string]string{"reason": "budget moved"}, http.StatusOK, nil)

	until := h.clock.Now().Add(30 * domain.Day)
	h.problem(t, "acme", http.MethodPost, "/v1/partners/acme/suspension", map[string]any{"until": until, "reason": "r"}, http.StatusForbidden, domain.EFORBIDDEN)
	var suspended api.PartnerAnswer
	h.mustDo(t, "manager", http.MethodPost, "/v1/partners/acme/suspension",
		map[string]any{"until": until, "reason": "Registration reports overdue three quarters running."}, http.StatusOK, &suspended)
	require.Equal(t, domain.PartnerStatusSuspended, suspended.Status)
	require.Equal(t, until, suspended.SuspendedUntil)
	require.Equal(t, suspended.Status, h.partner(t, "acme", "acme").Status, "the partner sees it")

	head := h.eventCount()
	p := h.problem(t, "acme", http.MethodPost, "/v1/registrations", map[string]any{
		"type": "opportunity", "details": h.details("Grupo Sur", "sur.example"), "submit": true,
	}, http.StatusForbidden, domain.ESUSPENDED)
	require.Equal(t, "partner.status", p.Errors[0].Field)
	require.Equal(t, domain.FieldSuspended, p.Errors[0].Code)
	require.Contains(t, p.Detail, until.Format(time.RFC3339))
	p = h.problem(t, "manager", http.MethodPost, "/v1/registrations/"+pending.ID.String()+"/approve", nil, http.StatusForbidden, domain.ESUSPENDED)
	require.Contains(t, p.Detail, "be granted an approval")
	h.problem(t, "manager", http.MethodPost, "/v1/registrations/"+active.ID.String()+"/extensions/1/grant", nil, http.StatusForbidden, domain.ESUSPENDED)
	require.Equal(t, head, h.eventCount(), "refusals append nothing")
	// Another partner learns nothing: acme's registration is not found.
	h.problem(t, "globex", http.MethodPost, "/v1/registrations/"+pending.ID.String()+"/submit", nil, http.StatusNotFound, domain.ENOTFOUND)

	// Version 1 keeps the active protections of a suspended partner.
	require.Equal(t, domain.StatusExtensionRequested, h.get(t, "manager", active.ID).Status)

	// The suspension ends on its date.
	h.clock.Set(until)
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+pending.ID.String()+"/approve", nil, http.StatusOK, nil)
	require.Equal(t, domain.PartnerStatusActive, h.partner(t, "admin", "acme").Status)

	// A director lifts a second one early.
	h.mustDo(t, "manager", http.MethodPost, "/v1/partners/acme/suspension",
		map[string]any{"until": until.Add(60 * domain.Day), "reason": "Again."}, http.StatusOK, nil)
	h.problem(t, "manager", http.MethodPost, "/v1/partners/acme/reinstatement", map[string]string{"reason": "appeal"}, http.StatusForbidden, domain.EFORBIDDEN)
	var lifted api.PartnerAnswer
	h.mustDo(t, "director", http.MethodPost, "/v1/partners/acme/reinstatement", map[string]string{"reason": "Appeal upheld."}, http.StatusOK, &lifted)
	require.Equal(t, domain.PartnerStatusActive, lifted.Status)
	require.Len(t, lifted.Standing.Suspensions, 2)
	require.Equal(t, until, lifted.Standing.Suspensions[1].LiftedAt)
	h.register(t, "acme", "Grupo Sur", "sur.example", http.StatusCreated)
}

// A reviewer records a violation with evidence on an active registration:
// the policy's penalty revokes it (protection ends, the account is free)
// and suspends the partner for 180 days; another partner's registration of
// the same account, a duplicate before, now gets a clear verdict. A
// termination needs a director, and under it the partner's other claims
// are revoked. Rebuilding the views from the ledger yields the same.
func TestScenario_ViolationRevokesAndFreesTheAccount(t *testing.T) {
	h := newHarness(t)
	held := h.approve(t, "Empresa XYZ", "xyz.example")
	other := h.approve(t, "Stark Industries", "stark.example")
	blocked := h.register(t, "globex", "Empresa XYZ S.A.", "xyz.example", http.StatusCreated)
	require.Equal(t, domain.StatusDuplicate, blocked.Status)

	violation := map[string]any{
		"kind":       "false_information",
		"statement":  "The CFO named as decision maker left the company a year ago; the meeting never happened.",
		"references": []string{"CRM-CASE-1187"},
	}
	h.problem(t, "acme", http.MethodPost, "/v1/registrations/"+held.ID.String()+"/violations", violation, http.StatusForbidden, domain.EFORBIDDEN)
	h.problem(t, "manager", http.MethodPost, "/v1/registrations/"+held.ID.String()+"/violations",
		map[string]any{"kind": "bribery", "statement": "x"}, http.StatusBadRequest, domain.EINVALID)
	var revoked api.Registration
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+held.ID.String()+"/violations", violation, http.StatusOK, &revoked)
	require.Equal(t, domain.StatusRevoked, revoked.Status)
	require.Equal(t, h.clock.Now(), revoked.ProtectionEnd, "protection ended at the revocation")
	got := h.get(t, "manager", held.ID)
	rec := historyEntry(t, got, "RegistrationViolationRecorded")
	require.Equal(t, "manager", historyActorName(t, h, rec.ActorID))
	require.Contains(t, rec.Summary, "false information; partner suspended until")
	require.Contains(t, string(rec.Data), "CRM-CASE-1187")
	rev := historyEntry(t, got, "RegistrationRevoked")
	require.Equal(t, "Revoked: violation", rev.Summary)
	require.Equal(t, rec.ActorID, rev.ActorID)

	acme := h.partner(t, "acme", "acme")
	require.Equal(t, domain.PartnerStatusSuspended, acme.Status)
	require.Equal(t, h.clock.Now().Add(180*domain.Day), acme.SuspendedUntil)
	require.Len(t, acme.Standing.Violations, 1)
	require.Equal(t, domain.ViolationFalseInformation, acme.Standing.Violations[0].Kind)
	require.Equal(t, 1, acme.Standing.Violations[0].PolicyVersion)
	require.Equal(t, domain.StatusActive, h.get(t, "acme", other.ID).Status, "version 1 keeps the other protections")

	// The account is free: globex registers it again and is clear.
	h.clock.Advance(time.Hour)
	again := h.register(t, "globex", "Empresa XYZ S.A.", "xyz.example", http.StatusCreated)
	require.Equal(t, domain.StatusCleared, again.Status)
	require.Equal(t, domain.VerdictClear, again.Verdict)

	// Termination: not by a manager; a director's ends every claim.
	terminate := map[string]any{"kind": "terms_breach", "statement": "Resold protected leads to a competitor.", "terminate": true}
	head := h.eventCount()
	h.problem(t, "manager", http.MethodPost, "/v1/registrations/"+other.ID.String()+"/violations", terminate, http.StatusForbidden, domain.EFORBIDDEN)
	require.Equal(t, head, h.eventCount())
	h.mustDo(t, "director", http.MethodPost, "/v1/registrations/"+other.ID.String()+"/violations", terminate, http.StatusOK, &revoked)
	require.Equal(t, domain.StatusRevoked, revoked.Status)
	acme = h.partner(t, "admin", "acme")
	require.Equal(t, domain.PartnerStatusTerminated, acme.Status)

	// Terminating globex directly revokes its pending registration.
	h.problem(t, "manager", http.MethodPost, "/v1/partners/globex/termination", map[string]string{"reason": "fraud"}, http.StatusForbidden, domain.EFORBIDDEN)
	h.mustDo(t, "director", http.MethodPost, "/v1/partners/globex/termination", map[string]string{"reason": "Program exit agreed."}, http.StatusOK, nil)
	g := h.get(t, "manager", again.ID)
	require.Equal(t, domain.StatusRevoked, g.Status)
	require.Equal(t, "Revoked: partner terminated", historyEntry(t, g, "RegistrationRevoked").Summary)
	require.Equal(t, "system:standing", historyEntry(t, g, "RegistrationRevoked").ActorID)

	// Replay: a service rebuilt from the ledger shows the same and
	// appends nothing.
	head = h.eventCount()
	rebuilt := app.New(app.Config{Store: h.store, Clock: h.clock})
	require.NoError(t, rebuilt.Start(context.Background(), false))
	defer rebuilt.Stop()
	require.NoError(t, rebuilt.WaitFor(context.Background(), head-1))
	require.Equal(t, h.app.Directory.Partners(), rebuilt.Directory.Partners())
	for _, r := range []api.Registration{held, other, blocked, again} {
		a, _ := h.app.Registrations.Detail(r.ID)
		b, _ := rebuilt.Registrations.Detail(r.ID)
		require.Equal(t, a, b)
	}
	n, err := rebuilt.RunDue(context.Background(), h.clock.Now())
	require.NoError(t, err)
	require.Zero(t, n, "nothing more is due")
	require.Equal(t, head, h.eventCount())
}

// A policy that ends protections on suspension revokes the suspended
// partner's active registrations at once; the scheduler's sweep finds
// nothing more.
func TestScenario_SuspensionEndsProtections(t *testing.T) {
	h := newHarness(t)
	active := h.approve(t, "Empresa XYZ", "xyz.example")
	pending := h.register(t, "acme", "Industrias Norte", "norte.example", http.StatusCreated)
	h.publishNow(t, func(doc policyDoc) { section(doc, "penalties")["on_suspension"] = "end" })
	h.mustDo(t, "manager", http.MethodPost, "/v1/partners/acme/suspension",
		map[string]any{"until": h.clock.Now().Add(30 * domain.Day), "reason": "Audit pending."}, http.StatusOK, nil)
	a := h.get(t, "manager", active.ID)
	require.Equal(t, domain.StatusRevoked, a.Status)
	require.Equal(t, "Revoked: partner suspended", historyEntry(t, a, "RegistrationRevoked").Summary)
	require.Equal(t, domain.StatusCleared, h.get(t, "manager", pending.ID).Status, "a pending registration waits for the suspension's end")
	head := h.eventCount()
	n, err := h.app.RunDue(context.Background(), h.clock.Now())
	require.NoError(t, err)
	require.Zero(t, n)
	require.Equal(t, head, h.eventCount())
}

// historyActorName returns the name of the token an actor ID names.
func historyActorName(t *testing.T, h *harness, actorID string) string {
	t.Helper()
	for name, secret := range h.tokens {
		c, err := h.app.Authenticate(context.Background(), secret)
		if err == nil && c.Actor.ID == actorID {
			return name
		}
	}
	return ""
}

// A conflict decision in favour of a suspended partner is refused: it
// would grant protection.
func TestScenario_SuspendedPartnerWinsNoConflict(t *testing.T) {
	h := newHarness(t)
	h.recordDirect(t, "Empresa XYZ", "xyz.example", t0.Add(-30*domain.Day))
	h.clock.Advance(time.Hour)
	r := h.register(t, "acme", "Empresa XYZ S.A.", "xyz.example", http.StatusCreated)
	c := h.onlyConflict(t)
	h.mustDo(t, "manager", http.MethodPost, "/v1/partners/acme/suspension",
		map[string]any{"until": h.clock.Now().Add(30 * domain.Day), "reason": "Audit pending."}, http.StatusOK, nil)
	h.mustDo(t, "manager", http.MethodPost, "/v1/conflicts/"+c.ID.String()+"/escalate", map[string]string{"reason": "The partner's work predates the CRM record."}, http.StatusOK, nil)
	award := map[string]any{"outcome": "award", "winner": domain.PartyKeyRegistration(r.ID), "rationale": "The partner met the buyer first.", "policy_clause": "desk-discretion"}
	head := h.eventCount()
	p := h.problem(t, "director", http.MethodPost, "/v1/conflicts/"+c.ID.String()+"/decide", award, http.StatusForbidden, domain.ESUSPENDED)
	require.Contains(t, p.Detail, "conflict decision")
	require.Equal(t, head, h.eventCount())
	h.clock.Advance(30 * domain.Day)
	h.mustDo(t, "director", http.MethodPost, "/v1/conflicts/"+c.ID.String()+"/decide", award, http.StatusOK, nil)
}

// Nor are funds or people granted to a suspended partner: an MDF request
// is not approved and no presales resource is assigned until the
// suspension ends.
func TestScenario_SuspendedPartnerGetsNoBenefits(t *testing.T) {
	h := newHarness(t)
	h.addToken(t, "marketing", domain.RoleChannelMarketing)
	h.mustDo(t, "manager", http.MethodPost, "/v1/presales/resources",
		map[string]any{"id": "luis", "name": "Luis Gómez", "kind": "presales_engineer", "capacity_hours": 40}, http.StatusCreated, nil)
	r := h.approveValued(t, "acme", "Stark Industries", "stark.example", "123456.78", "USD")
	base := "/v1/registrations/" + r.ID.String()
	h.mustDo(t, "acme", http.MethodPost, base+"/mdf-requests", h.mdfRequest("1000.00"), http.StatusCreated, nil)
	until := h.clock.Now().Add(10 * domain.Day)
	h.mustDo(t, "manager", http.MethodPost, "/v1/partners/acme/suspension", map[string]any{"until": until, "reason": "Audit pending."}, http.StatusOK, nil)

	head := h.eventCount()
	p := h.problem(t, "marketing", http.MethodPost, base+"/mdf-requests/1/approve", map[string]any{}, http.StatusForbidden, domain.ESUSPENDED)
	require.Contains(t, p.Detail, "be granted marketing development funds")
	p = h.problem(t, "manager", http.MethodPost, base+"/presales", map[string]any{"resource_id": "luis", "hours": 4}, http.StatusForbidden, domain.ESUSPENDED)
	require.Contains(t, p.Detail, "be granted presales support")
	require.Equal(t, head, h.eventCount(), "refusals append nothing")

	h.clock.Set(until)
	h.mustDo(t, "marketing", http.MethodPost, base+"/mdf-requests/1/approve", map[string]any{}, http.StatusOK, nil)
	h.mustDo(t, "manager", http.MethodPost, base+"/presales", map[string]any{"resource_id": "luis", "hours": 4}, http.StatusOK, nil)
}
