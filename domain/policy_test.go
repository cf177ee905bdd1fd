package domain_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// policyV2 is a valid second version: 120 days of opportunity protection,
// a 24-hour review, a 12% opportunity bonus and auto-approval on.
func policyV2() domain.Policy {
	p := domain.DefaultPolicy()
	p.Version = 2
	p.Summary = "Longer protection, faster review"
	p.OpportunityProtection = 120 * domain.Day
	p.ReviewSLA = 24 * time.Hour
	p.ReviewReminderBefore = 6 * time.Hour
	p.Benefits.RegistrationBonus[domain.TypeOpportunity] = decimal.RequireFromString("12")
	p.AutoApproval.Enabled = true
	return p
}

func TestDefaultPolicy(t *testing.T) {
	p := domain.DefaultPolicy()
	require.NoError(t, p.Validate())
	require.Equal(t, 1, p.Version)
	require.Equal(t, 90*24*time.Hour, p.FirstContactWindow)
	require.Equal(t, 90*24*time.Hour, p.OpportunityProtection)
	require.Equal(t, 365*24*time.Hour, p.AccountProtection)
	require.Equal(t, 2, p.MaxExtensions)
	require.Equal(t, 30*24*time.Hour, p.ExtensionLength)
	require.Equal(t, 48*time.Hour, p.ReviewSLA)
	require.Equal(t, 14*24*time.Hour, p.ReminderBefore)
	require.Equal(t, 30*domain.Day, p.NoticePeriod)
	require.Equal(t, p.OpportunityProtection, p.ProtectionFor(domain.TypeOpportunity))
	require.Equal(t, p.AccountProtection, p.ProtectionFor(domain.TypeNamedAccount))
	require.False(t, p.AutoApproval.Enabled, "version 1 approves nothing automatically, as before")

	// The document reads in human units and parses back to the same policy.
	raw, err := json.Marshal(p)
	require.NoError(t, err)
	for _, want := range []string{`"term":"90d"`, `"sla":"48h"`, `"level_sla":["48h","5d","10d"]`, `"notice_period":"30d"`, `"percent":"2"`} {
		require.Contains(t, string(raw), want)
	}
	require.NotContains(t, string(raw), "_ns")
	back, err := domain.ParsePolicy(raw)
	require.NoError(t, err)
	require.Equal(t, p, back)
}

