package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// The timeline every lifecycle test follows.
var (
	t0         = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // drafted
	submitAt   = t0.Add(time.Hour)
	verdictAt  = submitAt.Add(time.Minute)
	reviewAt   = t0.Add(2 * time.Hour)
	approvedAt = t0.Add(3 * time.Hour)
	requestAt  = approvedAt.Add(5 * domain.Day) // extension requested
	cmdAt      = approvedAt.Add(10 * domain.Day)
)

var (
	partner      = domain.Actor{ID: "user-p1", Role: domain.RolePartner, PartnerID: "partner-1"}
	otherPartner = domain.Actor{ID: "user-p2", Role: domain.RolePartner, PartnerID: "partner-2"}
	manager      = domain.Actor{ID: "user-cm", Role: domain.RoleChannelManager}
	director     = domain.Actor{ID: "user-cd", Role: domain.RoleChannelDirector}
	auditor      = domain.Actor{ID: "user-au", Role: domain.RoleAuditor}
	earlierID    = uuid.MustParse("00000000-0000-4000-8000-000000000001")
)

// validDetails returns details that satisfy the submission minimum at
// submitAt, plus some optional fields.
func validDetails() domain.Details {
	return domain.Details{
		Account: domain.Account{
			CompanyName:  "Empresa XYZ",
			Domain:       "xyz.example",
			Country:      "MX",
			Region:       "Northeast",
			Industry:     "Healthcare",
			EmployeeBand: domain.Employees501To1000,
		},
		Opportunity: domain.Opportunity{
			ProductLines:      []string{"HR Management"},
			EstimatedValue:    domain.Money{Amount: decimal.RequireFromString("150000.00"), Currency: "USD"},
			ExpectedCloseDate: t0.Add(60 * domain.Day),
			BuyingStage:       domain.StageEvaluation,
		},
		Relationship: domain.Relationship{
			HowFound:         domain.SourceReferral,
			FirstContactDate: t0.Add(-10 * domain.Day),
			Activities:       []domain.Activity{{Kind: domain.ActivityDiscoveryCall, Date: t0.Add(-5 * domain.Day)}},
			NextSteps:        "Demo with the CFO",
		},
		Personal: domain.Personal{DecisionMakers: []domain.Contact{{Name: "Ana Pérez", Title: "CFO"}}},
	}
}

// must fails the test on err and returns events.
func must(tb testing.TB) func([]domain.Event, error) []domain.Event {
	tb.Helper()
	return func(events []domain.Event, err error) []domain.Event {
		tb.Helper()
		require.NoError(tb, err)
		require.NotEmpty(tb, events)
		return events
	}
}

// apply applies events to r, failing the test on error.
func apply(tb testing.TB, r *domain.Registration, events []domain.Event) *domain.Registration {
	tb.Helper()
	for _, e := range events {
		require.NoError(tb, r.Apply(e))
	}
	return r
}

// do runs a command, requires it to succeed and applies its events.
func do(tb testing.TB, r *domain.Registration) func([]domain.Event, error) *domain.Registration {
	tb.Helper()
	return func(events []domain.Event, err error) *domain.Registration {
		tb.Helper()
		return apply(tb, r, must(tb)(events, err))
	}
}

// newDraft returns a drafted registration of type typ by partner.
func newDraft(tb testing.TB, typ domain.RegistrationType, d domain.Details) *domain.Registration {
	tb.Helper()
	r, events, err := domain.NewRegistration(uuid.New(), partner, typ, d, t0)
	require.NoError(tb, err)
	require.Len(tb, events, 1)
	return r
}

// reach returns an opportunity registration brought to status s along the
// standard timeline.
func reach(tb testing.TB, s domain.Status) *domain.Registration {
	tb.Helper()
	return reachTyped(tb, domain.TypeOpportunity, s)
}

func reachTyped(tb testing.TB, typ domain.RegistrationType, s domain.Status) *domain.Registration {
	tb.Helper()
	p := domain.DefaultPolicy()
	r := newDraft(tb, typ, validDetails())
	if s == domain.StatusDraft {
		return r
	}
	do(tb, r)(r.Submit(partner, p, submitAt))
	switch s {
	case domain.StatusSubmitted:
		return r
	case domain.StatusWithdrawn:
		return do(tb, r)(r.Withdraw(partner, "", cmdAt))
	case domain.StatusPossibleDuplicate:
		return do(tb, r)(r.RecordVerdict(1, domain.VerdictPossibleDuplicate, []uuid.UUID{earlierID}, "", verdictAt))
	case domain.StatusDuplicate:
		return do(tb, r)(r.RecordVerdict(1, domain.VerdictDuplicate, []uuid.UUID{earlierID}, "same domain", verdictAt))
	}
	do(tb, r)(r.RecordVerdict(1, domain.VerdictClear, nil, "", verdictAt))
	if s == domain.StatusCleared {
		return r
	}
	do(tb, r)(r.StartReview(manager, reviewAt))
	switch s {
	case domain.StatusUnderReview:
		return r
	case domain.StatusReturned:
		return do(tb, r)(r.Return(manager, "Add the demo date", []string{"relationship.activities"}, approvedAt))
	case domain.StatusRejected:
		return do(tb, r)(r.Reject(manager, domain.RejectNotQualified, "No budget yet.", "Register again once there is a budget.", approvedAt))
	}
	do(tb, r)(r.Approve(manager, p, approvedAt))
	switch s {
	case domain.StatusActive:
		return r
	case domain.StatusExtensionRequested:
		return do(tb, r)(r.RequestExtension(partner, "Budget moved to next quarter", requestAt))
	case domain.StatusExpired:
		return apply(tb, r, r.Due(r.ProtectionEnd(), p))
	case domain.StatusClosedWon:
		return do(tb, r)(r.CloseWon(partner, domain.Money{}, "", cmdAt))
	case domain.StatusClosedLost:
		return do(tb, r)(r.CloseLost(partner, "Chose a competitor", cmdAt))
	}
	tb.Fatalf("reach: unknown status %q", s)
	return nil
}

