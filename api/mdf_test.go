package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

func (h *harness) addToken(t *testing.T, name string, role domain.Role) {
	t.Helper()
	var tok struct {
		Token string `json:"token"`
	}
	h.mustDo(t, "admin", http.MethodPost, "/v1/tokens", map[string]string{"name": name, "role": string(role)}, http.StatusCreated, &tok)
	h.tokens[name] = tok.Token
}

// approveValued registers an opportunity of who worth amount currency and
// has the manager approve it.
func (h *harness) approveValued(t *testing.T, who, company, site, amount, currency string) api.Registration {
	t.Helper()
	d := h.details(company, site)
	d["opportunity"].(map[string]any)["estimated_value"] = map[string]any{"amount": amount, "currency": currency}
	var r api.Registration
	h.mustDo(t, who, http.MethodPost, "/v1/registrations", map[string]any{"type": "opportunity", "details": d, "submit": true}, http.StatusCreated, &r)
	require.Equal(t, domain.StatusCleared, r.Status)
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+r.ID.String()+"/approve", nil, http.StatusOK, &r)
	require.NotNil(t, r.Benefits)
	return r
}

// requireAmount checks m is exactly amount currency.
func requireAmount(t *testing.T, amount, currency string, m domain.Money, msg string) {
	t.Helper()
	require.Equal(t, currency, m.Currency, msg)
	require.True(t, decimal.RequireFromString(amount).Equal(m.Amount), "%s: %s, want %s", msg, m, amount)
}

func today(h *harness) string { return h.clock.Now().Format(time.DateOnly) }

func (h *harness) mdfRequest(amount string) map[string]any {
	return map[string]any{"activity": "custom_demo", "description": "A demo for the CFO", "amount": map[string]string{"amount": amount, "currency": "USD"},
		"start_date": today(h), "end_date": today(h)}
}