func TestPolicy_Validate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*domain.Policy)
		want   []string
	}{
		{"Protection90", func(p *domain.Policy) { p.OpportunityProtection = 90 * domain.Day }, nil},
		{"Protection180", func(p *domain.Policy) { p.OpportunityProtection = 180 * domain.Day }, nil},
		{"ProtectionTooShort", func(p *domain.Policy) { p.OpportunityProtection = 89 * domain.Day },
			[]string{"protection.opportunity.term:out_of_range"}},
		{"ProtectionTooLong", func(p *domain.Policy) { p.OpportunityProtection = 181 * domain.Day },
			[]string{"protection.opportunity.term:out_of_range"}},
		{"NoExtensions", func(p *domain.Policy) { p.MaxExtensions, p.ExtensionLength = 0, 0 }, nil},
		{"ExtensionLengthWithoutExtensions", func(p *domain.Policy) { p.MaxExtensions = 0 },
			[]string{"protection.opportunity.extension_length:invalid"}},
		{"Notice30And60", func(p *domain.Policy) { p.NoticePeriod = 60 * domain.Day }, nil},
		{"NoticeTooShort", func(p *domain.Policy) { p.NoticePeriod = 29 * domain.Day }, []string{"changes.notice_period:out_of_range"}},
		{"NoticeTooLong", func(p *domain.Policy) { p.NoticePeriod = 61 * domain.Day }, []string{"changes.notice_period:out_of_range"}},
		{"BonusBounds", func(p *domain.Policy) {
			p.Benefits.RegistrationBonus[domain.TypeOpportunity] = decimal.RequireFromString("5")
			p.Benefits.RegistrationBonus[domain.TypeNamedAccount] = decimal.RequireFromString("15")
		}, nil},
		{"BonusOutOfRange", func(p *domain.Policy) {
			p.Benefits.RegistrationBonus[domain.TypeOpportunity] = decimal.RequireFromString("4.99")
			p.Benefits.RegistrationBonus[domain.TypeNamedAccount] = decimal.RequireFromString("15.01")
		}, []string{"benefits.discount.registration_bonus_percent.opportunity:out_of_range", "benefits.discount.registration_bonus_percent.named_account:out_of_range"}},
		{"MDFOutOfRange", func(p *domain.Policy) { p.Benefits.MDFPercent = decimal.RequireFromString("5.5") }, []string{"benefits.mdf.percent:out_of_range"}},
		{"MDFCaps", func(p *domain.Policy) {
			p.Benefits.MDFCaps = map[string]decimal.Decimal{"usd": decimal.NewFromInt(1), "EUR": decimal.Zero}
		}, []string{"benefits.mdf.caps.EUR:out_of_range", "benefits.mdf.caps.usd:invalid"}},
		{"MissingTierDiscount", func(p *domain.Policy) { delete(p.Benefits.TierDiscount, domain.TierSilver) },
			[]string{"benefits.discount.tier_base_percent.silver:required"}},
		{"PresalesLastHasThreshold", func(p *domain.Policy) { p.Benefits.Presales = p.Benefits.Presales[:1] },
			[]string{"benefits.presales[0].min_value:invalid"}},
		{"PresalesNothing", func(p *domain.Policy) { p.Benefits.Presales[1].PooledHours = 0 }, []string{"benefits.presales[1]:invalid"}},
		{"RoutingLastHasCriteria", func(p *domain.Policy) { p.Routing.Groups[0].Regions = []string{"Northeast"} }, []string{"routing.groups[0]:invalid"}},
		{"RoutingDuplicateName", func(p *domain.Policy) {
			p.Routing.Groups = []domain.ReviewGroup{{Name: "ops", Tiers: []domain.PartnerTier{domain.TierGold}}, {Name: "ops"}}
		}, []string{"routing.groups[1].name:duplicate"}},
		{"EligibilityTiers", func(p *domain.Policy) {
			p.Eligibility.NamedAccount.Tiers = []domain.PartnerTier{domain.TierGold, "diamond", domain.TierGold}
		}, []string{"eligibility.named_account.tiers[1]:invalid", "eligibility.named_account.tiers[2]:duplicate"}},
		{"RequiredFieldsKeepBase", func(p *domain.Policy) {
			p.RequiredFields[domain.TypeNamedAccount] = []string{"account.company_name", "account.industry", "account.industry", "nonsense"}
		}, []string{"registration.required_fields.named_account[2]:duplicate", "registration.required_fields.named_account[3]:invalid", "registration.required_fields.named_account:invalid"}},
		{"ProofKinds", func(p *domain.Policy) { p.ProofKinds = []domain.ProofKind{"gut_feeling"} }, []string{"registration.proof_kinds[0]:invalid"}},
		{"AutoApprovalEnabledNeedsTiers", func(p *domain.Policy) { p.AutoApproval.Enabled, p.AutoApproval.Tiers = true, nil }, []string{"auto_approval.enabled:invalid"}},
		{"AutoApprovalRates", func(p *domain.Policy) {
			p.AutoApproval.MinApprovalRate = decimal.NewFromInt(101)
			p.AutoApproval.MinWinRate = decimal.RequireFromString("33.333")
		}, []string{"auto_approval.min_approval_rate_percent:out_of_range", "auto_approval.min_win_rate_percent:invalid"}},
		{"ReviewEscalation", func(p *domain.Policy) {
			p.ReviewEscalateTo, p.ReviewReminderBefore = domain.RoleChannelManager, 48*time.Hour
		},
			[]string{"review.reminder_before_due:out_of_range", "review.escalate_to:invalid"}},
		{"Penalties", func(p *domain.Policy) {
			p.Penalties.Violations = []domain.Penalty{{Kind: domain.ViolationFalseInformation, Terminate: true, Suspend: domain.Day}, {Kind: "jaywalking"}}
			p.Penalties.OnSuspension = "maybe"
		}, []string{"penalties.violations[0].suspend:invalid", "penalties.violations[1].kind:invalid",
			"penalties.violations:required", "penalties.violations:required", "penalties.on_suspension:invalid"}},
		{"Everything", func(p *domain.Policy) {
			q := domain.DefaultPolicy()
			*p = domain.Policy{ReminderBefore: -1, RenewalWindow: -1, MaxExtensions: -1, RequiredFields: q.RequiredFields, ProofKinds: q.ProofKinds,
				ReviewEscalateTo: domain.RoleChannelDirector, ConflictRule: domain.ConflictRulePartnerFirst, Routing: q.Routing, Benefits: q.Benefits,
				Penalties: q.Penalties, AutoApproval: q.AutoApproval, ReviewEvery: q.ReviewEvery}
		},
			[]string{
				"version:out_of_range",
				"registration.first_contact_window:out_of_range",
				"registration.max_close_horizon:out_of_range",
				"protection.opportunity.term:out_of_range",
				"protection.opportunity.max_extensions:out_of_range",
				"protection.named_account.term:out_of_range",
				"protection.named_account.renewal_window:out_of_range",
				"protection.expiry_reminder:out_of_range",
				"review.sla:out_of_range",
				"changes.notice_period:out_of_range",
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := domain.DefaultPolicy()
			tc.mutate(&p)
			err := p.Validate()
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.Equal(t, domain.EINVALID, domain.ErrorCode(err))
			require.Equal(t, tc.want, fieldCodes(err))
		})
	}
}