var allStatuses = []domain.Status{
	domain.StatusDraft, domain.StatusSubmitted, domain.StatusCleared, domain.StatusPossibleDuplicate,
	domain.StatusUnderReview, domain.StatusReturned, domain.StatusActive, domain.StatusExtensionRequested,
	domain.StatusRejected, domain.StatusDuplicate, domain.StatusExpired, domain.StatusClosedWon,
	domain.StatusClosedLost, domain.StatusWithdrawn,
}

// command is one registration command run by actor at cmdAt with valid
// input.
type command struct {
	name string
	// who is the actor allowed to run it; nil for the system (verdicts).
	who  *domain.Actor
	run  func(r *domain.Registration, a domain.Actor) ([]domain.Event, error)
	from []domain.Status
	// to is the status after success; "" means unchanged.
	to domain.Status
}

func commands() []command {
	p := domain.DefaultPolicy()
	return []command{
		{"Amend", &partner, func(r *domain.Registration, a domain.Actor) ([]domain.Event, error) {
			return r.Amend(a, validDetails(), cmdAt)
		}, []domain.Status{domain.StatusDraft, domain.StatusReturned}, ""},
		{"Submit", &partner, func(r *domain.Registration, a domain.Actor) ([]domain.Event, error) {
			return r.Submit(a, p, submitAt)
		}, []domain.Status{domain.StatusDraft, domain.StatusReturned}, domain.StatusSubmitted},
		{"RecordVerdictClear", nil, func(r *domain.Registration, _ domain.Actor) ([]domain.Event, error) {
			return r.RecordVerdict(r.Attempt(), domain.VerdictClear, nil, "", cmdAt)
		}, []domain.Status{domain.StatusSubmitted}, domain.StatusCleared},
		{"RecordVerdictDuplicate", nil, func(r *domain.Registration, _ domain.Actor) ([]domain.Event, error) {
			return r.RecordVerdict(r.Attempt(), domain.VerdictDuplicate, []uuid.UUID{earlierID}, "", cmdAt)
		}, []domain.Status{domain.StatusSubmitted}, domain.StatusDuplicate},
		{"RecordVerdictPossibleDuplicate", nil, func(r *domain.Registration, _ domain.Actor) ([]domain.Event, error) {
			return r.RecordVerdict(r.Attempt(), domain.VerdictPossibleDuplicate, []uuid.UUID{earlierID}, "", cmdAt)
		}, []domain.Status{domain.StatusSubmitted}, domain.StatusPossibleDuplicate},
		{"StartReview", &manager, func(r *domain.Registration, a domain.Actor) ([]domain.Event, error) {
			return r.StartReview(a, cmdAt)
		}, []domain.Status{domain.StatusCleared, domain.StatusPossibleDuplicate}, domain.StatusUnderReview},
		{"Approve", &manager, func(r *domain.Registration, a domain.Actor) ([]domain.Event, error) {
			return r.Approve(a, p, cmdAt)
		}, []domain.Status{domain.StatusCleared, domain.StatusUnderReview}, domain.StatusActive},
		{"Reject", &manager, func(r *domain.Registration, a domain.Actor) ([]domain.Event, error) {
			return r.Reject(a, domain.RejectRelationshipNotProven, "No proof.", "Attach the meeting invite.", cmdAt)
		}, []domain.Status{domain.StatusCleared, domain.StatusPossibleDuplicate, domain.StatusUnderReview}, domain.StatusRejected},
		{"Return", &manager, func(r *domain.Registration, a domain.Actor) ([]domain.Event, error) {
			return r.Return(a, "Who is the economic buyer?", nil, cmdAt)
		}, []domain.Status{domain.StatusCleared, domain.StatusPossibleDuplicate, domain.StatusUnderReview}, domain.StatusReturned},
		{"Progress", &partner, func(r *domain.Registration, a domain.Actor) ([]domain.Event, error) {
			return r.Progress(a, domain.ProgressUpdate{BuyingStage: domain.StageProposal}, cmdAt)
		}, []domain.Status{domain.StatusActive, domain.StatusExtensionRequested}, ""},
		{"RequestExtension", &partner, func(r *domain.Registration, a domain.Actor) ([]domain.Event, error) {
			return r.RequestExtension(a, "Budget delayed", cmdAt)
		}, []domain.Status{domain.StatusActive}, domain.StatusExtensionRequested},
		{"GrantExtension", &manager, func(r *domain.Registration, a domain.Actor) ([]domain.Event, error) {
			return r.GrantExtension(a, cmdAt)
		}, []domain.Status{domain.StatusExtensionRequested}, domain.StatusActive},
		{"DenyExtension", &manager, func(r *domain.Registration, a domain.Actor) ([]domain.Event, error) {
			return r.DenyExtension(a, "No progress since approval", cmdAt)
		}, []domain.Status{domain.StatusExtensionRequested}, domain.StatusActive},
		{"Renew", &manager, func(r *domain.Registration, a domain.Actor) ([]domain.Event, error) {
			return r.Renew(a, p, domain.RenewalFigures{}, cmdAt) // opportunities are never renewed
		}, nil, ""},
		{"CloseWon", &partner, func(r *domain.Registration, a domain.Actor) ([]domain.Event, error) {
			return r.CloseWon(a, domain.Money{Amount: decimal.NewFromInt(140000), Currency: "USD"}, "Signed", cmdAt)
		}, []domain.Status{domain.StatusActive, domain.StatusExtensionRequested}, domain.StatusClosedWon},
		{"CloseLost", &partner, func(r *domain.Registration, a domain.Actor) ([]domain.Event, error) {
			return r.CloseLost(a, "Went with a competitor", cmdAt)
		}, []domain.Status{domain.StatusActive, domain.StatusExtensionRequested}, domain.StatusClosedLost},
		{"Withdraw", &partner, func(r *domain.Registration, a domain.Actor) ([]domain.Event, error) {
			return r.Withdraw(a, "Prospect paused the project", cmdAt)
		}, []domain.Status{
			domain.StatusDraft, domain.StatusSubmitted, domain.StatusCleared, domain.StatusPossibleDuplicate,
			domain.StatusUnderReview, domain.StatusReturned, domain.StatusActive, domain.StatusExtensionRequested,
		}, domain.StatusWithdrawn},
	}
}

