package api_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
)

// crmSecret is the shared secret of the outbox harness's inbound CRM
// endpoint.
const crmSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// crmSend posts a CRM message signed with secret at time at, under
// message ID id, and returns the status and body.
func (h *harness) crmSend(tb testing.TB, secret, id string, at time.Time, msg map[string]any) (int, []byte) {
	tb.Helper()
	body, err := json.Marshal(msg)
	require.NoError(tb, err)
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(tb, err)
	sig, err := wh.Sign(id, at, body)
	require.NoError(tb, err)
	code, raw, _ := h.do(tb, "", http.MethodPost, "/v1/crm/events", body,
		"webhook-id", id, "webhook-timestamp", strconv.FormatInt(at.Unix(), 10), "webhook-signature", sig)
	return code, raw
}

func crmHistory(r api.Registration) []string {
	var out []string
	for _, e := range r.History {
		out = append(out, e.Type+": "+e.Summary)
	}
	return out
}

// A stage, amount and close-date change in the CRM becomes a progress
// event on the registration the partner sees; the same message again
// appends nothing; a closed-won closes the registration.
func TestCRMInbound_ProgressAndClose(t *testing.T) {
	h := newOutboxHarness(t)
	reg := h.approve(t, "Hospital Central", "hospitalcentral.mx")
	require.Equal(t, domain.StatusActive, reg.Status)
	now := h.clock.Now()
	msg := map[string]any{"opportunity_id": "006Hx000001", "dealreg_id": reg.ID.String(), "stage": "Negotiation/Review",
		"amount": "175000.00", "currency": "USD", "close_date": "2026-05-15", "changed_fields": []string{"StageName", "Amount", "CloseDate"},
		"changed_by": "005Hx00000ana"}
	code, raw := h.crmSend(t, crmSecret, "msg_crm_1", now, msg)
	require.Equal(t, http.StatusCreated, code, string(raw))
	var rc app.CRMReceipt
	require.NoError(t, json.Unmarshal(raw, &rc))
	require.Equal(t, "recorded", rc.Status)

	got := h.get(t, "acme", reg.ID)
	require.Equal(t, domain.StatusActive, got.Status)
	require.Contains(t, crmHistory(got), "RegistrationProgressed: CRM update: stage Negotiation/Review, amount 175000.00 USD, close date 2026-05-15")
	require.Equal(t, "175000", got.Details.Opportunity.EstimatedValue.Amount.String())

	// The same message again (a relay retrying): nothing appended.
	head := h.eventCount()
	code, raw = h.crmSend(t, crmSecret, "msg_crm_1", now, msg)
	require.Equal(t, http.StatusOK, code, string(raw))
	require.NoError(t, json.Unmarshal(raw, &rc))
	require.Equal(t, "duplicate", rc.Status)
	require.Equal(t, head, h.eventCount())

	// The Salesforce connector's own write coming back: dropped.
	code, raw = h.crmSend(t, crmSecret, "msg_crm_echo", now, map[string]any{"opportunity_id": "006Hx000001", "dealreg_id": reg.ID.String(),
		"stage": "Prospecting", "changed_fields": []string{"StageName", app.DefaultEchoField}})
	require.Equal(t, http.StatusAccepted, code, string(raw))
	require.NoError(t, json.Unmarshal(raw, &rc))
	require.Equal(t, "ignored", rc.Status)
	require.Contains(t, rc.Reason, "echo")
	require.Equal(t, head, h.eventCount())

	// Closed won in the CRM closes the registration.
	code, raw = h.crmSend(t, crmSecret, "msg_crm_2", now, map[string]any{"opportunity_id": "006Hx000001", "dealreg_id": reg.ID.String(),
		"stage": "Closed Won", "amount": "180000", "currency": "USD", "is_closed": true, "is_won": true, "changed_fields": []string{"StageName", "IsWon"}})
	require.Equal(t, http.StatusCreated, code, string(raw))
	got = h.get(t, "acme", reg.ID)
	require.Equal(t, domain.StatusClosedWon, got.Status)

	// Later changes to a closed deal record nothing.
	head = h.eventCount()
	code, _ = h.crmSend(t, crmSecret, "msg_crm_3", now, map[string]any{"opportunity_id": "006Hx000001", "dealreg_id": reg.ID.String(), "stage": "Renewal"})
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, head, h.eventCount())

	// A closed-lost on another deal closes it as lost.
	other := h.approve(t, "Clínica del Norte", "clinicadelnorte.mx")
	code, raw = h.crmSend(t, crmSecret, "msg_crm_4", now, map[string]any{"opportunity_id": "006Hx000002", "dealreg_id": other.ID.String(),
		"stage": "Closed Lost", "is_closed": true})
	require.Equal(t, http.StatusCreated, code, string(raw))
	require.Equal(t, domain.StatusClosedLost, h.get(t, "acme", other.ID).Status)
}

