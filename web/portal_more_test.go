package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/proof"
)

var (
	marketingCall = app.Call{Caller: app.Caller{Actor: domain.Actor{ID: "token:mkt", Role: domain.RoleChannelMarketing}, Name: "mkt"}}
	executiveCall = app.Call{Caller: app.Caller{Actor: domain.Actor{ID: "token:exec", Role: domain.RoleExecutive}, Name: "exec"}}
)

// postFile sends a multipart form with one file under field, with the
// CSRF token of the page at from.
func (c *client) postFile(from, path, field, name string, content []byte) page {
	c.tb.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(c.tb, mw.WriteField("csrf", c.csrf(from)))
	fw, err := mw.CreateFormFile(field, name)
	require.NoError(c.tb, err)
	_, err = fw.Write(content)
	require.NoError(c.tb, err)
	require.NoError(c.tb, mw.Close())
	req, err := http.NewRequest(http.MethodPost, c.base+path, &body)
	require.NoError(c.tb, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

// partnerClient signs a new user of partner in, in lang.
func (s *site) partnerClient(t *testing.T, partner, lang string) *client {
	t.Helper()
	c := s.client(t)
	require.Equal(t, "/portal", c.signIn(s.user(t, domain.RolePartner, partner, lang)).URL)
	return c
}

// streamTypes returns the event types of stream, in order.
func (s *site) streamTypes(t *testing.T, stream string) []string {
	t.Helper()
	recs, err := s.store.ReadStream(context.Background(), stream, domain.ReadStreamOptions{})
	require.NoError(t, err)
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Type
	}
	return out
}

// requireNotFoundAlike checks that theirs, the page of another partner's
// registration id (path suffix), is the page of a registration that does
// not exist, byte for byte but for the ID in the page's own path.
func requireNotFoundAlike(t *testing.T, c *client, theirs page, id uuid.UUID, suffix, method string) {
	t.Helper()
	other := uuid.New()
	missing := "/portal/registrations/" + other.String() + suffix
	var want page
	if method == http.MethodPost {
		want = c.post("/portal", missing, url.Values{"reason": {"x"}})
	} else {
		want = c.get(missing)
	}
	require.Equal(t, http.StatusNotFound, theirs.Status)
	require.Equal(t, want.Status, theirs.Status)
	require.Equal(t, strings.ReplaceAll(want.Body, other.String(), "ID"), strings.ReplaceAll(theirs.Body, id.String(), "ID"))
}

func TestPortalExtensionRequest(t *testing.T) {
	s := newTestSite(t)
	id := s.registration(t, "acme", "Empresa Uno", "uno.example", true)
	c := s.partnerClient(t, "acme", "en")
	reg := "/portal/registrations/" + id.String()
	p := c.get(reg)
	require.Equal(t, http.StatusOK, p.Status)
	require.Contains(t, p.Body, `action="`+reg+`/extension"`)

	t.Run("ReasonRequired", func(t *testing.T) {
		before := s.head()
		p := c.post(reg, reg+"/extension", url.Values{"reason": {"   "}})
		require.Equal(t, http.StatusUnprocessableEntity, p.Status)
		require.Contains(t, p.Body, `id="extension-reason-error"`)
		require.Contains(t, p.Body, "Required.")
		require.Equal(t, before, s.head(), "a refused request appends nothing")
	})
	t.Run("OtherPartnerNotFound", func(t *testing.T) {
		other := s.partnerClient(t, "globex", "en")
		before := s.head()
		theirs := other.post("/portal", reg+"/extension", url.Values{"reason": {"let me in"}})
		requireNotFoundAlike(t, other, theirs, id, "/extension", http.MethodPost)
		require.Equal(t, before, s.head())
	})
	t.Run("Requested", func(t *testing.T) {
		p := c.post(reg, reg+"/extension", url.Values{"reason": {"The customer's board meets in July."}})
		require.Equal(t, http.StatusOK, p.Status)
		require.Equal(t, reg, p.URL)
		require.Contains(t, p.Body, "Extension requested.")
		require.Contains(t, p.Body, `id="extension-pending"`)
		types := s.streamTypes(t, domain.RegistrationStream(id))
		require.Equal(t, "RegistrationExtensionRequested", types[len(types)-1])
		d, err := s.app.Visible(adminCall.Caller, id)
		require.NoError(t, err)
		require.Equal(t, domain.StatusExtensionRequested, d.Status)
		// Asking again while one is pending is refused with the reason,
		// beside the form that is no longer offered.
		again := c.post(reg, reg+"/extension", url.Values{"reason": {"again"}})
		require.Equal(t, http.StatusConflict, again.Status)
	})
}

func TestPortalReceipts(t *testing.T) {
	s := newTestSite(t)
	id := s.registration(t, "acme", "Empresa Uno", "uno.example", true)
	c := s.partnerClient(t, "acme", "en")
	reg := "/portal/registrations/" + id.String()
	p := c.get(reg)
	require.Contains(t, p.Body, `href="`+reg+`/receipt"`)
	require.Contains(t, p.Body, strings.ReplaceAll(s.vkey, "+", "&#43;"))

	v, err := proof.NewVerifier(s.vkey)
	require.NoError(t, err)
	one := c.get(reg + "/receipt")
	require.Equal(t, http.StatusOK, one.Status)
	require.Contains(t, one.Header.Get("Content-Disposition"), `attachment; filename="receipt-`+id.String()+`.json"`)
	rep, err := proof.Verify([]byte(one.Body), v, nil)
	require.NoError(t, err)
	require.Equal(t, proof.ReceiptFormat, rep.Format)
	require.Equal(t, "RegistrationSubmitted", rep.Events[0].Leaf.Type)

	all := c.get(reg + "/receipts")
	require.Equal(t, http.StatusOK, all.Status)
	rep, err = proof.Verify([]byte(all.Body), v, nil)
	require.NoError(t, err)
	require.Equal(t, proof.ReceiptListFormat, rep.Format)
	var types []string
	for _, e := range rep.Events {
		types = append(types, e.Leaf.Type)
	}
	require.Contains(t, types, "RegistrationApproved")

	// A draft has no receipt to offer.
	draftID, _, err := s.app.Create(context.Background(), app.Call{Caller: app.Caller{Actor: domain.Actor{ID: "token:acme", Role: domain.RolePartner, PartnerID: "acme"}}},
		domain.TypeOpportunity, domain.Details{Account: domain.Account{CompanyName: "Borrador SA", Country: "MX"}}, false)
	require.NoError(t, err)
	require.NotContains(t, c.get("/portal/registrations/"+draftID.String()).Body, "/receipt")

	other := s.partnerClient(t, "globex", "en")
	for _, suffix := range []string{"/receipt", "/receipts"} {
		theirs := other.get(reg + suffix)
		requireNotFoundAlike(t, other, theirs, id, suffix, http.MethodGet)
	}
}

// approveMDF has channel marketing approve MDF request n in full.
func (s *site) approveMDF(t *testing.T, id uuid.UUID, n int) {
	t.Helper()
	_, err := s.app.ApproveMDF(context.Background(), marketingCall, id, n, domain.Money{}, "go ahead")
	require.NoError(t, err)
}

func TestPortalMDF(t *testing.T) {
	s := newTestSite(t)
	id := s.registration(t, "acme", "Empresa Uno", "uno.example", true)
	email := s.user(t, domain.RolePartner, "acme", "en")
	c := s.client(t)
	c.signIn(email)
	reg := "/portal/registrations/" + id.String()
	p := c.get(reg)
	require.Contains(t, p.Body, `id="mdf-allocation"`)
	require.Contains(t, p.Body, "3000.00 USD") // 2% of 150,000 under the default policy
	day := s.clock.Now().Format(time.DateOnly)

	t.Run("ErrorsKeepInput", func(t *testing.T) {
		before := s.head()
		p := c.post(reg, reg+"/mdf", url.Values{"activity": {"custom_demo"}, "description": {"Demo for the CFO"}, "amount": {"lots"},
			"currency": {"USD"}, "start_date": {day}, "end_date": {day}})
		require.Equal(t, http.StatusUnprocessableEntity, p.Status)
		require.Contains(t, p.Body, `id="mdf-amount-error"`)
		require.Contains(t, p.Body, `value="lots"`)
		require.Contains(t, p.Body, "Demo for the CFO")
		p = c.post(reg, reg+"/mdf", url.Values{"amount": {"100"}, "currency": {"USD"}})
		require.Equal(t, http.StatusUnprocessableEntity, p.Status)
		require.Contains(t, p.Body, `id="mdf-activity-error"`)
		require.Contains(t, p.Body, `id="mdf-start-error"`)
		require.Equal(t, before, s.head())
	})
	t.Run("OtherPartnerNotFound", func(t *testing.T) {
		other := s.partnerClient(t, "globex", "en")
		before := s.head()
		theirs := other.post("/portal", reg+"/mdf", url.Values{"activity": {"custom_demo"}, "amount": {"100"}, "currency": {"USD"}, "start_date": {day}, "end_date": {day}})
		requireNotFoundAlike(t, other, theirs, id, "/mdf", http.MethodPost)
		require.Equal(t, before, s.head())
	})

	p = c.post(reg, reg+"/mdf", url.Values{"activity": {"custom_demo"}, "description": {"Demo for the CFO"}, "amount": {"1200.50"},
		"currency": {"USD"}, "start_date": {day}, "end_date": {day}})
	require.Equal(t, http.StatusOK, p.Status)
	require.Contains(t, p.Body, "Funds requested.")
	require.Contains(t, p.Body, `id="mdf-request-1"`)
	require.Contains(t, p.Body, "1200.50 USD")
	require.Contains(t, s.streamTypes(t, domain.MDFStream(id)), "MDFRequested")

	s.approveMDF(t, id, 1)
	receipt := []byte("Invoice 77: demo catering, 1200.50 USD\n")
	p = c.postFile(reg, reg+"/mdf/1/receipts", "receipt", "invoice-77.txt", receipt)
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	require.Contains(t, p.Body, "Receipt added.")
	require.Contains(t, p.Body, "invoice-77.txt")
	acc, err := s.app.MDFAccountOf(adminCall.Caller, id)
	require.NoError(t, err)
	sha := acc.Requests[0].Receipts[0].SHA256
	got := c.get(reg + "/mdf/1/receipts/" + sha)
	require.Equal(t, http.StatusOK, got.Status)
	require.Equal(t, string(receipt), got.Body)
	require.Contains(t, got.Header.Get("Content-Disposition"), "invoice-77.txt")

	other := s.partnerClient(t, "globex", "en")
	theirs := other.get(reg + "/mdf/1/receipts/" + sha)
	requireNotFoundAlike(t, other, theirs, id, "/mdf/1/receipts/"+sha, http.MethodGet)
	before := s.head()
	require.Equal(t, http.StatusNotFound, other.postFile("/portal", reg+"/mdf/1/receipts", "receipt", "x.txt", []byte("x")).Status)
	require.Equal(t, before, s.head())

	// The claim, once the activity has ended, cites the receipt.
	s.clock.Advance(2 * domain.Day)
	c.signIn(email) // the session of two days ago has expired
	p = c.post(reg, reg+"/mdf/1/claim", url.Values{"amount": {"1200.50"}, "currency": {"USD"}, "receipts": {sha}, "note": {"as agreed"}})
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	require.Contains(t, p.Body, "Reimbursement claimed.")
	acc, err = s.app.MDFAccountOf(adminCall.Caller, id)
	require.NoError(t, err)
	require.Equal(t, domain.MDFClaimedState, acc.Requests[0].State)
	require.True(t, acc.Requests[0].Claimed.Amount.Equal(decimal.RequireFromString("1200.50")))
}

// publishPolicy publishes a new version at once and returns its number.
func (s *site) publishPolicy(t *testing.T, summary string) int {
	t.Helper()
	ctx := context.Background()
	p := domain.DefaultPolicy()
	p.Version, p.Summary = 0, summary
	v, err := s.app.ProposePolicy(ctx, adminCall, p)
	require.NoError(t, err)
	_, err = s.app.PublishPolicy(ctx, executiveCall, domain.Publication{Version: v.Policy.Version, EffectiveFrom: s.clock.Now(), Emergency: true, Rationale: "test"})
	require.NoError(t, err)
	return v.Policy.Version
}

func TestPortalPolicyAcknowledgement(t *testing.T) {
	s := newTestSite(t)
	s.clock.Advance(time.Hour)
	v := s.publishPolicy(t, "Shorter first-contact window")
	c := s.partnerClient(t, "acme", "en")
	p := c.get("/portal/policies")
	require.Equal(t, http.StatusOK, p.Status)
	require.Contains(t, p.Body, "In force: version 2")
	require.Contains(t, p.Body, "Shorter first-contact window")
	require.Contains(t, p.Body, `id="ack-button-2"`)

	t.Run("CSRF", func(t *testing.T) {
		before := s.head()
		p := c.post("/portal/policies", "/portal/policies/2/acknowledge", url.Values{"csrf": {"forged"}})
		require.Equal(t, http.StatusForbidden, p.Status)
		require.Equal(t, before, s.head())
	})
	t.Run("UnknownVersion", func(t *testing.T) {
		require.Equal(t, http.StatusNotFound, c.post("/portal/policies", "/portal/policies/9/acknowledge", url.Values{}).Status)
	})

	p = c.post("/portal/policies", "/portal/policies/2/acknowledge", url.Values{})
	require.Equal(t, http.StatusOK, p.Status)
	require.Contains(t, p.Body, "Acknowledgement recorded.")
	require.Contains(t, p.Body, `id="ack-2"`)
	require.Contains(t, p.Body, "Acknowledged by Test partner")
	recs, err := s.store.ReadStream(context.Background(), domain.PolicyAckStream("acme"), domain.ReadStreamOptions{})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	var ack domain.PolicyAcknowledged
	require.NoError(t, json.Unmarshal(recs[0].Data, &ack))
	require.Equal(t, v, ack.Version)
	require.True(t, strings.HasPrefix(ack.AcknowledgedBy, "user:"), ack.AcknowledgedBy)

	// Again: nothing more is recorded.
	before := s.head()
	c.post("/portal/policies", "/portal/policies/2/acknowledge", url.Values{})
	require.Equal(t, before, s.head())

	// Another partner's page shows its own state, not acme's.
	other := s.partnerClient(t, "globex", "es")
	p = other.get("/portal/policies")
	require.Contains(t, p.Body, "En vigor: versión 2")
	require.NotContains(t, p.Body, `id="ack-2"`)
}

func TestPortalNotifications(t *testing.T) {
	s := newTestSite(t)
	s.registration(t, "acme", "Empresa Uno", "uno.example", true)
	s.registration(t, "globex", "Globex Cliente", "gc.example", false)
	s.clock.Advance(time.Hour)
	s.publishPolicy(t, "new terms")
	c := s.partnerClient(t, "acme", "es")
	p := c.get("/portal/notifications")
	require.Equal(t, http.StatusOK, p.Status)
	require.Contains(t, p.Body, "Registro aprobado")
	require.Contains(t, p.Body, "Registro recibido: Empresa Uno")
	require.Contains(t, p.Body, "Política del programa, versión 2")
	require.NotContains(t, p.Body, "Globex Cliente")
	// Newest first: the policy (an hour later), then the approval, then
	// the submission.
	iPolicy, iApproved, iReceived := strings.Index(p.Body, "versión 2"), strings.Index(p.Body, "Registro aprobado"), strings.Index(p.Body, "Registro recibido")
	require.Less(t, iPolicy, iApproved)
	require.Less(t, iApproved, iReceived)
	require.NotContains(t, p.Body, "Sin leer: 0")
	// Seen once, nothing is unread the next time.
	require.Contains(t, c.get("/portal/notifications").Body, "Sin leer: 0")

	other := s.partnerClient(t, "globex", "en")
	p = other.get("/portal/notifications")
	require.Contains(t, p.Body, "Registration received: Globex Cliente")
	require.NotContains(t, p.Body, "Empresa Uno")
}

func TestPortalReports(t *testing.T) {
	s := newTestSite(t)
	s.registration(t, "acme", "Empresa Uno", "uno.example", true)
	s.registration(t, "acme", "=HYPERLINK(\"http://evil.example\")", "dos.example", false)
	s.registration(t, "globex", "Globex Cliente", "gc.example", false)
	c := s.partnerClient(t, "acme", "en")
	p := c.get("/portal/reports")
	require.Equal(t, http.StatusOK, p.Status)
	require.Contains(t, p.Body, "By status (2 registrations)")
	require.NotContains(t, p.Body, "Globex Cliente")

	res := c.get("/portal/reports.csv")
	require.Equal(t, http.StatusOK, res.Status)
	require.Equal(t, "text/csv; charset=utf-8", res.Header.Get("Content-Type"))
	rows, err := csv.NewReader(strings.NewReader(res.Body)).ReadAll()
	require.NoError(t, err)
	require.Equal(t, api.RegistrationColumns, rows[0])
	require.Len(t, rows, 3)
	var names []string
	for _, r := range rows[1:] {
		require.Equal(t, "acme", r[1])
		names = append(names, r[4])
	}
	require.Contains(t, names, "'=HYPERLINK(\"http://evil.example\")", "formulas are neutralised")

	active := c.get("/portal/reports.csv?status=active")
	rows, err = csv.NewReader(strings.NewReader(active.Body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 2)
	require.Equal(t, "Empresa Uno", rows[1][4])

	bad := c.get("/portal/reports?quarter=soon")
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status)
	require.Contains(t, bad.Body, `id="report-quarter-error"`)
	require.Equal(t, http.StatusUnprocessableEntity, c.get("/portal/reports.csv?status=nope").Status)
}

// The portal's new pages are for partner users: a reviewer is refused,
// and someone signed out is sent to sign in.
func TestPortalMorePagesNeedAPartner(t *testing.T) {
	s := newTestSite(t)
	cm := s.client(t)
	cm.signIn(s.user(t, domain.RoleChannelManager, "", "en"))
	anon := s.client(t)
	anon.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, path := range []string{"/portal/policies", "/portal/notifications", "/portal/reports", "/portal/reports.csv"} {
		require.Equal(t, http.StatusForbidden, cm.get(path).Status, path)
		res := anon.get(path)
		require.Equal(t, http.StatusSeeOther, res.Status, path)
		require.True(t, strings.HasPrefix(res.Header.Get("Location"), "/login?next="), path)
	}
}