// TestRegistration_Transitions runs every command in every status: legal
// transitions produce the expected status, illegal ones an ECONFLICT naming
// the current status, and no command ever changes the aggregate by itself.
func TestRegistration_Transitions(t *testing.T) {
	for _, c := range commands() {
		for _, s := range allStatuses {
			legal := false
			for _, f := range c.from {
				legal = legal || f == s
			}
			name := c.name + "/" + string(s)
			if !legal {
				name += "/Illegal"
			}
			t.Run(name, func(t *testing.T) {
				r := reach(t, s)
				require.Equal(t, s, r.Status())
				version := r.Version()
				actor := domain.Actor{}
				if c.who != nil {
					actor = *c.who
				}
				events, err := c.run(r, actor)
				require.Equal(t, version, r.Version(), "a command must not mutate the aggregate")
				require.Equal(t, s, r.Status(), "a command must not mutate the aggregate")
				if !legal {
					require.Error(t, err)
					require.Nil(t, events)
					require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err), "%v", err)
					if c.name != "Renew" || (s != domain.StatusActive && s != domain.StatusExpired) {
						require.Contains(t, domain.ErrorMessage(err), string(s))
					}
					return
				}
				apply(t, r, must(t)(events, err))
				want := c.to
				if want == "" {
					want = s
				}
				require.Equal(t, want, r.Status())
				require.Equal(t, version+len(events), r.Version())
			})
		}
	}
}

// TestRegistration_Authorization checks who may run which command: another
// partner never learns the registration exists, the wrong role is
// forbidden.
func TestRegistration_Authorization(t *testing.T) {
	for _, c := range commands() {
		if c.who == nil || len(c.from) == 0 {
			continue
		}
		s := c.from[0]
		t.Run(c.name+"/OtherPartner", func(t *testing.T) {
			_, err := c.run(reach(t, s), otherPartner)
			require.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err), "%v", err)
			require.NotContains(t, domain.ErrorMessage(err), "partner-1")
		})
		t.Run(c.name+"/Auditor", func(t *testing.T) {
			_, err := c.run(reach(t, s), auditor)
			require.Equal(t, domain.EFORBIDDEN, domain.ErrorCode(err), "%v", err)
		})
		wrong := manager
		if c.who.Role != domain.RolePartner {
			wrong = partner
		}
		t.Run(c.name+"/WrongRole", func(t *testing.T) {
			_, err := c.run(reach(t, s), wrong)
			require.Equal(t, domain.EFORBIDDEN, domain.ErrorCode(err), "%v", err)
		})
		t.Run(c.name+"/NoIdentity", func(t *testing.T) {
			_, err := c.run(reach(t, s), domain.Actor{Role: c.who.Role, PartnerID: c.who.PartnerID})
			require.Equal(t, domain.EFORBIDDEN, domain.ErrorCode(err), "%v", err)
		})
	}
	t.Run("OtherReviewerRolesMayDecide", func(t *testing.T) {
		for _, role := range []domain.Role{domain.RoleChannelDirector, domain.RoleExecutive, domain.RoleAdmin} {
			r := reach(t, domain.StatusCleared)
			_, err := r.Approve(domain.Actor{ID: "u", Role: role}, domain.DefaultPolicy(), cmdAt)
			require.NoError(t, err, role)
		}
	})
	t.Run("OnlyPartnersDraft", func(t *testing.T) {
		_, err := domain.Draft(uuid.New(), manager, domain.TypeOpportunity, domain.Details{}, t0)
		require.Equal(t, domain.EFORBIDDEN, domain.ErrorCode(err))
		_, err = domain.Draft(uuid.New(), domain.Actor{ID: "u", Role: domain.RolePartner}, domain.TypeOpportunity, domain.Details{}, t0)
		require.Equal(t, domain.EFORBIDDEN, domain.ErrorCode(err))
	})
	t.Run("EmptyRegistrationIsNotFound", func(t *testing.T) {
		var r domain.Registration
		_, err := r.Submit(partner, domain.DefaultPolicy(), t0)
		require.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))
		_, err = r.RecordVerdict(1, domain.VerdictClear, nil, "", t0)
		require.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))
	})
}