// setPath replaces the member at a dotted path of a JSON document.
func setPath(t *testing.T, doc map[string]any, path string, v any) {
	t.Helper()
	parts := strings.Split(path, ".")
	m := doc
	for _, k := range parts[:len(parts)-1] {
		next, ok := m[k].(map[string]any)
		require.True(t, ok, "no object at %s", k)
		m = next
	}
	if v == nil {
		delete(m, parts[len(parts)-1])
		return
	}
	m[parts[len(parts)-1]] = v
}

func defaultDocument(t *testing.T) map[string]any {
	t.Helper()
	raw, err := json.Marshal(domain.DefaultPolicy())
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(raw, &doc))
	return doc
}

func TestParsePolicy(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edits map[string]any // path -> value; nil deletes
		want  []string       // field:code; nil means valid
		check func(t *testing.T, p domain.Policy)
	}{
		{"HumanUnits", map[string]any{"protection.opportunity.term": "120d", "review.sla": "36h", "review.reminder_before_due": "1d6h"}, nil,
			func(t *testing.T, p domain.Policy) {
				require.Equal(t, 120*domain.Day, p.OpportunityProtection)
				require.Equal(t, 36*time.Hour, p.ReviewSLA)
				require.Equal(t, 30*time.Hour, p.ReviewReminderBefore)
			}},
		{"ISO8601", map[string]any{"protection.opportunity.term": "P120D", "review.sla": "PT36H", "changes.notice_period": "P45D"}, nil,
			func(t *testing.T, p domain.Policy) {
				require.Equal(t, 120*domain.Day, p.OpportunityProtection)
				require.Equal(t, 36*time.Hour, p.ReviewSLA)
				require.Equal(t, 45*domain.Day, p.NoticePeriod)
			}},
		{"NumbersForDecimals", map[string]any{"benefits.mdf.percent": 2.5, "conflicts.escalation_value": 100000}, nil,
			func(t *testing.T, p domain.Policy) {
				require.Equal(t, "2.5", p.Benefits.MDFPercent.String())
				require.Equal(t, "100000", p.EscalationValue.String())
			}},
		{"VersionOmitted", map[string]any{"version": nil}, nil,
			func(t *testing.T, p domain.Policy) {
				require.Zero(t, p.Version, "the next number is taken when proposed")
			}},
		{"EveryFailingFieldAtOnce", map[string]any{
			"protection.opportunity.term":                              "9O days",
			"protection.opportunity.max_extensions":                    "two",
			"review.sla":                                               48,
			"benefits.mdf.percent":                                     "lots",
			"benefits.discount.registration_bonus_percent.opportunity": "20",
			"changes.notice_period":                                    "10d",
			"registration.first_contact_window":                        nil,
			"eligibility.opportunity.color":                            "blue",
			"surprise":                                                 true,
		}, []string{
			"eligibility.opportunity.color:invalid",
			"surprise:invalid",
			"registration.first_contact_window:required",
			"protection.opportunity.term:invalid",
			"protection.opportunity.max_extensions:invalid",
			"review.sla:invalid",
			"benefits.mdf.percent:invalid",
			// Rules that read the values that failed fail too.
			"protection.opportunity.extension_length:invalid",
			"protection.expiry_reminder:out_of_range",
			"review.reminder_before_due:out_of_range",
			"benefits.discount.registration_bonus_percent.opportunity:out_of_range",
			"changes.notice_period:out_of_range",
		}, nil},
		{"WrongShape", map[string]any{"routing.groups": "everyone"}, []string{"routing.groups:invalid"}, nil},
		{"UnassignedManagerCap", map[string]any{"routing.unassigned_manager_max_value": map[string]any{"USD": "250000", "EUR": 230000}}, nil,
			func(t *testing.T, p domain.Policy) {
				require.Equal(t, "250000", p.Routing.UnassignedManagerMaxValue["USD"].String())
				require.Equal(t, "230000", p.Routing.UnassignedManagerMaxValue["EUR"].String())
			}},
		{"UnassignedManagerCapInvalid", map[string]any{"routing.unassigned_manager_max_value": map[string]any{"usd": "1", "EUR": "0"}},
			[]string{"routing.unassigned_manager_max_value.EUR:out_of_range", "routing.unassigned_manager_max_value.usd:invalid"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := defaultDocument(t)
			for path, v := range tc.edits {
				setPath(t, doc, path, v)
			}
			raw, err := json.Marshal(doc)
			require.NoError(t, err)
			p, err := domain.ParsePolicy(raw)
			if tc.want != nil {
				require.Equal(t, domain.EINVALID, domain.ErrorCode(err), "%v", err)
				require.Equal(t, tc.want, fieldCodes(err))
				return
			}
			require.NoError(t, err)
			tc.check(t, p)
		})
	}
	t.Run("NotJSON", func(t *testing.T) {
		_, err := domain.ParsePolicy([]byte(`{"version": `))
		require.Equal(t, domain.EINVALID, domain.ErrorCode(err))
	})
	t.Run("TooLarge", func(t *testing.T) {
		_, err := domain.ParsePolicy(make([]byte, domain.MaxPolicyDocument+1))
		require.Equal(t, domain.ETOOLARGE, domain.ErrorCode(err))
	})
}

