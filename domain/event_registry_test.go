package domain_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// sampleEvents returns one fully populated value of every registered event
// type.
func sampleEvents() []domain.Event {
	id := uuid.MustParse("6f1c2a8e-7d1b-4c3a-9e55-0a1b2c3d4e5f")
	at := time.Date(2026, 3, 2, 9, 30, 15, 123456789, time.UTC)
	end := at.Add(90 * domain.Day)
	d := validDetails().Normalize()
	d.Proof = []domain.ProofItem{
		{Kind: domain.ProofMeetingConfirmation, AttachmentSHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		{Kind: domain.ProofBANT, Answers: []domain.Answer{{Question: "Budget?", Answer: "Approved for Q2"}}},
	}
	d.Opportunity.Competitors = []string{"Rival Corp"}
	d.Personal.DecisionMakers[0].Email = "ana@xyz.example"
	terms := domain.ProtectionTerms{
		PolicyVersion: 1, Type: domain.TypeOpportunity, ProtectionStart: at, ProtectionEnd: end,
		MaxExtensions: 2, ExtensionLength: 30 * domain.Day,
	}
	benefits := domain.DefaultPolicy().BenefitsFor("partner-1", domain.TierGold, domain.TypeOpportunity, d.Opportunity.EstimatedValue)
	usd := func(s string) domain.Money {
		return domain.Money{Amount: decimal.RequireFromString(s), Currency: "USD"}
	}
	receipt := domain.Attachment{SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Size: 42, ContentType: "application/pdf", Filename: "invoice.pdf"}
	return []domain.Event{
		domain.RegistrationDrafted{RegistrationID: id, PartnerID: "partner-1", Type: domain.TypeOpportunity, Details: d, DraftedBy: "u1", At: at},
		domain.RegistrationAmended{RegistrationID: id, Details: d, AmendedBy: "u1", At: at},
		domain.RegistrationSubmitted{RegistrationID: id, PartnerID: "partner-1", Type: domain.TypeNamedAccount, Attempt: 2, Details: d, PolicyVersion: 1, SubmittedBy: "u1", At: at},
		domain.RegistrationVerdictRecorded{RegistrationID: id, Attempt: 2, Verdict: domain.VerdictPossibleDuplicate, Matches: []uuid.UUID{earlierID}, Reason: "same domain", CoveredByGrant: earlierID, GrantConflicts: []uuid.UUID{id}, PolicyVersion: 2, At: at},
		domain.RegistrationReviewStarted{RegistrationID: id, ReviewerID: "cm1", At: at},
		domain.RegistrationApproved{RegistrationID: id, ApprovedBy: "cm1", Terms: terms, Benefits: &benefits, Checklist: []string{"relationship", "quality"}, At: at},
		domain.RegistrationRejected{RegistrationID: id, RejectedBy: "cm1", Reason: domain.RejectPoorSolutionFit, Explanation: "e", Guidance: "g", PolicyVersion: 2, At: at},
		domain.RegistrationReturned{RegistrationID: id, ReturnedBy: "cm1", Message: "m", RequestedFields: []string{"proof"}, At: at},
		domain.RegistrationProgressed{RegistrationID: id, ProgressedBy: "u1", BuyingStage: domain.StageCommit, NextSteps: "sign", Note: "n", At: at},
		domain.RegistrationExtensionRequested{RegistrationID: id, RequestedBy: "u1", Reason: "r", At: at},
		domain.RegistrationExtensionGranted{RegistrationID: id, GrantedBy: "cm1", Number: 1, ExtensionLength: 30 * domain.Day, PreviousEnd: end, NewEnd: end.Add(30 * domain.Day), PolicyVersion: 1, At: at},
		domain.RegistrationExtensionDenied{RegistrationID: id, DeniedBy: "cm1", Reason: "r", At: at},
		domain.RegistrationRenewed{RegistrationID: id, RenewedBy: "cm1", Renewal: 1, PreviousEnd: end, Terms: terms, At: at},
		domain.RegistrationExpiryReminderSent{RegistrationID: id, ProtectionEnd: end, DaysLeft: 14, At: at},
		domain.RegistrationExpired{RegistrationID: id, ProtectionEnd: end, PolicyVersion: 2, At: at},
		domain.RegistrationClosedWon{RegistrationID: id, ClosedBy: "u1", FinalValue: domain.Money{Amount: decimal.RequireFromString("149999.9"), Currency: "USD"}, Note: "n", At: at},
		domain.RegistrationClosedLost{RegistrationID: id, ClosedBy: "u1", Reason: "r", At: at},
		domain.RegistrationWithdrawn{RegistrationID: id, WithdrawnBy: "u1", Reason: "r", At: at},
		domain.RegistrationAttachmentAdded{RegistrationID: id, Attachment: domain.Attachment{SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Size: 12, ContentType: "application/pdf", Filename: "intro.pdf"}, AddedBy: "u1", At: at},
		domain.RegistrationConflictDecided{RegistrationID: id, ConflictID: earlierID, Result: domain.ConflictCoRegistered, SharePercent: decimal.RequireFromString("60"), Responsibilities: "implementation", Rationale: "both proved work", PolicyClause: "co-registration 5.1", DecidedBy: "dir", Terms: &terms, At: at},
		domain.PartnerAdded{Partner: domain.Partner{ID: "acme", Name: "Acme", Tier: domain.TierGold, Regions: []string{"EMEA"}}, AddedBy: "admin", At: at},
		domain.PartnerUpdated{Partner: domain.Partner{ID: "acme", Name: "Acme Ltd", Tier: domain.TierPlatinum}, UpdatedBy: "admin", At: at},
		domain.TerritoryGranted{GrantID: id, Grant: domain.TerritoryGrant{PartnerID: "acme", Country: "US", Region: "Northeast", Vertical: "Healthcare", ValidFrom: at, ValidTo: end}, GrantedBy: "dir", At: at},
		domain.TerritoryGrantRevoked{GrantID: id, PartnerID: "acme", Reason: "contract ended early", RevokedBy: "dir", At: at},
		domain.TokenIssued{TokenID: id, Name: "ci", Role: domain.RolePartner, PartnerID: "acme", SecretSHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", IssuedBy: "admin", At: at},
		domain.TokenRevoked{TokenID: id, RevokedBy: "admin", At: at},
		domain.UserInvited{UserID: id, Personal: domain.UserPersonal{Name: "Ana", Email: "ana@acme.example"}, Role: domain.RolePartner, PartnerID: "acme", Language: "es", InviteSHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", InvitedBy: "admin", At: at},
		domain.UserPasswordSet{UserID: id, PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", At: at},
		domain.UserLanguageSet{UserID: id, Language: "en", At: at},
		domain.UserNotificationsRead{UserID: id, Through: 42, At: at},
		domain.SessionStarted{SessionID: earlierID, UserID: id, SecretSHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", ExpiresAt: end, At: at},
		domain.SessionEnded{SessionID: earlierID, EndedBy: "user:x", At: at},
		domain.SignInLinkIssued{LinkID: earlierID, UserID: id, SecretSHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", ExpiresAt: end, At: at},
		domain.SignInLinkUsed{LinkID: earlierID, SessionID: id, At: at},
		domain.DirectOpportunityRecorded{OpportunityID: id, Opportunity: domain.DirectOpportunity{Account: d.Account, ProductLines: []string{"HR"}, EstimatedValue: domain.Money{Amount: decimal.RequireFromString("1000"), Currency: "USD"}, BuyingStage: domain.StageDiscovery, FirstContactDate: at, Owner: "rep@vendor", CRMID: "OPP-1"}, RecordedBy: "ds", At: at},
		domain.DirectOpportunityUpdated{OpportunityID: id, Opportunity: domain.DirectOpportunity{Account: d.Account, Owner: "rep@vendor"}, UpdatedBy: "ds", At: at},
		domain.DirectOpportunityClosed{OpportunityID: id, Outcome: domain.DirectCeded, Reason: "conflict", ClosedBy: "cm", At: at},
		domain.AccountMatchDecided{A: "IBM", B: "International Business Machines", Same: true, Note: "n", DecidedBy: "cm", At: at},
		domain.SubsidiaryLinked{Parent: "Grupo XYZ", Subsidiary: "XYZ Norte", Note: "n", LinkedBy: "cm", At: at},
		domain.ConflictOpened{ConflictID: id, Kind: domain.ConflictPartnerVsDirect, Parties: []domain.Party{
			{Key: domain.PartyKeyRegistration(id), Kind: domain.PartyPartner, PartnerID: "acme", RegistrationID: id, ClaimPosition: 7, ClaimedAt: at, FirstContact: at.Add(-domain.Day), HasProof: true, Tier: domain.TierGold},
			{Key: domain.PartyKeyDirect(earlierID), Kind: domain.PartyDirect, DirectOpportunityID: earlierID, Owner: "rep@vendor", ClaimPosition: 9, ClaimedAt: at},
		}, Account: d.Account, Value: domain.Money{Amount: decimal.RequireFromString("300000.5"), Currency: "USD"}, Reason: "same domain", Automatic: true, Level: 2, DueAt: end, PolicyVersion: 1, EscalationReasons: []string{domain.EscalationHighValue}, OpenedBy: "system", At: at},
		domain.ConflictEvidenceRequested{ConflictID: id, PartyKey: domain.PartyKeyDirect(earlierID), Request: "CRM notes", RequestedBy: "cm", At: at},
		domain.ConflictEvidenceSubmitted{ConflictID: id, PartyKey: domain.PartyKeyRegistration(id), Evidence: domain.Evidence{Statement: "we met first", FirstContact: at.Add(-2 * domain.Day), Timeline: []domain.Activity{{Kind: domain.ActivityDemo, Date: at}}, Documents: []domain.Attachment{{SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Size: 12, ContentType: "application/pdf", Filename: "nda.pdf"}}}, SubmittedBy: "u1", At: at},
		domain.ConflictEscalated{ConflictID: id, FromLevel: 2, ToLevel: 3, Reason: "partner relationship at risk", DueAt: end, EscalatedBy: "dir", PolicyVersion: 2, At: at},
		domain.ConflictDecided{ConflictID: id, Outcome: domain.OutcomeCoRegister, Shares: []domain.Share{{PartyKey: "registration:a", Percent: decimal.RequireFromString("60"), Responsibilities: "implementation"}, {PartyKey: "registration:b", Percent: decimal.RequireFromString("40"), Responsibilities: "licences"}}, Rationale: "both proved work", PolicyClause: "co-registration 5.1", Level: 3, DecidedBy: "exec", Recommended: domain.PartyKeyRegistration(id), RecommendedClause: domain.ClausePartnerFirst, Overrode: true, PolicyVersion: 2, At: at},
		domain.ConflictAttestationRequested{ConflictID: id, AttestationID: earlierID, TokenHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", ExpiresAt: end, Personal: domain.AttestationContact{Name: "Ana", Email: "ana@xyz.example"}, RequestedBy: "cm", At: at},
		domain.ConflictAttested{ConflictID: id, AttestationID: earlierID, PartyKey: "registration:a", Solution: "cloud migration", At: at},
		domain.PolicyProposed{Version: 2, Document: policyV2(), ProposedBy: "leader", At: at},
		domain.PolicyPublished{Version: 2, EffectiveFrom: end, InForceVersion: 1, RequiredNotice: "30d", NoticeGiven: "90d", Emergency: true, Rationale: "r",
			Notice: domain.PartnerNotice{Audience: domain.AudienceAllPartners, From: at, AcknowledgeBy: end}, PublishedBy: "exec", PublisherRole: domain.RoleExecutive, At: at},
		domain.PolicyWithdrawn{Version: 2, Reason: "typo", WithdrawnBy: "leader", At: at},
		domain.PolicyAcknowledged{Version: 2, PartnerID: "acme", AcknowledgedBy: "token:1", At: at},
		// The partner program.
		domain.PartnerCredentialRecorded{PartnerID: "acme", Credential: domain.Credential{Kind: domain.CredentialCertification, Name: "hr-suite-sales", Issued: at.Add(-domain.Day), Expires: end}, RecordedBy: "cm", At: at},
		domain.PartnerSuspended{PartnerID: "acme", Until: end, Reason: "r", PolicyVersion: 2, SuspendedBy: "cm", At: at},
		domain.PartnerReinstated{PartnerID: "acme", Reason: "r", ReinstatedBy: "dir", At: at},
		domain.PartnerTerminated{PartnerID: "acme", Reason: "r", PolicyVersion: 2, TerminatedBy: "dir", At: at},
		domain.RegistrationViolationRecorded{RegistrationID: id, ViolationID: earlierID, PartnerID: "acme", Kind: domain.ViolationFalseInformation,
			Evidence: domain.ViolationEvidence{Statement: "the CFO never met them", References: []string{"CRM-1"}, Documents: []domain.Attachment{{SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Size: 12, ContentType: "application/pdf", Filename: "intro.pdf"}}},
			Sanction: domain.Sanction{Revoke: true, SuspendedUntil: end, Protections: domain.ProtectionsKept}, PolicyVersion: 2, RecordedBy: "cm", RecorderRole: domain.RoleChannelManager, At: at},
		domain.RegistrationRevoked{RegistrationID: id, Reason: domain.RevokedForViolation, ViolationID: earlierID, ProtectionEnd: end, PolicyVersion: 2, RevokedBy: "cm", At: at},
		// Approval automation.
		domain.RegistrationAutoApproved{RegistrationID: id, Attempt: 1, Rule: domain.AutoApprovalRule,
			Conditions: []domain.Condition{{Name: domain.CondValue, Required: "under 100000 USD", Actual: "50000 USD", Met: true}},
			Figures:    domain.TrackRecord{From: at.Add(-365 * domain.Day), To: at, Decided: 6, Approved: 6, Ended: 4, Won: 2}, PolicyVersion: 2, At: at},
		domain.RegistrationRouted{RegistrationID: id, Attempt: 1, Group: "emea-enterprise", Criteria: []string{"region EMEA"}, DueAt: end, RemindAt: at, EscalateAt: end,
			EscalateTo: domain.RoleChannelDirector, NotAutoApproved: []domain.Condition{{Name: domain.CondTier, Required: "gold", Actual: "silver"}}, PolicyVersion: 2, At: at},
		domain.RegistrationReviewReminderSent{RegistrationID: id, Attempt: 1, Group: "emea-enterprise", DueAt: end, PolicyVersion: 2, At: at},
		domain.RegistrationReviewEscalated{RegistrationID: id, Attempt: 1, FromGroup: "emea-enterprise", To: domain.RoleChannelDirector, DueAt: end, PolicyVersion: 2, At: at},
		domain.ReviewerAssigned{TokenID: id, Assignment: domain.ReviewerAssignment{Group: "emea-enterprise", MaxValue: map[string]decimal.Decimal{"USD": decimal.RequireFromString("250000")}}, AssignedBy: "dir", At: at},
		domain.MDFRequested{RegistrationID: id, PartnerID: "partner-1", Request: 1, Activity: domain.MDFCustomDemo, Description: "demo", Amount: usd("1200.5"), StartDate: "2026-04-01", EndDate: "2026-04-02",
			Allocation: usd("3000"), PolicyVersion: 1, RemainingBefore: usd("3000"), RequestedBy: "u1", At: at},
		domain.MDFRequestApproved{RegistrationID: id, Request: 1, Amount: usd("1000"), Note: "n", ApprovedBy: "mkt", At: at},
		domain.MDFRequestRejected{RegistrationID: id, Request: 2, Reason: "r", RejectedBy: "mkt", At: at},
		domain.MDFReceiptAdded{RegistrationID: id, Request: 1, Receipt: receipt, AddedBy: "u1", At: at},
		domain.MDFClaimSubmitted{RegistrationID: id, Request: 1, Amount: usd("950"), Receipts: []string{receipt.SHA256}, Note: "n", ClaimedBy: "u1", At: at},
		domain.MDFClaimReimbursed{RegistrationID: id, Request: 1, Amount: usd("900"), Claimed: usd("950"), Reason: "taxi", ReimbursedBy: "mkt", At: at},
		domain.PresalesResourceAdded{Resource: domain.PresalesResource{ID: "ana", Name: "Ana Ruiz", Kind: domain.SolutionsArchitect, CapacityHours: 120}, AddedBy: "cm1", At: at},
		domain.PresalesAssigned{RegistrationID: id, PartnerID: "partner-1", ResourceID: "ana", Kind: domain.SolutionsArchitect, Basis: domain.PresalesDedicated, Hours: 40, Level: "enterprise", PolicyVersion: 1, AssignedBy: "cm1", At: at},
		domain.PresalesUnassigned{RegistrationID: id, ResourceID: "ana", Hours: 40, Reason: "closed", UnassignedBy: "cm1", At: at},
		domain.GrantTermDecided{GrantID: id, PartnerID: "partner-1", Outcome: domain.GrantRenewed, TermFrom: at, TermTo: end,
			Contract:  domain.GrantContract{Renew: true, MinApproved: 2, MinApprovedValue: map[string]decimal.Decimal{"USD": decimal.RequireFromString("100000")}, MinClosedWon: 1},
			Figures:   domain.GrantFigures{Approved: 3, ApprovedValue: map[string]decimal.Decimal{"USD": decimal.RequireFromString("450000.5")}, ClosedWon: 1, Registrations: []uuid.UUID{earlierID}},
			RenewedAs: earlierID, PolicyVersion: 1, DecidedBy: "system", At: at},
		domain.MDFRequestWithdrawn{RegistrationID: id, Request: 4, Reason: "the event was cancelled", WithdrawnBy: "u1", At: at},
		domain.RegistrationRated{RegistrationID: id, PartnerID: "partner-1", Score: 4, Comment: "quick answer", Outcome: domain.StatusActive, RatedBy: "u1", At: at},
		domain.MDFClaimRejected{RegistrationID: id, Request: 3, Reason: "r", RejectedBy: "mkt", At: at},
		domain.WebhookCreated{Subscription: domain.WebhookSubscription{ID: "wh_1", URL: "https://crm.example/hook", EventTypes: []string{"*"},
			Enabled: true, PartnerID: "acme", SealedSecret: "c2VhbGVk", CreatedAt: at}, By: "admin", At: at},
		domain.WebhookUpdated{ID: "wh_1", URL: "https://crm.example/hook2", EventTypes: []string{"RegistrationApproved"}, Enabled: false, By: "admin", At: at},
		domain.WebhookDisabled{ID: "wh_1", Reason: "410 Gone", At: at},
		domain.WebhookReplayRequested{ID: "wh_1", FromPosition: 7, DeliveryID: "msg_x", By: "admin", At: at},
		domain.PersonRecorded{Person: domain.Person{ID: "ana", Name: "Ana", Email: "ana@acme.example", Role: domain.RolePartner, PartnerID: "acme",
			Language: "es", Groups: []string{"g"}, Preferences: map[string]string{"expiry_reminder": "digest"}}, By: "admin", At: at},
		domain.RegistrationHandoffGranted{RegistrationID: id, Scope: "joint call", Until: at, GrantedBy: "u1", At: at},
		domain.RegistrationTakeoverRefused{RegistrationID: id, DirectID: earlierID, Action: "close", ProtectionEnd: at, By: "sales", At: at},
	}
}

func TestEventRegistry_RoundTrip(t *testing.T) {
	samples := sampleEvents()
	var covered []string
	for _, e := range samples {
		t.Run(e.EventType(), func(t *testing.T) {
			typ, version, data, err := domain.EncodeEvent(e)
			require.NoError(t, err)
			require.Equal(t, e.EventType(), typ)
			want, ok := domain.EventSchemaVersion(typ)
			require.True(t, ok)
			require.Equal(t, want, version)
			require.Equal(t, 1, version)
			require.True(t, json.Valid(data))
			if _, ok := e.(domain.RegistrationEvent); ok {
				require.Contains(t, string(data), `"registration_id":"6f1c2a8e-7d1b-4c3a-9e55-0a1b2c3d4e5f"`)
			}

			got, err := domain.DecodeEvent(typ, version, data)
			require.NoError(t, err)
			require.Equal(t, e, got)

			_, _, again, err := domain.EncodeEvent(got)
			require.NoError(t, err)
			require.JSONEq(t, string(data), string(again))
		})
		covered = append(covered, e.EventType())
	}
	require.ElementsMatch(t, domain.EventTypes(), covered, "every registered event type has a sample")
}

func TestEventRegistry_Format(t *testing.T) {
	_, _, data, err := domain.EncodeEvent(sampleEvents()[0])
	require.NoError(t, err)
	var doc struct {
		Details struct {
			Account     json.RawMessage `json:"account"`
			Opportunity struct {
				EstimatedValue map[string]any `json:"estimated_value"`
			} `json:"opportunity"`
			Personal map[string]any `json:"personal"`
		} `json:"details"`
	}
	require.NoError(t, json.Unmarshal(data, &doc))
	require.Equal(t, map[string]any{"amount": "150000", "currency": "USD"}, doc.Details.Opportunity.EstimatedValue,
		"money is a decimal string and an explicit currency")
	require.Contains(t, doc.Details.Personal, "decision_makers", "personal data sits under details.personal")
	require.NotContains(t, string(doc.Details.Account), "Ana", "no personal data outside details.personal")
}

func TestEventRegistry_Errors(t *testing.T) {
	e := domain.RegistrationExpired{RegistrationID: uuid.New()}
	_, _, data, err := domain.EncodeEvent(e)
	require.NoError(t, err)

	_, err = domain.DecodeEvent("RegistrationTeleported", 1, data)
	require.ErrorIs(t, err, domain.ErrUnknownEvent)
	_, err = domain.DecodeEvent("RegistrationExpired", 2, data)
	require.ErrorIs(t, err, domain.ErrUnknownEvent)
	_, err = domain.DecodeEvent("RegistrationExpired", 1, []byte(`{"registration_id": 5}`))
	require.Error(t, err)
	require.NotErrorIs(t, err, domain.ErrUnknownEvent)

	_, _, _, err = domain.EncodeEvent(&e)
	require.ErrorIs(t, err, domain.ErrUnknownEvent, "events are stored as values, not pointers")
	_, _, _, err = domain.EncodeEvent(nil)
	require.ErrorIs(t, err, domain.ErrUnknownEvent)
	_, _, _, err = domain.EncodeEvent(strangeEvent{})
	require.ErrorIs(t, err, domain.ErrUnknownEvent)

	_, ok := domain.EventSchemaVersion("RegistrationTeleported")
	require.False(t, ok)
}

type strangeEvent struct{}

func (strangeEvent) EventType() string { return "RegistrationExpired" }