func TestRegistration_Draft(t *testing.T) {
	t.Run("IncompleteDraftIsFine", func(t *testing.T) {
		r := newDraft(t, domain.TypeOpportunity, domain.Details{Account: domain.Account{CompanyName: "Acme"}})
		require.Equal(t, domain.StatusDraft, r.Status())
		require.Equal(t, "partner-1", r.PartnerID())
		require.Equal(t, domain.TypeOpportunity, r.Type())
		require.Equal(t, 1, r.Version())
		require.Equal(t, t0, r.CreatedAt())
	})
	t.Run("Normalized", func(t *testing.T) {
		d := validDetails()
		d.Account.Domain = " HTTPS://WWW.Example.COM./about "
		d.Account.Country = "mx"
		d.Opportunity.EstimatedValue.Currency = "usd"
		d.Account.CompanyName = "  Empresa XYZ "
		r := newDraft(t, domain.TypeOpportunity, d)
		require.Equal(t, "www.example.com", r.Account().Domain)
		require.Equal(t, "MX", r.Account().Country)
		require.Equal(t, "Empresa XYZ", r.Account().CompanyName)
		require.Equal(t, "USD", r.Opportunity().EstimatedValue.Currency)
	})
	t.Run("InvalidTypeAndID", func(t *testing.T) {
		_, err := domain.Draft(uuid.Nil, partner, "territory", domain.Details{}, t0)
		require.Equal(t, domain.EINVALID, domain.ErrorCode(err))
		require.Equal(t, []string{"registration_id", "type"}, fieldNames(err))
	})
	t.Run("AccessorsReturnCopies", func(t *testing.T) {
		r := newDraft(t, domain.TypeOpportunity, validDetails())
		d := r.Details()
		d.Opportunity.ProductLines[0] = "changed"
		d.Personal.DecisionMakers[0].Name = "changed"
		require.Equal(t, "HR Management", r.Details().Opportunity.ProductLines[0])
		require.Equal(t, "Ana Pérez", r.Details().Personal.DecisionMakers[0].Name)
	})
}

func TestRegistration_Submit(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		r := reach(t, domain.StatusSubmitted)
		require.Equal(t, 1, r.Attempt())
		require.Equal(t, submitAt, r.SubmittedAt())
		require.Equal(t, submitAt, r.FirstSubmittedAt())
		require.Equal(t, 1, r.SubmittedPolicyVersion())
		deadline, ok := r.ReviewDeadline(domain.DefaultPolicy())
		require.True(t, ok)
		require.Equal(t, submitAt.Add(48*time.Hour), deadline)
	})
	t.Run("IncompleteDraftListsEveryMissingField", func(t *testing.T) {
		r := newDraft(t, domain.TypeOpportunity, domain.Details{})
		_, err := r.Submit(partner, domain.DefaultPolicy(), submitAt)
		require.Equal(t, domain.EINVALID, domain.ErrorCode(err))
		require.Equal(t, []string{
			"account.company_name:required",
			"account.country:required",
			"opportunity.product_lines:required",
			"opportunity.estimated_value:required",
			"opportunity.expected_close_date:required",
			"relationship.how_found:required",
			"relationship.first_contact_date:required",
		}, fieldCodes(err))
	})
	t.Run("ResubmitAfterReturn", func(t *testing.T) {
		r := reach(t, domain.StatusReturned)
		d := validDetails()
		d.Relationship.Activities = append(d.Relationship.Activities, domain.Activity{Kind: domain.ActivityDemo, Date: t0})
		do(t, r)(r.Amend(partner, d, cmdAt))
		do(t, r)(r.Submit(partner, domain.DefaultPolicy(), cmdAt))
		require.Equal(t, domain.StatusSubmitted, r.Status())
		require.Equal(t, 2, r.Attempt())
		require.Equal(t, submitAt, r.FirstSubmittedAt())
		require.Equal(t, cmdAt, r.SubmittedAt())
		require.Len(t, r.Details().Relationship.Activities, 2)
		require.Empty(t, r.Verdict())

		_, err := r.RecordVerdict(1, domain.VerdictClear, nil, "", cmdAt)
		require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err), "a verdict on an earlier attempt is stale")
		do(t, r)(r.RecordVerdict(2, domain.VerdictClear, nil, "", cmdAt))
		require.Equal(t, domain.VerdictClear, r.Verdict())
	})
	t.Run("PolicyNotInEffect", func(t *testing.T) {
		p := domain.DefaultPolicy()
		p.Version, p.EffectiveFrom = 2, submitAt.Add(time.Hour)
		_, err := newDraft(t, domain.TypeOpportunity, validDetails()).Submit(partner, p, submitAt)
		require.Equal(t, domain.EINVALID, domain.ErrorCode(err))
	})
}

