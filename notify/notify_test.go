package notify_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/notify"
)

// Every kind: the event that gives it, who it is for, and a message in
// each language that names what the person needs.
func TestClassifyAndRender_EveryKind(t *testing.T) {
	id := uuid.MustParse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	stream := "registration-" + id.String()
	cases := []struct {
		ev     domain.Event
		kind   string
		to     notify.Notice
		enSays string
		esSays string
	}{
		{domain.RegistrationSubmitted{RegistrationID: id, Details: domain.Details{Account: domain.Account{CompanyName: "Hospital Ángeles"}}},
			notify.SubmissionReceived, notify.Notice{Stream: stream}, "Hospital Ángeles", "Hospital Ángeles"},
		{domain.RegistrationVerdictRecorded{RegistrationID: id, Verdict: domain.Verdict("clear")}, notify.Verdict, notify.Notice{Stream: stream}, "clear", "clear"},
		{domain.RegistrationApproved{RegistrationID: id, Terms: domain.ProtectionTerms{ProtectionStart: at, ProtectionEnd: at.Add(90 * domain.Day)},
			Benefits: &domain.GrantedBenefits{Discount: domain.DiscountGrant{Percent: decimal.RequireFromString("12.5")}}},
			notify.Approved, notify.Notice{Stream: stream}, "to 2026-05-31. Discount: 12.5%", "al 2026-05-31. Descuento: 12.5%"},
		{domain.RegistrationRejected{RegistrationID: id, Reason: "other", Explanation: "not a fit", Guidance: "try the group"},
			notify.Rejected, notify.Notice{Stream: stream}, "What you can do: try the group", "Qué puede hacer: try the group"},
		{domain.RegistrationReturned{RegistrationID: id, Message: "add the CFO", RequestedFields: []string{"personal"}},
			notify.Returned, notify.Notice{Stream: stream}, "add the CFO (fields: personal)", "add the CFO (campos: personal)"},
		{domain.RegistrationExtensionGranted{RegistrationID: id, NewEnd: at.Add(30 * domain.Day)}, notify.ExtensionGranted, notify.Notice{Stream: stream}, "2026-04-01", "2026-04-01"},
		{domain.RegistrationExtensionDenied{RegistrationID: id, Reason: "no progress"}, notify.ExtensionDenied, notify.Notice{Stream: stream}, "no progress", "no progress"},
		{domain.RegistrationExpiryReminderSent{RegistrationID: id, ProtectionEnd: at, DaysLeft: 7}, notify.ExpiryReminder, notify.Notice{Stream: stream}, "in 7 days", "en 7 días"},
		{domain.RegistrationExpired{RegistrationID: id, ProtectionEnd: at}, notify.Expired, notify.Notice{Stream: stream}, "ended on 2026-03-02", "terminó el 2026-03-02"},
		{domain.ConflictEvidenceRequested{ConflictID: id, PartyKey: domain.PartyKeyRegistration(id), Request: "the first meeting's minutes"},
			notify.EvidenceRequested, notify.Notice{Stream: stream}, "the first meeting's minutes", "the first meeting's minutes"},
		{domain.RegistrationConflictDecided{RegistrationID: id, Result: domain.ConflictResult("awarded"), Rationale: "first contact proven"},
			notify.ConflictDecided, notify.Notice{Stream: stream}, "awarded", "awarded"},
		{domain.PolicyPublished{Version: 3, EffectiveFrom: at}, notify.PolicyChanged, notify.Notice{AllPartners: true}, "takes effect on 2026-03-02", "entra en vigor el 2026-03-02"},
		{domain.RegistrationRouted{RegistrationID: id, Group: "northeast", DueAt: at}, notify.ReviewAssigned, notify.Notice{Group: "northeast"}, "awaits your review", "espera su revisión"},
		{domain.RegistrationReviewReminderSent{RegistrationID: id, Group: "northeast", DueAt: at}, notify.ReviewReminder, notify.Notice{Group: "northeast"}, "still waiting", "sigue esperando"},
		{domain.RegistrationReviewEscalated{RegistrationID: id, FromGroup: "northeast", To: domain.RoleChannelDirector, DueAt: at},
			notify.ReviewEscalated, notify.Notice{Role: domain.RoleChannelDirector}, "escalated to you", "se escaló a usted"},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.kind, func(t *testing.T) {
			n, ok := notify.Classify(tc.ev)
			require.True(t, ok)
			require.Equal(t, tc.kind, n.Kind)
			require.Equal(t, tc.to.Stream, n.Stream)
			require.Equal(t, tc.to.AllPartners, n.AllPartners)
			require.Equal(t, tc.to.Group, n.Group)
			require.Equal(t, tc.to.Role, n.Role)
			for lang, says := range map[string]string{"en": tc.enSays, "es": tc.esSays} {
				subject, body, err := notify.Render(notify.Message{Name: "Ana", Language: lang, Kind: n.Kind, Fields: n.Fields})
				require.NoError(t, err)
				require.NotEmpty(t, subject)
				require.Contains(t, subject+"\n"+body, says, lang)
				require.Contains(t, body, "Ana")
				require.NotContains(t, subject+body, "<no value>")
			}
			seen[tc.kind] = true
		})
	}
	require.Len(t, seen, len(notify.Kinds), "every kind has a case")
	_, ok := notify.Classify(domain.ConflictEvidenceRequested{PartyKey: domain.PartyKeyDirect(id)})
	require.False(t, ok, "the direct party is not e-mailed")
	_, ok = notify.Classify(domain.RegistrationDrafted{RegistrationID: id})
	require.False(t, ok)
}

// The customer attestation link's mail goes to the contact the request
// names, in its language or, unknown, in both; what is stored names the
// link's parts (the token is rebuilt when it is sent) and nothing else.
func TestClassifyAndRender_Attestation(t *testing.T) {
	cid, aid := uuid.New(), uuid.New()
	exp := time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC)
	n, ok := notify.Classify(domain.ConflictAttestationRequested{ConflictID: cid, AttestationID: aid, TokenHash: "ab", ExpiresAt: exp,
		Personal: domain.AttestationContact{Name: "Ana Pérez", Email: "ana@xyz.example", Language: "es"}, RequestedBy: "user:cm"})
	require.True(t, ok)
	require.Equal(t, notify.AttestationRequested, n.Kind)
	require.Equal(t, "ana@xyz.example", n.Contact.Email)
	require.Equal(t, aid.String(), n.ContactKey)
	require.Empty(t, n.Stream)
	require.Equal(t, map[string]string{"conflict": cid.String(), "attestation": aid.String(), "expires_at": "2026-03-09T09:00:00Z", "until": "2026-03-09 09:00 UTC"}, n.Fields)
	m := notify.Message{Name: "Ana Pérez", Kind: n.Kind, Fields: map[string]string{"link": "https://portal.test/attest/dat_x", "until": n.Fields["until"]}}
	for lang, says := range map[string][]string{"es": {"¿con cuál de nuestros partners trabaja"}, "en": {"which of our partners do you work with"},
		"": {"¿con cuál de nuestros partners trabaja", "which of our partners do you work with"}} {
		m.Language = lang
		subject, body, err := notify.Render(m)
		require.NoError(t, err)
		require.NotEmpty(t, subject)
		for _, s := range says {
			require.Contains(t, body, s, lang)
		}
		require.Contains(t, body, "https://portal.test/attest/dat_x")
		require.Contains(t, body, "2026-03-09 09:00 UTC")
		require.NotContains(t, body, cid.String())
		require.NotContains(t, subject+body, "<no value>")
	}
}