// Discount and MDF exact to the cent in two currencies; then an MDF request
// goes through approval, receipt, claim and a lower reimbursement; a
// request above what remains is refused with what remains; the budget
// views add it all up by partner and quarter, and a rebuild agrees.
func TestScenario_MDFLifecycle(t *testing.T) {
	h := newHarness(t)
	h.addToken(t, "marketing", domain.RoleChannelMarketing)

	// acme is gold: 10% + 10% of 123456.78 USD = 24691.356 → 24691.36;
	// MDF 2% = 2469.1356 → 2469.14.
	usd := h.approveValued(t, "acme", "Stark Industries", "stark.example", "123456.78", "USD")
	b := usd.Benefits
	require.Equal(t, 1, b.PolicyVersion)
	require.Equal(t, domain.TierGold, b.Tier)
	require.Equal(t, "20", b.Discount.Percent.String())
	requireAmount(t, "24691.36", "USD", b.Discount.Amount, "USD discount")
	requireAmount(t, "2469.14", "USD", b.MDF.Amount, "USD MDF")
	require.Equal(t, domain.PresalesEntitlement{Level: "standard", PooledHours: 10}, b.Presales)
	// globex is silver: 5% + 10% of 87654.35 EUR = 13148.1525 → 13148.15;
	// MDF 2% = 1753.087 → 1753.09.
	eur := h.approveValued(t, "globex", "Wayne Enterprises", "wayne.example", "87654.35", "EUR")
	require.Equal(t, "15", eur.Benefits.Discount.Percent.String())
	requireAmount(t, "13148.15", "EUR", eur.Benefits.Discount.Amount, "EUR discount")
	requireAmount(t, "1753.09", "EUR", eur.Benefits.MDF.Amount, "EUR MDF")
	// The partner reads its own benefits on the registration, and in its
	// history.
	got := h.get(t, "acme", usd.ID)
	require.Equal(t, usd.Benefits, got.Benefits)
	require.Equal(t, "Approved under policy v1: protected until "+usd.Terms.ProtectionEnd.Format(time.DateOnly)+"; discount 20%, MDF 2469.14 USD, presales standard",
		historyEntry(t, got, "RegistrationApproved").Summary)

	base := "/v1/registrations/" + usd.ID.String()
	var acc app.MDFAccount
	h.mustDo(t, "acme", http.MethodGet, base+"/mdf", nil, http.StatusOK, &acc)
	requireAmount(t, "2469.14", "USD", acc.Remaining, "remaining before any request")
	require.Empty(t, acc.Requests)

	var created, again api.MDFRequestCreated
	h.mustDo(t, "acme", http.MethodPost, base+"/mdf-requests", h.mdfRequest("1000.00"), http.StatusCreated, &created, "Idempotency-Key", "mdf-1")
	require.Equal(t, 1, created.Request)
	requireAmount(t, "1469.14", "USD", created.Account.Remaining, "after the request")
	// A retry with the same key records nothing more and answers the same.
	head := h.eventCount()
	h.mustDo(t, "acme", http.MethodPost, base+"/mdf-requests", h.mdfRequest("1000.00"), http.StatusCreated, &again, "Idempotency-Key", "mdf-1")
	require.Equal(t, created, again)
	require.Equal(t, head, h.eventCount())

	// More than remains: refused with what remains, nothing appended.
	p := h.problem(t, "acme", http.MethodPost, base+"/mdf-requests", h.mdfRequest("1469.15"), http.StatusConflict, domain.ECONFLICT)
	require.Contains(t, p.Detail, "1469.14 USD of 2469.14 USD remain")
	require.Equal(t, []domain.FieldError{{Field: "amount.amount", Code: domain.FieldExceedsRemaining, Message: "must be at most 1469.14 USD, what remains of the allocation"}}, p.Errors)
	require.Equal(t, head, h.eventCount())
	p = h.problem(t, "acme", http.MethodPost, base+"/mdf-requests", map[string]any{"activity": "party", "amount": map[string]string{"amount": "-1", "currency": "EUR"}}, http.StatusBadRequest, domain.EINVALID)
	require.GreaterOrEqual(t, len(p.Errors), 4)

	// Channel marketing decides; a channel manager and the partner may not.
	h.problem(t, "manager", http.MethodPost, base+"/mdf-requests/1/approve", nil, http.StatusForbidden, domain.EFORBIDDEN)
	h.problem(t, "acme", http.MethodPost, base+"/mdf-requests/1/approve", nil, http.StatusForbidden, domain.EFORBIDDEN)
	h.problem(t, "marketing", http.MethodPost, base+"/mdf-requests/2/approve", nil, http.StatusNotFound, domain.ENOTFOUND)
	h.mustDo(t, "marketing", http.MethodPost, base+"/mdf-requests/1/approve", map[string]any{"amount": map[string]string{"amount": "900", "currency": "USD"}, "note": "the venue is shared"}, http.StatusOK, &acc)
	require.Equal(t, domain.MDFApprovedState, acc.Requests[0].State)
	requireAmount(t, "1569.14", "USD", acc.Remaining, "an approval for less releases the rest")

	// The partner runs the activity, uploads a receipt and claims.
	h.problem(t, "acme", http.MethodPost, base+"/mdf-requests/1/claim", map[string]any{"amount": map[string]string{"amount": "880.40", "currency": "USD"}, "receipts": []string{}}, http.StatusBadRequest, domain.EINVALID)
	pdf := []byte("%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\ninvoice 880.40 USD\n")
	sum := sha256.Sum256(pdf)
	sha := hex.EncodeToString(sum[:])
	var receipt domain.Attachment
	h.mustDo(t, "acme", http.MethodPost, base+"/mdf-requests/1/receipts?filename=invoice.pdf", pdf, http.StatusCreated, &receipt, "Content-Type", "application/pdf")
	require.Equal(t, sha, receipt.SHA256)
	h.mustDo(t, "acme", http.MethodPost, base+"/mdf-requests/1/claim", map[string]any{"amount": map[string]string{"amount": "880.40", "currency": "USD"}, "receipts": []string{sha}, "note": "invoice attached"}, http.StatusOK, &acc)
	require.Equal(t, domain.MDFClaimedState, acc.Requests[0].State)
	// Channel marketing reads the receipt and reimburses less, with a
	// reason.
	_, body, _ := h.do(t, "marketing", http.MethodGet, base+"/mdf-requests/1/receipts/"+sha, nil)
	require.True(t, bytes.Equal(pdf, body))
	p = h.problem(t, "marketing", http.MethodPost, base+"/mdf-requests/1/reimburse", map[string]any{"amount": map[string]string{"amount": "850", "currency": "USD"}}, http.StatusBadRequest, domain.EINVALID)
	require.Equal(t, "reason", p.Errors[0].Field)
	h.mustDo(t, "marketing", http.MethodPost, base+"/mdf-requests/1/reimburse", map[string]any{"amount": map[string]string{"amount": "850", "currency": "USD"}, "reason": "catering is not covered"}, http.StatusOK, &acc)
	q := acc.Requests[0]
	require.Equal(t, domain.MDFReimbursedState, q.State)
	requireAmount(t, "850", "USD", q.Reimbursed, "reimbursed")
	requireAmount(t, "880.4", "USD", q.Claimed, "claimed")
	require.Equal(t, "catering is not covered", q.Reason)
	requireAmount(t, "1619.14", "USD", acc.Remaining, "what was not reimbursed is released")
	h.problem(t, "marketing", http.MethodPost, base+"/mdf-requests/1/reimburse", nil, http.StatusConflict, domain.ECONFLICT)

	// A request the partner withdraws.
	h.mustDo(t, "acme", http.MethodPost, base+"/mdf-requests", h.mdfRequest("100"), http.StatusCreated, &created)
	h.problem(t, "marketing", http.MethodPost, base+"/mdf-requests/2/withdraw", nil, http.StatusForbidden, domain.EFORBIDDEN)
	h.mustDo(t, "acme", http.MethodPost, base+"/mdf-requests/2/withdraw", map[string]string{"reason": "the demo moved online"}, http.StatusOK, &acc)
	require.Equal(t, domain.MDFWithdrawnState, acc.Requests[1].State)
	requireAmount(t, "1619.14", "USD", acc.Remaining, "a withdrawal releases")

	// A second request, rejected; then one for all that remains.
	h.mustDo(t, "acme", http.MethodPost, base+"/mdf-requests", h.mdfRequest("200"), http.StatusCreated, &created)
	h.mustDo(t, "marketing", http.MethodPost, base+"/mdf-requests/3/reject", map[string]string{"reason": "duplicate of request 1"}, http.StatusOK, &acc)
	requireAmount(t, "1619.14", "USD", acc.Remaining, "a rejection releases")
	h.mustDo(t, "acme", http.MethodPost, base+"/mdf-requests", h.mdfRequest("1619.14"), http.StatusCreated, &created)
	requireAmount(t, "0", "USD", created.Account.Remaining, "all of it taken")

	// The queues and the budget views.
	var reqs struct {
		Items []projections.MDFRequestItem `json:"items"`
	}
	h.mustDo(t, "marketing", http.MethodGet, "/v1/mdf-requests?state=requested", nil, http.StatusOK, &reqs)
	require.Len(t, reqs.Items, 1)
	require.Equal(t, 4, reqs.Items[0].Number)
	h.mustDo(t, "globex", http.MethodGet, "/v1/mdf-requests", nil, http.StatusOK, &reqs)
	require.Empty(t, reqs.Items, "a partner sees only its own requests")
	h.problem(t, "marketing", http.MethodGet, "/v1/mdf-requests?state=lost", nil, http.StatusBadRequest, domain.EINVALID)

	var budgets struct {
		Items []projections.MDFBudget `json:"items"`
	}
	quarter := domain.Quarter(h.clock.Now())
	h.mustDo(t, "marketing", http.MethodGet, "/v1/mdf-budgets?quarter="+quarter, nil, http.StatusOK, &budgets)
	require.Len(t, budgets.Items, 2)
	a, g := budgets.Items[0], budgets.Items[1]
	require.Equal(t, []string{"acme", quarter, "USD"}, []string{a.PartnerID, a.Quarter, a.Currency})
	for _, f := range []struct {
		name string
		got  decimal.Decimal
		want string
	}{{"allocated", a.Allocated, "2469.14"}, {"requested", a.Requested, "2919.14"}, {"approved", a.Approved, "900"}, {"claimed", a.Claimed, "880.4"}, {"reimbursed", a.Reimbursed, "850"},
		{"globex allocated", g.Allocated, "1753.09"}, {"globex requested", g.Requested, "0"}} {
		require.True(t, decimal.RequireFromString(f.want).Equal(f.got), "%s: %s", f.name, f.got)
	}
	require.Equal(t, "EUR", g.Currency)
	h.mustDo(t, "acme", http.MethodGet, "/v1/mdf-budgets", nil, http.StatusOK, &budgets)
	require.Len(t, budgets.Items, 1, "a partner sees only its own budget")
	h.mustDo(t, "acme", http.MethodGet, "/v1/mdf-budgets?partner_id=globex", nil, http.StatusOK, &budgets)
	require.Empty(t, budgets.Items)
	h.problem(t, "sales", http.MethodGet, "/v1/mdf-budgets", nil, http.StatusForbidden, domain.EFORBIDDEN)
	h.problem(t, "marketing", http.MethodGet, "/v1/mdf-budgets?quarter=Q2", nil, http.StatusBadRequest, domain.EINVALID)

	// A rebuild from the ledger yields the same accounts and budgets.
	rebuilt := app.New(app.Config{Store: h.store, Clock: h.clock})
	require.NoError(t, rebuilt.Start(context.Background(), false))
	defer rebuilt.Stop()
	require.NoError(t, rebuilt.WaitFor(context.Background(), h.eventCount()-1))
	require.Equal(t, h.app.MDF.Budgets("", ""), rebuilt.MDF.Budgets("", ""))
	want, _ := h.app.MDF.Account(usd.ID)
	gotAcc, _ := rebuilt.MDF.Account(usd.ID)
	require.Equal(t, want, gotAcc)
}