func TestRegistration_RecordVerdict(t *testing.T) {
	for _, tc := range []struct {
		name    string
		verdict domain.Verdict
		matches []uuid.UUID
		fields  []string
	}{
		{"ClearWithMatches", domain.VerdictClear, []uuid.UUID{earlierID}, []string{"matches:invalid"}},
		{"DuplicateWithoutMatches", domain.VerdictDuplicate, nil, []string{"matches:required"}},
		{"Unknown", "maybe", nil, []string{"verdict:invalid"}},
		{"NilMatch", domain.VerdictPossibleDuplicate, []uuid.UUID{uuid.Nil}, []string{"matches[0]:invalid"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := reach(t, domain.StatusSubmitted).RecordVerdict(1, tc.verdict, tc.matches, "", verdictAt)
			require.Equal(t, domain.EINVALID, domain.ErrorCode(err))
			require.Equal(t, tc.fields, fieldCodes(err))
		})
	}
	t.Run("DuplicateEndsTheRegistration", func(t *testing.T) {
		r := reach(t, domain.StatusDuplicate)
		require.True(t, r.Status().Final())
		require.Equal(t, domain.VerdictDuplicate, r.Verdict())
	})
}

func TestRegistration_DecisionInput(t *testing.T) {
	r := reach(t, domain.StatusUnderReview)
	_, err := r.Reject(manager, "because", "", "", cmdAt)
	require.Equal(t, []string{"reason:invalid", "explanation:required", "guidance:required"}, fieldCodes(err))
	_, err = r.Reject(manager, "", "x", "y", cmdAt)
	require.Equal(t, []string{"reason:required"}, fieldCodes(err))
	_, err = r.Return(manager, " ", []string{"a", "a"}, cmdAt)
	require.Equal(t, []string{"message:required", "requested_fields[1]:duplicate"}, fieldCodes(err))

	do(t, r)(r.Reject(manager, domain.RejectTerritoryNotAuthorized, "Outside your territory.", "Talk to your channel manager.", cmdAt))
	require.Equal(t, domain.RejectTerritoryNotAuthorized, r.RejectReason())

	a := reach(t, domain.StatusActive)
	_, err = a.Progress(partner, domain.ProgressUpdate{}, cmdAt)
	require.Equal(t, []string{"buying_stage:required"}, fieldCodes(err))
	_, err = a.Progress(partner, domain.ProgressUpdate{BuyingStage: "won"}, cmdAt)
	require.Equal(t, []string{"buying_stage:invalid"}, fieldCodes(err))
	do(t, a)(a.Progress(partner, domain.ProgressUpdate{BuyingStage: domain.StageNegotiation, NextSteps: "Legal review"}, cmdAt))
	require.Equal(t, domain.StageNegotiation, a.Opportunity().BuyingStage)
	require.Equal(t, "Legal review", a.Details().Relationship.NextSteps)
	_, err = a.CloseWon(partner, domain.Money{Amount: decimal.NewFromInt(-1), Currency: "XXX"}, "", cmdAt)
	require.Equal(t, []string{"final_value.amount:out_of_range", "final_value.currency:invalid"}, fieldCodes(err))
	_, err = a.CloseLost(partner, "", cmdAt)
	require.Equal(t, []string{"reason:required"}, fieldCodes(err))
	_, err = a.RequestExtension(partner, "", cmdAt)
	require.Equal(t, []string{"reason:required"}, fieldCodes(err))
}