func TestPeriods(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		out  string
	}{
		{"90d", 90 * domain.Day, "90d"},
		{"48h", 48 * time.Hour, "48h"},
		{"2d", 48 * time.Hour, "48h"},
		{"72h", 3 * domain.Day, "3d"},
		{"1d12h", 36 * time.Hour, "36h"},
		{"3d12h30m", 84*time.Hour + 30*time.Minute, "3d12h30m"},
		{"0", 0, "0s"},
		{"0s", 0, "0s"},
		{"P90D", 90 * domain.Day, "90d"},
		{"PT48H", 48 * time.Hour, "48h"},
		{"P1DT12H", 36 * time.Hour, "36h"},
	} {
		got, err := domain.ParsePeriod(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
		require.Equal(t, tc.out, domain.FormatPeriod(got), tc.in)
	}
	for _, bad := range []string{"", "d", "90", "90 d", "-1d", "1h2d", "1.5d", "90days", "P", "PT", "-P1D", "1d1d", "99999999999999999d"} {
		_, err := domain.ParsePeriod(bad)
		require.Error(t, err, bad)
	}
}

var (
	leader    = domain.Actor{ID: "leader", Role: domain.RoleChannelLeader}
	executive = domain.Actor{ID: "exec", Role: domain.RoleExecutive}
	pt0       = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
)

// bookWith returns a book in which versions 2.. were proposed at pt0 and
// those given an effective date published at pt0.
func bookWith(t *testing.T, effective ...time.Time) *domain.PolicyBook {
	t.Helper()
	b := domain.NewPolicyBook()
	for _, from := range effective {
		events, err := b.Propose(leader, policyV2Numbered(b.Latest()+1), pt0)
		require.NoError(t, err)
		require.NoError(t, b.Apply(events[0]))
		if from.IsZero() {
			continue
		}
		events, err = b.Publish(leader, domain.Publication{Version: b.Latest(), EffectiveFrom: from}, pt0)
		require.NoError(t, err)
		require.NoError(t, b.Apply(events[0]))
	}
	return b
}

func policyV2Numbered(n int) domain.Policy {
	p := policyV2()
	p.Version = n
	return p
}