// Two partners' requests racing for one allocation: eight requests of 500
// USD against 2469.14 USD, sent at once. Each is decided against the
// stream as read and appended expecting it unchanged, so exactly four win
// and the others are refused with what remains; the allocation is never
// overspent.
func TestScenario_MDFConcurrentRequests(t *testing.T) {
	h := newHarness(t)
	r := h.approveValued(t, "acme", "Stark Industries", "stark.example", "123456.78", "USD")
	base := "/v1/registrations/" + r.ID.String()
	const n = 8
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			statuses[i], _, _ = h.do(t, "acme", http.MethodPost, base+"/mdf-requests", h.mdfRequest("500"))
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for _, s := range statuses {
		require.Contains(t, []int{http.StatusCreated, http.StatusConflict}, s)
		if s == http.StatusCreated {
			won++
		}
	}
	require.Equal(t, 4, won, "statuses %v", statuses)
	var acc app.MDFAccount
	h.mustDo(t, "acme", http.MethodGet, base+"/mdf", nil, http.StatusOK, &acc)
	require.Len(t, acc.Requests, 4)
	requireAmount(t, "469.14", "USD", acc.Remaining, "remaining")
	for i, q := range acc.Requests {
		require.Equal(t, i+1, q.Number)
	}

	// Two requests that together exceed what remains: exactly one wins.
	statuses = statuses[:2]
	start = make(chan struct{})
	for i := range 2 {
		wg.Go(func() {
			<-start
			statuses[i], _, _ = h.do(t, "acme", http.MethodPost, base+"/mdf-requests", h.mdfRequest("300"))
		})
	}
	close(start)
	wg.Wait()
	require.ElementsMatch(t, []int{http.StatusCreated, http.StatusConflict}, statuses)
	h.mustDo(t, "acme", http.MethodGet, base+"/mdf", nil, http.StatusOK, &acc)
	requireAmount(t, "169.14", "USD", acc.Remaining, "remaining")
}