// TestRegistration_ApprovalTerms checks that an approval embeds the policy
// version and the exact terms granted.
func TestRegistration_ApprovalTerms(t *testing.T) {
	t.Run("DefaultPolicy", func(t *testing.T) {
		r := reach(t, domain.StatusUnderReview)
		events := must(t)(r.Approve(manager, domain.DefaultPolicy(), approvedAt))
		approved := events[0].(domain.RegistrationApproved)
		require.Equal(t, domain.ProtectionTerms{
			PolicyVersion:   1,
			Type:            domain.TypeOpportunity,
			ProtectionStart: approvedAt,
			ProtectionEnd:   approvedAt.Add(90 * 24 * time.Hour),
			MaxExtensions:   2,
			ExtensionLength: 30 * 24 * time.Hour,
		}, approved.Terms)
		apply(t, r, events)
		require.Equal(t, approvedAt, r.ProtectionStart())
		require.Equal(t, time.Date(2026, 5, 31, 12, 0, 0, 0, time.UTC), r.ProtectionEnd())
		require.Equal(t, 2, r.ExtensionsLeft())
		_, ok := r.ReviewDeadline(domain.DefaultPolicy())
		require.False(t, ok)
	})
	t.Run("DirectlyFromClearVerdict", func(t *testing.T) {
		r := reach(t, domain.StatusCleared)
		do(t, r)(r.Approve(director, domain.DefaultPolicy(), approvedAt))
		require.Equal(t, domain.StatusActive, r.Status())
		require.Equal(t, approvedAt.Add(90*domain.Day), r.ProtectionEnd())
	})
	t.Run("LaterPolicyDoesNotRewriteTerms", func(t *testing.T) {
		r := reach(t, domain.StatusActive)
		p2 := domain.DefaultPolicy()
		p2.Version, p2.ExtensionLength, p2.EffectiveFrom = 2, 45*domain.Day, approvedAt.Add(time.Hour)
		require.NoError(t, p2.Validate())
		do(t, r)(r.RequestExtension(partner, "Budget delayed", cmdAt))
		events := must(t)(r.GrantExtension(manager, cmdAt))
		granted := events[0].(domain.RegistrationExtensionGranted)
		require.Equal(t, 30*domain.Day, granted.ExtensionLength)
		require.Equal(t, 1, granted.PolicyVersion)
	})
	t.Run("PolicyVersion2", func(t *testing.T) {
		p := domain.DefaultPolicy()
		p.Version, p.OpportunityProtection = 2, 120*domain.Day
		r := reach(t, domain.StatusCleared)
		events := must(t)(r.Approve(manager, p, approvedAt))
		terms := events[0].(domain.RegistrationApproved).Terms
		require.Equal(t, 2, terms.PolicyVersion)
		require.Equal(t, approvedAt.Add(120*domain.Day), terms.ProtectionEnd)
	})
	t.Run("InvalidPolicyRefused", func(t *testing.T) {
		p := domain.DefaultPolicy()
		p.OpportunityProtection = 200 * domain.Day
		_, err := reach(t, domain.StatusCleared).Approve(manager, p, approvedAt)
		require.Equal(t, domain.EINVALID, domain.ErrorCode(err))
		require.Equal(t, []string{"protection.opportunity.term:out_of_range"}, fieldCodes(err))
	})
}

func TestRegistration_Extensions(t *testing.T) {
	t.Run("TwoGrantedThirdRefused", func(t *testing.T) {
		r := reach(t, domain.StatusActive)
		end := approvedAt.Add(90 * domain.Day)
		for i := 1; i <= 2; i++ {
			do(t, r)(r.RequestExtension(partner, "Budget delayed", cmdAt))
			events := must(t)(r.GrantExtension(manager, cmdAt))
			require.Equal(t, domain.RegistrationExtensionGranted{
				RegistrationID:  r.ID(),
				GrantedBy:       manager.ID,
				Number:          i,
				ExtensionLength: 30 * domain.Day,
				PreviousEnd:     end,
				NewEnd:          end.Add(30 * domain.Day),
				PolicyVersion:   1,
				At:              cmdAt,
			}, events[0])
			apply(t, r, events)
			end = end.Add(30 * domain.Day)
			require.Equal(t, end, r.ProtectionEnd())
			require.Equal(t, i, r.ExtensionsGranted())
		}
		require.Equal(t, approvedAt.Add(150*domain.Day), r.ProtectionEnd())
		require.Equal(t, 0, r.ExtensionsLeft())
		_, err := r.RequestExtension(partner, "Once more", cmdAt)
		require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err))
		require.Contains(t, domain.ErrorMessage(err), "all 2 extensions")
	})
	t.Run("DenyKeepsEnd", func(t *testing.T) {
		r := reach(t, domain.StatusExtensionRequested)
		do(t, r)(r.DenyExtension(manager, "Stalled", cmdAt))
		require.Equal(t, approvedAt.Add(90*domain.Day), r.ProtectionEnd())
		require.Equal(t, 0, r.ExtensionsGranted())
	})
	t.Run("NotAfterProtectionEnded", func(t *testing.T) {
		r := reach(t, domain.StatusActive)
		_, err := r.RequestExtension(partner, "Late", r.ProtectionEnd())
		require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err))
	})
	t.Run("GrantAfterLapseRefused", func(t *testing.T) {
		r := reach(t, domain.StatusExtensionRequested)
		_, err := r.GrantExtension(manager, r.ProtectionEnd().Add(30*domain.Day))
		require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err))
		do(t, r)(r.GrantExtension(manager, r.ProtectionEnd().Add(29*domain.Day)))
		require.Equal(t, approvedAt.Add(120*domain.Day), r.ProtectionEnd())
	})
	t.Run("NamedAccountsAreNotExtended", func(t *testing.T) {
		r := reachTyped(t, domain.TypeNamedAccount, domain.StatusActive)
		_, err := r.RequestExtension(partner, "More time", cmdAt)
		require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err))
	})
}