func TestPolicyBook_InForce(t *testing.T) {
	d := func(days int) time.Time { return pt0.Add(time.Duration(days) * domain.Day) }
	for _, tc := range []struct {
		name      string
		effective []time.Time // versions 2, 3, …; zero: a draft
		at        time.Time
		want      int
		states    []string // of versions 1..n at at
	}{
		{"OnlyVersion1", nil, d(0), 1, []string{domain.StateInForce}},
		{"DraftNeverApplies", []time.Time{{}}, d(400), 1, []string{domain.StateInForce, domain.StateDraft}},
		{"BeforeEffective", []time.Time{d(30)}, d(30).Add(-time.Nanosecond), 1, []string{domain.StateInForce, domain.StateScheduled}},
		{"AtEffective", []time.Time{d(30)}, d(30), 2, []string{domain.StateSuperseded, domain.StateInForce}},
		{"TwoScheduledFirstApplies", []time.Time{d(30), d(60)}, d(45), 2, []string{domain.StateSuperseded, domain.StateInForce, domain.StateScheduled}},
		{"TwoScheduledLatestApplies", []time.Time{d(30), d(60)}, d(90), 3, []string{domain.StateSuperseded, domain.StateSuperseded, domain.StateInForce}},
		{"DraftBetweenIsSkipped", []time.Time{d(30), {}, d(60)}, d(61), 4, []string{domain.StateSuperseded, domain.StateSuperseded, domain.StateDraft, domain.StateInForce}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := bookWith(t, tc.effective...)
			require.Equal(t, tc.want, b.InForce(tc.at).Version)
			for i, want := range tc.states {
				require.Equal(t, want, b.State(i+1, tc.at), "version %d", i+1)
			}
		})
	}
}

func TestPolicyBook_Publish(t *testing.T) {
	d := func(days int) time.Time { return pt0.Add(time.Duration(days) * domain.Day) }
	for _, tc := range []struct {
		name      string
		scheduled []time.Time // versions published before, 2..; then one draft is published
		actor     domain.Actor
		pub       domain.Publication
		code      string
		fields    []string
	}{
		{"NoticeExactly", nil, leader, domain.Publication{EffectiveFrom: d(30)}, "", nil},
		{"NoticeTooShort", nil, leader, domain.Publication{EffectiveFrom: d(30).Add(-time.Second)}, domain.EINVALID, []string{"effective_from:out_of_range"}},
		{"InThePast", nil, executive, domain.Publication{EffectiveFrom: pt0.Add(-time.Second), Emergency: true, Rationale: "r"}, domain.EINVALID, []string{"effective_from:out_of_range"}},
		{"EmergencyNow", nil, executive, domain.Publication{EffectiveFrom: pt0, Emergency: true, Rationale: "a court order"}, "", nil},
		{"EmergencyNeedsRationale", nil, executive, domain.Publication{EffectiveFrom: d(1), Emergency: true}, domain.EINVALID, []string{"rationale:required"}},
		{"EmergencyWithFullNotice", nil, executive, domain.Publication{EffectiveFrom: d(30), Emergency: true, Rationale: "r"}, domain.EINVALID, []string{"emergency:invalid"}},
		{"EmergencyNeedsExecutive", nil, leader, domain.Publication{EffectiveFrom: d(1), Emergency: true, Rationale: "r"}, domain.EFORBIDDEN, nil},
		{"ExecutiveNormalPublish", nil, executive, domain.Publication{EffectiveFrom: d(30)}, domain.EFORBIDDEN, nil},
		{"ManagerMayNot", nil, domain.Actor{ID: "cm", Role: domain.RoleChannelManager}, domain.Publication{EffectiveFrom: d(30)}, domain.EFORBIDDEN, nil},
		{"AfterScheduled", []time.Time{d(40)}, leader, domain.Publication{EffectiveFrom: d(41)}, "", nil},
		{"TieWithScheduled", []time.Time{d(40)}, leader, domain.Publication{EffectiveFrom: d(40)}, domain.EINVALID, []string{"effective_from:invalid"}},
		{"BeforeScheduled", []time.Time{d(40)}, leader, domain.Publication{EffectiveFrom: d(35)}, domain.EINVALID, []string{"effective_from:invalid"}},
		{"NoDate", nil, leader, domain.Publication{}, domain.EINVALID, []string{"effective_from:required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := bookWith(t, append(tc.scheduled, time.Time{})...)
			tc.pub.Version = b.Latest()
			events, err := b.Publish(tc.actor, tc.pub, pt0)
			if tc.code != "" {
				require.Equal(t, tc.code, domain.ErrorCode(err), "%v", err)
				if tc.fields != nil {
					require.Equal(t, tc.fields, fieldCodes(err))
				}
				return
			}
			require.NoError(t, err)
			pub := events[0].(domain.PolicyPublished)
			require.Equal(t, tc.pub.Emergency, pub.Emergency)
			require.Equal(t, "30d", pub.RequiredNotice)
			require.Equal(t, 1+len(tc.scheduled)*0, pub.InForceVersion)
			require.Equal(t, domain.PartnerNotice{Audience: domain.AudienceAllPartners, From: pt0, AcknowledgeBy: tc.pub.EffectiveFrom}, pub.Notice)
			require.NoError(t, b.Apply(pub))
			_, err = b.Publish(leader, domain.Publication{Version: pub.Version, EffectiveFrom: d(100)}, pt0)
			require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err), "a version is published once")
		})
	}
	t.Run("NoticeOfThePolicyInForce", func(t *testing.T) {
		// Version 2 asks for 60 days' notice; once in force, version 3
		// needs 60 days, while version 1's 30 still ruled version 2.
		b := domain.NewPolicyBook()
		v2 := policyV2()
		v2.NoticePeriod = 60 * domain.Day
		events, err := b.Propose(leader, v2, pt0)
		require.NoError(t, err)
		require.NoError(t, b.Apply(events[0]))
		events, err = b.Publish(leader, domain.Publication{Version: 2, EffectiveFrom: d(30)}, pt0)
		require.NoError(t, err)
		require.NoError(t, b.Apply(events[0]))
		events, err = b.Propose(leader, policyV2Numbered(3), d(31))
		require.NoError(t, err)
		require.NoError(t, b.Apply(events[0]))
		_, err = b.Publish(leader, domain.Publication{Version: 3, EffectiveFrom: d(31 + 59)}, d(31))
		require.Equal(t, []string{"effective_from:out_of_range"}, fieldCodes(err))
		events, err = b.Publish(leader, domain.Publication{Version: 3, EffectiveFrom: d(31 + 60)}, d(31))
		require.NoError(t, err)
		require.Equal(t, "60d", events[0].(domain.PolicyPublished).RequiredNotice)
	})
}