// Version 2 changes the benefit numbers from its effective date: approvals
// before it keep version 1's benefits, approvals after it get version 2's.
func TestScenario_BenefitsPolicyVersions(t *testing.T) {
	h := newHarness(t)
	h.addLeader(t)
	doc := h.policyDocument(t, "leader", 1)
	delete(doc, "version")
	doc["summary"] = "A 12.5% registration bonus, 3.5% MDF capped at 3000 USD"
	section(doc, "benefits", "discount", "registration_bonus_percent")["opportunity"] = "12.5"
	section(doc, "benefits", "mdf")["percent"] = "3.5"
	section(doc, "benefits", "mdf", "caps")["USD"] = "3000"
	h.mustDo(t, "leader", http.MethodPost, "/v1/policies", doc, http.StatusCreated, nil)
	effective := h.clock.Now().Add(30 * domain.Day)
	h.mustDo(t, "leader", http.MethodPost, "/v1/policies/2/publish", map[string]any{"effective_from": effective}, http.StatusOK, nil)

	h.clock.Set(effective.Add(-time.Hour))
	v1 := h.approveValued(t, "acme", "Stark Industries", "stark.example", "123456.78", "USD")
	h.clock.Set(effective)
	v2 := h.approveValued(t, "acme", "Wayne Enterprises", "wayne.example", "123456.78", "USD")

	require.Equal(t, 1, v1.Benefits.PolicyVersion)
	require.Equal(t, "20", v1.Benefits.Discount.Percent.String())
	requireAmount(t, "24691.36", "USD", v1.Benefits.Discount.Amount, "v1 discount")
	requireAmount(t, "2469.14", "USD", v1.Benefits.MDF.Amount, "v1 MDF")

	// 10% + 12.5% of 123456.78 = 27777.7755 → 27777.78; 3.5% is 4320.99,
	// over the 3000 cap.
	require.Equal(t, 2, v2.Benefits.PolicyVersion)
	require.Equal(t, "22.5", v2.Benefits.Discount.Percent.String())
	requireAmount(t, "27777.78", "USD", v2.Benefits.Discount.Amount, "v2 discount")
	requireAmount(t, "3000", "USD", v2.Benefits.MDF.Amount, "v2 MDF")
	require.True(t, v2.Benefits.MDF.Capped)

	// Later, the version-1 approval still holds version 1's benefits.
	h.clock.Advance(10 * domain.Day)
	require.Equal(t, v1.Benefits, h.get(t, "acme", v1.ID).Benefits)
	var acc app.MDFAccount
	h.mustDo(t, "acme", http.MethodGet, "/v1/registrations/"+v1.ID.String()+"/mdf", nil, http.StatusOK, &acc)
	requireAmount(t, "2469.14", "USD", acc.Allocation, "v1 allocation")
}