func TestRegistration_NamedAccount(t *testing.T) {
	p := domain.DefaultPolicy()
	t.Run("TwelveMonths", func(t *testing.T) {
		r := reachTyped(t, domain.TypeNamedAccount, domain.StatusActive)
		terms, ok := r.ApprovedTerms()
		require.True(t, ok)
		require.Equal(t, domain.TypeNamedAccount, terms.Type)
		require.Equal(t, approvedAt.Add(365*domain.Day), r.ProtectionEnd())
		require.Equal(t, 0, terms.MaxExtensions)
		require.Equal(t, time.Duration(0), terms.ExtensionLength)
	})
	t.Run("SubmissionNeedsDomainNotOpportunity", func(t *testing.T) {
		d := validDetails()
		d.Opportunity = domain.Opportunity{}
		d.Account.Domain = ""
		r := newDraft(t, domain.TypeNamedAccount, d)
		_, err := r.Submit(partner, p, submitAt)
		require.Equal(t, []string{"account.domain:required"}, fieldCodes(err))
	})
	t.Run("RenewNearEnd", func(t *testing.T) {
		r := reachTyped(t, domain.TypeNamedAccount, domain.StatusActive)
		end := r.ProtectionEnd()
		_, err := r.Renew(manager, p, domain.RenewalFigures{}, end.Add(-61*domain.Day))
		require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err), "too early")
		_, err = r.Renew(partner, p, domain.RenewalFigures{}, end.Add(-10*domain.Day))
		require.Equal(t, domain.EFORBIDDEN, domain.ErrorCode(err), "renewal is the vendor's decision")

		events := must(t)(r.Renew(manager, p, domain.RenewalFigures{}, end.Add(-10*domain.Day)))
		renewed := events[0].(domain.RegistrationRenewed)
		require.Equal(t, 1, renewed.Renewal)
		require.Equal(t, end, renewed.PreviousEnd)
		require.Equal(t, end, renewed.Terms.ProtectionStart, "no gap between terms")
		require.Equal(t, end.Add(365*domain.Day), renewed.Terms.ProtectionEnd)
		apply(t, r, events)
		require.Equal(t, domain.StatusActive, r.Status())
		require.Equal(t, end.Add(365*domain.Day), r.ProtectionEnd())
		require.Equal(t, 1, r.Renewals())
		terms, _ := r.ApprovedTerms()
		require.Equal(t, approvedAt, terms.ProtectionStart, "the approval terms stay as granted")
	})
	t.Run("RenewRightAfterExpiry", func(t *testing.T) {
		r := reachTyped(t, domain.TypeNamedAccount, domain.StatusActive)
		end := r.ProtectionEnd()
		apply(t, r, r.Due(end, p))
		require.Equal(t, domain.StatusExpired, r.Status())
		at := end.Add(5 * domain.Day)
		events := must(t)(r.Renew(manager, p, domain.RenewalFigures{}, at))
		require.Equal(t, at, events[0].(domain.RegistrationRenewed).Terms.ProtectionStart)
		apply(t, r, events)
		require.Equal(t, domain.StatusActive, r.Status())
		require.Equal(t, at.Add(365*domain.Day), r.ProtectionEnd())
	})
	t.Run("GraceOver", func(t *testing.T) {
		r := reachTyped(t, domain.TypeNamedAccount, domain.StatusExpired)
		_, err := r.Renew(manager, p, domain.RenewalFigures{}, r.ProtectionEnd().Add(30*domain.Day))
		require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err))
	})
	t.Run("OpportunitiesAreNotRenewed", func(t *testing.T) {
		r := reach(t, domain.StatusActive)
		_, err := r.Renew(manager, p, domain.RenewalFigures{}, r.ProtectionEnd().Add(-domain.Day))
		require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err))
	})
}