func TestPolicyBook_ProposeWithdrawAcknowledge(t *testing.T) {
	b := domain.NewPolicyBook()
	_, err := b.Propose(domain.Actor{ID: "cm", Role: domain.RoleChannelManager}, policyV2(), pt0)
	require.Equal(t, domain.EFORBIDDEN, domain.ErrorCode(err))
	_, err = b.Propose(leader, policyV2Numbered(3), pt0)
	require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err), "version 3 is not next")
	bad := policyV2()
	bad.OpportunityProtection = 89 * domain.Day
	_, err = b.Propose(leader, bad, pt0)
	require.Equal(t, []string{"protection.opportunity.term:out_of_range"}, fieldCodes(err))
	events, err := b.Propose(domain.Actor{ID: "root", Role: domain.RoleAdmin}, policyV2Numbered(0), pt0)
	require.NoError(t, err)
	require.Equal(t, 2, events[0].(domain.PolicyProposed).Version)
	require.NoError(t, b.Apply(events[0]))

	partner := domain.Actor{ID: "token:acme", Role: domain.RolePartner, PartnerID: "acme"}
	_, err = domain.AcknowledgePolicy(partner, b, 2, nil, pt0)
	require.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err), "a draft is not there for partners")

	events, err = b.Publish(leader, domain.Publication{Version: 2, EffectiveFrom: pt0.Add(30 * domain.Day)}, pt0)
	require.NoError(t, err)
	require.NoError(t, b.Apply(events[0]))
	events, err = domain.AcknowledgePolicy(partner, b, 2, nil, pt0)
	require.NoError(t, err)
	require.Equal(t, domain.PolicyAcknowledged{Version: 2, PartnerID: "acme", AcknowledgedBy: "token:acme", At: pt0}, events[0])
	events, err = domain.AcknowledgePolicy(partner, b, 2, []int{2}, pt0)
	require.NoError(t, err)
	require.Empty(t, events, "acknowledging twice records nothing")
	_, err = domain.AcknowledgePolicy(leader, b, 2, nil, pt0)
	require.Equal(t, domain.EFORBIDDEN, domain.ErrorCode(err))

	_, err = b.Withdraw(leader, 2, " ", pt0)
	require.Equal(t, []string{"reason:required"}, fieldCodes(err))
	_, err = b.Withdraw(leader, 1, "no", pt0)
	require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err), "the version in force cannot be withdrawn")
	events, err = b.Withdraw(leader, 2, "wrong numbers", pt0.Add(domain.Day))
	require.NoError(t, err)
	require.NoError(t, b.Apply(events[0]))
	require.Equal(t, domain.StateWithdrawn, b.State(2, pt0.Add(60*domain.Day)))
	require.Equal(t, 1, b.InForce(pt0.Add(60*domain.Day)).Version, "a withdrawn version never applies")
	_, err = b.Withdraw(leader, 2, "again", pt0.Add(domain.Day))
	require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err))

	rebuilt, err := domain.RebuildPolicyBook(b.Events()...)
	require.NoError(t, err)
	require.Equal(t, b, rebuilt)
}