// A message with a bad signature, another secret, an old or a future
// timestamp, or no signature at all is refused with 401 problem+json and
// appends nothing.
func TestCRMInbound_RefusedAppendsNothing(t *testing.T) {
	h := newOutboxHarness(t)
	reg := h.approve(t, "Hospital Central", "hospitalcentral.mx")
	head := h.eventCount()
	now := h.clock.Now()
	msg := map[string]any{"dealreg_id": reg.ID.String(), "stage": "Closed Won", "is_closed": true, "is_won": true}
	for name, send := range map[string]func() (int, []byte){
		"other secret":     func() (int, []byte) { return h.crmSend(t, "whsec_"+"QUJDREVGR0hJSktMTU5PUFFSU1RVVldY", "m1", now, msg) },
		"old timestamp":    func() (int, []byte) { return h.crmSend(t, crmSecret, "m2", now.Add(-6*time.Minute), msg) },
		"future timestamp": func() (int, []byte) { return h.crmSend(t, crmSecret, "m3", now.Add(6*time.Minute), msg) },
		"tampered body": func() (int, []byte) {
			body, _ := json.Marshal(msg)
			wh, _ := standardwebhooks.NewWebhook(crmSecret)
			sig, _ := wh.Sign("m4", now, body)
			body[len(body)-2] = ' '
			code, raw, _ := h.do(t, "", http.MethodPost, "/v1/crm/events", body,
				"webhook-id", "m4", "webhook-timestamp", strconv.FormatInt(now.Unix(), 10), "webhook-signature", sig)
			return code, raw
		},
		"unsigned": func() (int, []byte) {
			code, raw, _ := h.do(t, "", http.MethodPost, "/v1/crm/events", msg)
			return code, raw
		},
	} {
		code, raw := send()
		require.Equal(t, http.StatusUnauthorized, code, name)
		var p api.Problem
		require.NoError(t, json.Unmarshal(raw, &p), name)
		require.Equal(t, domain.EUNAUTHORIZED, p.Code, name)
		require.Equal(t, head, h.eventCount(), name)
	}
	require.Equal(t, domain.StatusActive, h.get(t, "acme", reg.ID).Status)

	// Within the window (4 minutes old) it is accepted.
	code, raw := h.crmSend(t, crmSecret, "m5", now.Add(-4*time.Minute), msg)
	require.Equal(t, http.StatusCreated, code, string(raw))
	// A bad field is a 400 naming it, and appends nothing.
	head = h.eventCount()
	p := api.Problem{}
	code, raw = h.crmSend(t, crmSecret, "m6", now, map[string]any{"dealreg_id": reg.ID.String(), "amount": "lots"})
	require.Equal(t, http.StatusBadRequest, code)
	require.NoError(t, json.Unmarshal(raw, &p))
	require.Equal(t, "amount", p.Errors[0].Field)
	require.Equal(t, head, h.eventCount())
}