// TestRegistration_Due checks expiry and reminders, and that re-running Due
// after applying its events never repeats them.
func TestRegistration_Due(t *testing.T) {
	p := domain.DefaultPolicy()
	t.Run("ReminderOnceThenExpiry", func(t *testing.T) {
		r := reach(t, domain.StatusActive)
		end := r.ProtectionEnd()
		require.Empty(t, r.Due(end.Add(-14*domain.Day-time.Second), p))

		events := r.Due(end.Add(-14*domain.Day), p)
		require.Equal(t, []domain.Event{domain.RegistrationExpiryReminderSent{
			RegistrationID: r.ID(), ProtectionEnd: end, DaysLeft: 14, PolicyVersion: 1, At: end.Add(-14 * domain.Day),
		}}, events)
		apply(t, r, events)
		require.Empty(t, r.Due(end.Add(-14*domain.Day), p))
		require.Empty(t, r.Due(end.Add(-time.Hour), p))

		events = r.Due(end, p)
		require.Equal(t, []domain.Event{domain.RegistrationExpired{RegistrationID: r.ID(), ProtectionEnd: end, PolicyVersion: 1, At: end}}, events)
		apply(t, r, events)
		require.Equal(t, domain.StatusExpired, r.Status())
		require.Empty(t, r.Due(end, p))
		require.Empty(t, r.Due(end.Add(365*domain.Day), p))
	})
	t.Run("DaysLeftRoundsUp", func(t *testing.T) {
		r := reach(t, domain.StatusActive)
		events := r.Due(r.ProtectionEnd().Add(-36*time.Hour), p)
		require.Equal(t, 2, events[0].(domain.RegistrationExpiryReminderSent).DaysLeft)
	})
	t.Run("ExtensionMovesReminderAndExpiry", func(t *testing.T) {
		r := reach(t, domain.StatusActive)
		end := r.ProtectionEnd()
		apply(t, r, r.Due(end.Add(-10*domain.Day), p))
		do(t, r)(r.RequestExtension(partner, "Budget delayed", end.Add(-9*domain.Day)))
		require.Empty(t, r.Due(end.Add(-domain.Day), p), "no reminder while a request is pending")
		do(t, r)(r.GrantExtension(manager, end.Add(-8*domain.Day)))
		newEnd := end.Add(30 * domain.Day)
		require.Empty(t, r.Due(end, p), "the old end no longer expires it")
		events := r.Due(newEnd.Add(-14*domain.Day), p)
		require.Len(t, events, 1)
		require.Equal(t, newEnd, events[0].(domain.RegistrationExpiryReminderSent).ProtectionEnd)
		apply(t, r, events)
		require.Empty(t, r.Due(newEnd.Add(-13*domain.Day), p))
		require.IsType(t, domain.RegistrationExpired{}, r.Due(newEnd, p)[0])
	})
	t.Run("PendingExtensionHoldsExpiry", func(t *testing.T) {
		r := reach(t, domain.StatusExtensionRequested)
		end := r.ProtectionEnd()
		require.Empty(t, r.Due(end, p))
		require.Equal(t, end.Add(30*domain.Day), r.ProtectionLapsesAt())
		events := r.Due(end.Add(30*domain.Day), p)
		require.Equal(t, []domain.Event{domain.RegistrationExpired{
			RegistrationID: r.ID(), ProtectionEnd: end, PolicyVersion: 1, At: end.Add(30 * domain.Day),
		}}, events)
	})
	t.Run("DeniedAfterEndExpiresAtOnce", func(t *testing.T) {
		r := reach(t, domain.StatusExtensionRequested)
		end := r.ProtectionEnd()
		do(t, r)(r.DenyExtension(manager, "Stalled", end.Add(domain.Day)))
		require.IsType(t, domain.RegistrationExpired{}, r.Due(end.Add(domain.Day), p)[0])
	})
	t.Run("NothingDueOutsideProtection", func(t *testing.T) {
		for _, s := range []domain.Status{domain.StatusDraft, domain.StatusSubmitted, domain.StatusUnderReview,
			domain.StatusClosedWon, domain.StatusWithdrawn} {
			require.Empty(t, reach(t, s).Due(t0.Add(1000*domain.Day), p), s)
		}
	})
	t.Run("RemindersOff", func(t *testing.T) {
		q := p
		q.ReminderBefore = 0
		r := reach(t, domain.StatusActive)
		require.Empty(t, r.Due(r.ProtectionEnd().Add(-time.Hour), q))
	})
}

func TestRegistration_Apply(t *testing.T) {
	r := reach(t, domain.StatusActive)
	require.Error(t, r.Apply(domain.RegistrationDrafted{RegistrationID: r.ID()}), "a second draft event")
	require.Error(t, r.Apply(domain.RegistrationExpired{RegistrationID: uuid.New()}), "another registration's event")
	var empty domain.Registration
	require.Error(t, empty.Apply(domain.RegistrationSubmitted{RegistrationID: uuid.New()}), "a stream starts with a draft")

	// Rebuilding from the same events gives the same aggregate.
	d := validDetails()
	events := must(t)(domain.Draft(uuid.New(), partner, domain.TypeOpportunity, d, t0))
	r1, err := domain.Rebuild(events...)
	require.NoError(t, err)
	events = append(events, must(t)(r1.Submit(partner, domain.DefaultPolicy(), submitAt))...)
	r2, err := domain.Rebuild(events...)
	require.NoError(t, err)
	require.Equal(t, 2, r2.Version())
	require.Equal(t, submitAt, r2.UpdatedAt())
}

func fieldCodes(err error) []string {
	var out []string
	for _, f := range domain.ErrorFields(err) {
		out = append(out, f.Field+":"+f.Code)
	}
	return out
}

func fieldNames(err error) []string {
	var out []string
	for _, f := range domain.ErrorFields(err) {
		out = append(out, f.Field)
	}
	return out
}

// Proof may cite only documents uploaded to the registration: a hash alone
// proves nothing, and proof weighs in a conflict's recommendation.
func TestRegistration_SubmitProofCitesUploadedDocuments(t *testing.T) {
	sha := strings.Repeat("ab", 32)
	d := validDetails()
	d.Proof = []domain.ProofItem{{Kind: domain.ProofMeetingConfirmation, AttachmentSHA256: sha}}
	r := newDraft(t, domain.TypeOpportunity, d)
	_, err := r.Submit(partner, domain.DefaultPolicy(), submitAt)
	require.Equal(t, domain.EINVALID, domain.ErrorCode(err))
	var de *domain.Error
	require.ErrorAs(t, err, &de)
	require.Equal(t, "proof[0].attachment_sha256", de.Fields[0].Field)

	do(t, r)(r.AddAttachment(partner, domain.Attachment{SHA256: sha, Size: 10, ContentType: "application/pdf", Filename: "minutes.pdf"}, 0, submitAt))
	events, err := r.Submit(partner, domain.DefaultPolicy(), submitAt)
	require.NoError(t, err)
	require.Len(t, events, 1)
}