// A publication recorded after its effective date applies from the
// recorded time: a version never reaches back before it was published.
func TestPolicyBook_NeverRetroactive(t *testing.T) {
	b := bookWith(t, time.Time{})
	require.NoError(t, b.Apply(domain.PolicyPublished{Version: 2, EffectiveFrom: pt0, At: pt0.Add(time.Millisecond)}))
	require.Equal(t, 1, b.InForce(pt0).Version)
	require.Equal(t, 2, b.InForce(pt0.Add(time.Millisecond)).Version)
}

func TestDiffPolicies(t *testing.T) {
	changes := domain.DiffPolicies(domain.DefaultPolicy(), policyV2())
	require.Equal(t, []domain.PolicyChange{
		{Field: "version", From: "1", To: "2"},
		{Field: "summary", From: domain.DefaultPolicy().Summary, To: "Longer protection, faster review"},
		{Field: "protection.opportunity.term", From: "90d", To: "120d"},
		{Field: "review.sla", From: "48h", To: "24h"},
		{Field: "review.reminder_before_due", From: "12h", To: "6h"},
		{Field: "auto_approval.enabled", From: "false", To: "true"},
		{Field: "benefits.discount.registration_bonus_percent.opportunity", From: "10", To: "12"},
	}, changes)

	p := policyV2()
	p.Routing.Groups = append([]domain.ReviewGroup{{Name: "enterprise", MinValue: map[string]decimal.Decimal{"USD": decimal.NewFromInt(500000)}}}, p.Routing.Groups...)
	p.Eligibility.NamedAccount.Certifications = []string{"Sales Pro", "Tech Pro"}
	changes = domain.DiffPolicies(policyV2(), p)
	require.Equal(t, []domain.PolicyChange{
		{Field: "eligibility.named_account.certifications", From: "", To: "Sales Pro, Tech Pro"},
		{Field: "routing.groups[0].name", From: "channel-operations", To: "enterprise"},
		{Field: "routing.groups[0].min_value.USD", From: "", To: "500000"},
		{Field: "routing.groups[1].name", From: "", To: "channel-operations"},
		{Field: "routing.groups[1].regions", From: "", To: ""},
	}[:3], changes[:3])
	require.Empty(t, domain.DiffPolicies(p, p))
}

func FuzzParsePolicy(f *testing.F) {
	raw, err := json.Marshal(domain.DefaultPolicy())
	require.NoError(f, err)
	f.Add(raw)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"protection":{"opportunity":{"term":"P90D"}},"benefits":{"mdf":{"percent":3}}}`))
	f.Add([]byte(`{"routing":{"groups":[{"name":"x","min_value":{"USD":"1e9"}}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := domain.ParsePolicy(data)
		if err != nil {
			code := domain.ErrorCode(err)
			require.Contains(t, []string{domain.EINVALID, domain.ETOOLARGE}, code, "%v", err)
			if code == domain.EINVALID {
				require.NotEmpty(t, domain.ErrorFields(err), "an invalid document names what failed")
			}
			return
		}
		// A valid document writes and reads back to the same policy.
		again, err := json.Marshal(p)
		require.NoError(t, err)
		back, err := domain.ParsePolicy(again)
		require.NoError(t, err)
		require.Equal(t, p.Version, back.Version)
		require.Empty(t, domain.DiffPolicies(p, back))
	})
}