// Channel operations assign named presales people to entitled
// registrations within each person's capacity and each registration's
// entitlement; unassigning frees the hours; the partner sees who is on its
// deal, never the desk.
func TestScenario_Presales(t *testing.T) {
	h := newHarness(t)
	for _, r := range []map[string]any{
		{"id": "ana", "name": "Ana Ruiz", "kind": "solutions_architect", "capacity_hours": 100},
		{"id": "luis", "name": "Luis Gómez", "kind": "presales_engineer", "capacity_hours": 40},
		{"id": "marta", "name": "Marta Díaz", "kind": "technical_specialist", "capacity_hours": 30},
	} {
		h.mustDo(t, "manager", http.MethodPost, "/v1/presales/resources", r, http.StatusCreated, nil)
	}
	h.problem(t, "acme", http.MethodPost, "/v1/presales/resources", map[string]any{"id": "x", "name": "X", "kind": "presales_engineer", "capacity_hours": 1}, http.StatusForbidden, domain.EFORBIDDEN)
	h.problem(t, "manager", http.MethodPost, "/v1/presales/resources", map[string]any{"id": "ana", "name": "Ana", "kind": "presales_engineer", "capacity_hours": 1}, http.StatusConflict, domain.ECONFLICT)
	h.problem(t, "manager", http.MethodPost, "/v1/presales/resources", map[string]any{"id": "Bad Id", "name": "", "kind": "wizard", "capacity_hours": 0}, http.StatusBadRequest, domain.EINVALID)

	big := h.approveValued(t, "acme", "Stark Industries", "stark.example", "300000", "USD")
	require.Equal(t, "enterprise", big.Benefits.Presales.Level)
	small := h.approveValued(t, "acme", "Wayne Enterprises", "wayne.example", "150000", "USD")
	require.Equal(t, 10, small.Benefits.Presales.PooledHours)
	assign := func(r api.Registration, resource string, hours, status int) {
		t.Helper()
		h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+r.ID.String()+"/presales", map[string]any{"resource_id": resource, "hours": hours}, status, nil)
	}

	assign(big, "ana", 60, http.StatusOK)
	assign(big, "marta", 5, http.StatusConflict) // no pooled hours, not a dedicated kind
	assign(big, "luis", 50, http.StatusConflict) // 40 hours free
	assign(big, "luis", 40, http.StatusOK)
	assign(big, "luis", 1, http.StatusConflict) // already assigned
	assign(small, "ana", 8, http.StatusOK)
	p := h.problem(t, "manager", http.MethodPost, "/v1/registrations/"+small.ID.String()+"/presales", map[string]any{"resource_id": "marta", "hours": 3}, http.StatusConflict, domain.ECONFLICT)
	require.Contains(t, p.Detail, "2 of its 10 pooled presales hours left")
	assign(small, "marta", 2, http.StatusOK)
	h.problem(t, "acme", http.MethodPost, "/v1/registrations/"+small.ID.String()+"/presales", map[string]any{"resource_id": "marta", "hours": 1}, http.StatusForbidden, domain.EFORBIDDEN)

	var ana projections.PresalesResourceView
	h.mustDo(t, "manager", http.MethodGet, "/v1/presales/resources/ana", nil, http.StatusOK, &ana)
	require.Equal(t, 68, ana.LoadHours)
	require.Equal(t, 32, ana.FreeHours)
	require.Len(t, ana.Assignments, 2)
	require.Equal(t, domain.PresalesDedicated, ana.Assignments[0].Basis)
	require.Equal(t, domain.PresalesPooled, ana.Assignments[1].Basis)

	// The partner sees who works on its deal.
	var support app.PresalesSupport
	h.mustDo(t, "acme", http.MethodGet, "/v1/registrations/"+big.ID.String()+"/presales", nil, http.StatusOK, &support)
	require.Equal(t, "enterprise", support.Entitlement.Level)
	require.Len(t, support.Assignments, 2)
	require.Equal(t, "Ana Ruiz", support.Assignments[0].Name)
	h.problem(t, "acme", http.MethodGet, "/v1/presales/resources", nil, http.StatusForbidden, domain.EFORBIDDEN)

	// Unassigning frees the hours.
	h.mustDo(t, "manager", http.MethodPost, "/v1/registrations/"+big.ID.String()+"/presales/ana/unassign", map[string]string{"reason": "architecture signed off"}, http.StatusOK, &support)
	require.Len(t, support.Assignments, 1)
	h.mustDo(t, "manager", http.MethodGet, "/v1/presales/resources/ana", nil, http.StatusOK, &ana)
	require.Equal(t, 8, ana.LoadHours)
	h.problem(t, "manager", http.MethodPost, "/v1/registrations/"+big.ID.String()+"/presales/ana/unassign", nil, http.StatusNotFound, domain.ENOTFOUND)
	var list struct {
		Items []projections.PresalesResourceView `json:"items"`
	}
	h.mustDo(t, "auditor", http.MethodGet, "/v1/presales/resources", nil, http.StatusOK, &list)
	require.Len(t, list.Items, 3)
	loads := map[string]int{}
	for _, r := range list.Items {
		loads[r.ID] = r.LoadHours
	}
	require.Equal(t, map[string]int{"ana": 8, "luis": 40, "marta": 2}, loads)
}

// A suspended partner is granted no benefit: its MDF requests, their
// approval and presales assignments are refused with partner_suspended and
// append nothing; reimbursing what was approved before goes on.
func TestScenario_SuspendedPartnerBenefits(t *testing.T) {
	h := newHarness(t)
	h.addToken(t, "marketing", domain.RoleChannelMarketing)
	r := h.approveValued(t, "acme", "Stark Industries", "stark.example", "123456.78", "USD")
	base := "/v1/registrations/" + r.ID.String()
	h.mustDo(t, "acme", http.MethodPost, base+"/mdf-requests", h.mdfRequest("500"), http.StatusCreated, nil)
	h.mustDo(t, "acme", http.MethodPost, base+"/mdf-requests", h.mdfRequest("300"), http.StatusCreated, nil)
	h.mustDo(t, "marketing", http.MethodPost, base+"/mdf-requests/1/approve", nil, http.StatusOK, nil)
	h.mustDo(t, "manager", http.MethodPost, "/v1/presales/resources", map[string]any{"id": "ana", "name": "Ana Ruiz", "kind": "solutions_architect", "capacity_hours": 100}, http.StatusCreated, nil)

	until := h.clock.Now().Add(30 * domain.Day)
	h.mustDo(t, "manager", http.MethodPost, "/v1/partners/acme/suspension", map[string]any{"until": until, "reason": "Reports overdue."}, http.StatusOK, nil)
	head := h.eventCount()
	p := h.problem(t, "acme", http.MethodPost, base+"/mdf-requests", h.mdfRequest("100"), http.StatusForbidden, domain.ESUSPENDED)
	require.Contains(t, p.Detail, "be granted MDF")
	h.problem(t, "marketing", http.MethodPost, base+"/mdf-requests/2/approve", nil, http.StatusForbidden, domain.ESUSPENDED)
	p = h.problem(t, "manager", http.MethodPost, base+"/presales", map[string]any{"resource_id": "ana", "hours": 4}, http.StatusForbidden, domain.ESUSPENDED)
	require.Contains(t, p.Detail, "be granted presales support")
	require.Equal(t, head, h.eventCount(), "refusals append nothing")
	// Another partner still learns nothing.
	h.problem(t, "globex", http.MethodPost, base+"/mdf-requests", h.mdfRequest("100"), http.StatusNotFound, domain.ENOTFOUND)

	// What was approved before is still claimed and reimbursed; a pending
	// request may still be rejected.
	h.mustDo(t, "marketing", http.MethodPost, base+"/mdf-requests/2/reject", map[string]string{"reason": "partner suspended"}, http.StatusOK, nil)
	pdf := []byte("%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\nreceipt\n")
	sum := sha256.Sum256(pdf)
	h.mustDo(t, "acme", http.MethodPost, base+"/mdf-requests/1/receipts?filename=r.pdf", pdf, http.StatusCreated, nil, "Content-Type", "application/pdf")
	h.mustDo(t, "acme", http.MethodPost, base+"/mdf-requests/1/claim", map[string]any{"amount": map[string]string{"amount": "500", "currency": "USD"}, "receipts": []string{hex.EncodeToString(sum[:])}}, http.StatusOK, nil)
	var acc app.MDFAccount
	h.mustDo(t, "marketing", http.MethodPost, base+"/mdf-requests/1/reimburse", nil, http.StatusOK, &acc)
	require.Equal(t, domain.MDFReimbursedState, acc.Requests[0].State)
}
