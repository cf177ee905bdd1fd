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

var (
	cfOpenAt = time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC)
	cfCmdAt  = cfOpenAt.Add(3 * time.Hour)

	cfRegA   = uuid.MustParse("00000000-0000-4000-8000-00000000000a")
	cfRegB   = uuid.MustParse("00000000-0000-4000-8000-00000000000b")
	cfRegC   = uuid.MustParse("00000000-0000-4000-8000-00000000000c")
	cfDirect = uuid.MustParse("00000000-0000-4000-8000-0000000000d1")
	cfID     = uuid.MustParse("00000000-0000-4000-8000-0000000000c1")

	cfKeyA = domain.PartyKeyRegistration(cfRegA)
	cfKeyB = domain.PartyKeyRegistration(cfRegB)
	cfKeyC = domain.PartyKeyRegistration(cfRegC)
	cfKeyD = domain.PartyKeyDirect(cfDirect)

	cfPartnerA  = domain.Actor{ID: "u-a", Role: domain.RolePartner, PartnerID: "acme"}
	cfPartnerB  = domain.Actor{ID: "u-b", Role: domain.RolePartner, PartnerID: "bolt"}
	cfStranger  = domain.Actor{ID: "u-z", Role: domain.RolePartner, PartnerID: "zeta"}
	cfManager   = domain.Actor{ID: "cm", Role: domain.RoleChannelManager}
	cfDirector  = domain.Actor{ID: "cd", Role: domain.RoleChannelDirector}
	cfExecutive = domain.Actor{ID: "ex", Role: domain.RoleExecutive}
	cfAdmin     = domain.Actor{ID: "system", Role: domain.RoleAdmin}
	cfAuditor   = domain.Actor{ID: "au", Role: domain.RoleAuditor}
	cfSales     = domain.Actor{ID: "ds", Role: domain.RoleDirectSales}
)

func cfDay(n int) time.Time { return cfOpenAt.Add(time.Duration(n) * domain.Day) }

func cfPartnerParty(reg uuid.UUID, partnerID string, pos uint64, firstContact time.Time, proof bool) domain.Party {
	return domain.Party{
		Key: domain.PartyKeyRegistration(reg), Kind: domain.PartyPartner, PartnerID: partnerID, RegistrationID: reg,
		ClaimPosition: pos, ClaimedAt: cfOpenAt.Add(-time.Duration(100-pos) * time.Hour), FirstContact: firstContact,
		HasProof: proof, Tier: domain.TierGold,
	}
}

func cfDirectParty(pos uint64, firstContact time.Time) domain.Party {
	return domain.Party{
		Key: cfKeyD, Kind: domain.PartyDirect, DirectOpportunityID: cfDirect, Owner: "rep@vendor",
		ClaimPosition: pos, ClaimedAt: cfOpenAt.Add(-time.Duration(100-pos) * time.Hour), FirstContact: firstContact,
	}
}

func cfMoney(amount, currency string) domain.Money {
	return domain.Money{Amount: decimal.RequireFromString(amount), Currency: currency}
}

// cfPvP is a partner-vs-partner opening: acme (position 10) before bolt
// (position 20).
func cfPvP() domain.ConflictOpening {
	return domain.ConflictOpening{
		ID: cfID, Kind: domain.ConflictPartnerVsPartner,
		Parties: []domain.Party{
			cfPartnerParty(cfRegA, "acme", 10, cfDay(-30), true),
			cfPartnerParty(cfRegB, "bolt", 20, cfDay(-40), true),
		},
		Account: domain.Account{CompanyName: "Empresa XYZ", Domain: "xyz.example", Country: "MX"},
		Value:   cfMoney("150000", "USD"),
		Reason:  "same domain xyz.example",
	}
}

// cfPvD is a partner-vs-direct opening: acme (position 10, proof, first
// contact 30 days ago) before the direct deal (position 20, first contact
// 20 days ago).
func cfPvD() domain.ConflictOpening {
	o := cfPvP()
	o.Kind = domain.ConflictPartnerVsDirect
	o.Parties = []domain.Party{
		cfPartnerParty(cfRegA, "acme", 10, cfDay(-30), true),
		cfDirectParty(20, cfDay(-20)),
	}
	return o
}

func cfOpen(tb testing.TB, o domain.ConflictOpening) *domain.Conflict {
	tb.Helper()
	events, err := domain.OpenConflict(cfManager, o, domain.DefaultPolicy(), cfOpenAt)
	require.NoError(tb, err)
	c, err := domain.RebuildConflict(events...)
	require.NoError(tb, err)
	return c
}

// cfDo applies the events of a successful command to c.
func cfDo(tb testing.TB, c *domain.Conflict) func([]domain.Event, error) *domain.Conflict {
	return func(events []domain.Event, err error) *domain.Conflict {
		tb.Helper()
		require.NoError(tb, err)
		for _, e := range events {
			require.NoError(tb, c.Apply(e))
		}
		return c
	}
}

// cfAtLevel opens o and escalates it to level.
func cfAtLevel(tb testing.TB, o domain.ConflictOpening, level int) *domain.Conflict {
	tb.Helper()
	c := cfOpen(tb, o)
	for c.Level() < level {
		by := cfManager
		if c.Level() == 2 {
			by = cfDirector
		}
		cfDo(tb, c)(c.Escalate(by, "needs a higher level", domain.DefaultPolicy(), cfCmdAt))
	}
	require.Equal(tb, level, c.Level())
	return c
}

func cfAward(winner string) domain.ConflictDecision {
	return domain.ConflictDecision{Outcome: domain.OutcomeAward, Winner: winner, Rationale: "registered first with proof", PolicyClause: "partner-first 4.2"}
}

func TestConflict_OpenLevel(t *testing.T) {
	platinum := func(o domain.ConflictOpening) domain.ConflictOpening {
		o.Parties[1].Tier = domain.TierPlatinum
		return o
	}
	for _, tc := range []struct {
		name    string
		opening domain.ConflictOpening
		policy  func(*domain.Policy)
		level   int
		reasons []string
	}{
		{"Plain", cfPvP(), nil, 1, nil},
		{"JustBelowThreshold", func() domain.ConflictOpening { o := cfPvP(); o.Value = cfMoney("249999.99", "USD"); return o }(), nil, 1, nil},
		{"AtThreshold", func() domain.ConflictOpening { o := cfPvP(); o.Value = cfMoney("250000", "USD"); return o }(), nil, 2, []string{domain.EscalationHighValue}},
		{"OtherCurrencySameAmount", func() domain.ConflictOpening { o := cfPvP(); o.Value = cfMoney("250000", "EUR"); return o }(), nil, 2, []string{domain.EscalationHighValue}},
		{"CurrencyWithItsOwnThreshold", func() domain.ConflictOpening { o := cfPvP(); o.Value = cfMoney("1000000", "MXN"); return o }(),
			func(p *domain.Policy) {
				p.EscalationValues = map[string]decimal.Decimal{"MXN": decimal.NewFromInt(5000000)}
			}, 1, nil},
		{"AtItsOwnThreshold", func() domain.ConflictOpening { o := cfPvP(); o.Value = cfMoney("5000000", "MXN"); return o }(),
			func(p *domain.Policy) {
				p.EscalationValues = map[string]decimal.Decimal{"MXN": decimal.NewFromInt(5000000)}
			}, 2, []string{domain.EscalationHighValue}},
		{"OtherCurrenciesKeepTheDefault", func() domain.ConflictOpening { o := cfPvP(); o.Value = cfMoney("250000", "USD"); return o }(),
			func(p *domain.Policy) {
				p.EscalationValues = map[string]decimal.Decimal{"MXN": decimal.NewFromInt(5000000)}
			}, 2, []string{domain.EscalationHighValue}},
		{"ZeroForOneCurrencyDisablesItThere", func() domain.ConflictOpening { o := cfPvP(); o.Value = cfMoney("900000000", "JPY"); return o }(),
			func(p *domain.Policy) { p.EscalationValues = map[string]decimal.Decimal{"JPY": decimal.Zero} }, 1, nil},
		{"NoValue", func() domain.ConflictOpening { o := cfPvP(); o.Value = domain.Money{}; return o }(), nil, 1, nil},
		{"PlatinumPartner", platinum(cfPvP()), nil, 2, []string{domain.EscalationStrategicTier}},
		{"HighValueAndPlatinum", func() domain.ConflictOpening { o := platinum(cfPvP()); o.Value = cfMoney("1000000", "USD"); return o }(), nil,
			2, []string{domain.EscalationHighValue, domain.EscalationStrategicTier}},
		{"GoldIsStrategicByPolicy", cfPvP(), func(p *domain.Policy) { p.StrategicTiers = []domain.PartnerTier{domain.TierGold} }, 2, []string{domain.EscalationStrategicTier}},
		{"ZeroEscalationValueDisablesTheRule", func() domain.ConflictOpening { o := cfPvP(); o.Value = cfMoney("900000000", "USD"); return o }(),
			func(p *domain.Policy) { p.EscalationValue = decimal.Zero }, 1, nil},
		{"DirectPartyHasNoTier", cfPvD(), nil, 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := domain.DefaultPolicy()
			if tc.policy != nil {
				tc.policy(&p)
			}
			events, err := domain.OpenConflict(cfManager, tc.opening, p, cfOpenAt)
			require.NoError(t, err)
			require.Len(t, events, 1)
			opened := events[0].(domain.ConflictOpened)
			require.Equal(t, tc.level, opened.Level)
			require.Equal(t, tc.reasons, opened.EscalationReasons)
			require.Equal(t, cfOpenAt.Add(p.ConflictSLAFor(tc.level)), opened.DueAt)
			require.Equal(t, p.Version, opened.PolicyVersion)

			c, err := domain.RebuildConflict(events...)
			require.NoError(t, err)
			require.Equal(t, tc.level, c.Level())
			require.Equal(t, domain.ConflictStatusOpen, c.Status())
			require.Equal(t, opened.DueAt, c.DueAt())
			require.Equal(t, cfOpenAt, c.OpenedAt())
			require.Equal(t, 1, c.Version())
		})
	}
}

func TestConflict_SLAPerLevel(t *testing.T) {
	p := domain.DefaultPolicy()
	require.Equal(t, []time.Duration{48 * time.Hour, 5 * domain.Day, 10 * domain.Day}, p.ConflictSLA)
	require.Equal(t, 48*time.Hour, p.ConflictSLAFor(1))
	require.Equal(t, 5*domain.Day, p.ConflictSLAFor(2))
	require.Equal(t, 10*domain.Day, p.ConflictSLAFor(3))
	require.Equal(t, 5*domain.Day, domain.Policy{}.ConflictSLAFor(2), "no SLAs means the defaults")

	c := cfOpen(t, cfPvP())
	require.Equal(t, cfOpenAt.Add(48*time.Hour), c.DueAt())
	require.False(t, c.Overdue(cfOpenAt.Add(47*time.Hour)))
	require.True(t, c.Overdue(cfOpenAt.Add(48*time.Hour)))

	at2 := cfOpenAt.Add(40 * time.Hour)
	cfDo(t, c)(c.Escalate(cfManager, "high stakes", p, at2))
	require.Equal(t, 2, c.Level())
	require.Equal(t, at2.Add(5*domain.Day), c.DueAt())

	at3 := at2.Add(4 * domain.Day)
	cfDo(t, c)(c.Escalate(cfDirector, "relationship at risk", p, at3))
	require.Equal(t, 3, c.Level())
	require.Equal(t, at3.Add(10*domain.Day), c.DueAt())

	_, err := c.Escalate(cfExecutive, "more", p, at3)
	require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err), "level 3 is the top")

	esc := c.Escalations()
	require.Len(t, esc, 2)
	require.Equal(t, domain.ConflictEscalated{ConflictID: cfID, FromLevel: 1, ToLevel: 2, Reason: "high stakes", DueAt: at2.Add(5 * domain.Day), EscalatedBy: "cm", PolicyVersion: 1, At: at2}, esc[0])
	require.Equal(t, 2, esc[1].FromLevel)
	require.Equal(t, 3, esc[1].ToLevel)

	t.Run("PolicySLA", func(t *testing.T) {
		p := domain.DefaultPolicy()
		p.ConflictSLA = []time.Duration{24 * time.Hour, 2 * domain.Day, 3 * domain.Day}
		events, err := domain.OpenConflict(cfManager, cfPvP(), p, cfOpenAt)
		require.NoError(t, err)
		require.Equal(t, cfOpenAt.Add(24*time.Hour), events[0].(domain.ConflictOpened).DueAt)
		c, err := domain.RebuildConflict(events...)
		require.NoError(t, err)
		events, err = c.Escalate(cfManager, "r", p, cfCmdAt)
		require.NoError(t, err)
		require.Equal(t, cfCmdAt.Add(2*domain.Day), events[0].(domain.ConflictEscalated).DueAt)
	})
}

func TestConflict_OpenAuthorization(t *testing.T) {
	for _, tc := range []struct {
		actor domain.Actor
		code  string
	}{
		{cfManager, ""}, {cfDirector, ""}, {cfExecutive, ""}, {cfAdmin, ""},
		{cfPartnerA, domain.EFORBIDDEN}, {cfAuditor, domain.EFORBIDDEN}, {cfSales, domain.EFORBIDDEN},
		{domain.Actor{Role: domain.RoleAdmin}, domain.EFORBIDDEN},
	} {
		t.Run(string(tc.actor.Role)+tc.actor.ID, func(t *testing.T) {
			o := cfPvP()
			o.Automatic = tc.actor.Role == domain.RoleAdmin
			events, err := domain.OpenConflict(tc.actor, o, domain.DefaultPolicy(), cfOpenAt)
			if tc.code != "" {
				require.Equal(t, tc.code, domain.ErrorCode(err))
				return
			}
			require.NoError(t, err)
			opened := events[0].(domain.ConflictOpened)
			require.Equal(t, tc.actor.ID, opened.OpenedBy)
			require.Equal(t, o.Automatic, opened.Automatic)
		})
	}
}

func TestConflict_OpenValidation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*domain.ConflictOpening)
		want   []string
	}{
		{"Valid", func(*domain.ConflictOpening) {}, nil},
		{"KeysFilledIn", func(o *domain.ConflictOpening) { o.Parties[0].Key, o.Parties[1].Key = "", "" }, nil},
		{"ThreePartners", func(o *domain.ConflictOpening) {
			o.Parties = append(o.Parties, cfPartnerParty(cfRegC, "cato", 30, time.Time{}, false))
		}, nil},
		{"NoID", func(o *domain.ConflictOpening) { o.ID = uuid.Nil }, []string{"id:required"}},
		{"BadKind", func(o *domain.ConflictOpening) { o.Kind = "war" }, []string{"kind:invalid"}},
		{"OneParty", func(o *domain.ConflictOpening) { o.Parties = o.Parties[:1] }, []string{"parties:required"}},
		{"DuplicateKey", func(o *domain.ConflictOpening) { o.Parties[1] = o.Parties[0]; o.Parties[1].ClaimPosition = 99 },
			[]string{"parties[1].key:duplicate"}},
		{"SamePosition", func(o *domain.ConflictOpening) { o.Parties[1].ClaimPosition = 10 }, []string{"parties[1].claim_position:duplicate"}},
		{"KeyMismatch", func(o *domain.ConflictOpening) { o.Parties[0].Key = cfKeyC }, []string{"parties[0].key:invalid"}},
		{"DirectInPartnerConflict", func(o *domain.ConflictOpening) { o.Parties[1] = cfDirectParty(20, time.Time{}) },
			[]string{"parties[1].kind:invalid"}},
		{"PartnerFields", func(o *domain.ConflictOpening) {
			o.Parties[0].PartnerID, o.Parties[0].RegistrationID, o.Parties[0].Key = "", uuid.Nil, "registration:x"
			o.Parties[0].Owner, o.Parties[0].Tier, o.Parties[0].ClaimedAt = "rep", "diamond", time.Time{}
		}, []string{"parties[0].partner_id:required", "parties[0].registration_id:required", "parties[0].owner:invalid",
			"parties[0].tier:invalid", "parties[0].key:invalid", "parties[0].claimed_at:required"}},
		{"FirstContactInFuture", func(o *domain.ConflictOpening) { o.Parties[0].FirstContact = cfDay(1) },
			[]string{"parties[0].first_contact:out_of_range"}},
		{"BadPartyKind", func(o *domain.ConflictOpening) { o.Parties[0].Kind = "reseller" }, []string{"parties[0].kind:invalid"}},
		{"NoAccount", func(o *domain.ConflictOpening) { o.Account = domain.Account{Country: "ZZ"} },
			[]string{"account.company_name:required", "account.country:invalid"}},
		{"BadValue", func(o *domain.ConflictOpening) { o.Value = cfMoney("-1", "usd") }, []string{"value.amount:out_of_range"}},
		{"LongReason", func(o *domain.ConflictOpening) { o.Reason = strings.Repeat("r", domain.MaxConflictReasonLen+1) },
			[]string{"reason:too_long"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := cfPvP()
			tc.mutate(&o)
			events, err := domain.OpenConflict(cfManager, o, domain.DefaultPolicy(), cfOpenAt)
			if tc.want == nil {
				require.NoError(t, err)
				opened := events[0].(domain.ConflictOpened)
				for _, p := range opened.Parties {
					require.NotEmpty(t, p.Key)
				}
				return
			}
			require.Equal(t, domain.EINVALID, domain.ErrorCode(err))
			require.Equal(t, tc.want, fieldCodes(err))
		})
	}
	t.Run("PartnerVsDirect", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			mutate func(*domain.ConflictOpening)
			want   []string
		}{
			{"Valid", func(*domain.ConflictOpening) {}, nil},
			{"NoDirect", func(o *domain.ConflictOpening) { o.Parties[1] = cfPartnerParty(cfRegB, "bolt", 20, time.Time{}, false) },
				[]string{"parties:invalid"}},
			{"TwoDirects", func(o *domain.ConflictOpening) {
				d := cfDirectParty(30, time.Time{})
				d.DirectOpportunityID, d.Key = cfRegC, domain.PartyKeyDirect(cfRegC)
				o.Parties = append(o.Parties, d)
			}, []string{"parties:invalid"}},
			{"DirectFields", func(o *domain.ConflictOpening) {
				o.Parties[1].Owner, o.Parties[1].PartnerID, o.Parties[1].Tier = "", "acme", domain.TierGold
			}, []string{"parties[1].owner:required", "parties[1].partner_id:invalid", "parties[1].tier:invalid"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				o := cfPvD()
				tc.mutate(&o)
				_, err := domain.OpenConflict(cfManager, o, domain.DefaultPolicy(), cfOpenAt)
				if tc.want == nil {
					require.NoError(t, err)
					return
				}
				require.Equal(t, tc.want, fieldCodes(err))
			})
		}
	})
}

func TestConflict_DecideRoles(t *testing.T) {
	for _, tc := range []struct {
		level int
		actor domain.Actor
		code  string
	}{
		{1, cfManager, ""}, {1, cfDirector, ""}, {1, cfExecutive, ""},
		{2, cfManager, domain.EFORBIDDEN}, {2, cfDirector, ""}, {2, cfExecutive, ""},
		{3, cfManager, domain.EFORBIDDEN}, {3, cfDirector, domain.EFORBIDDEN}, {3, cfExecutive, ""},
		{1, cfAdmin, domain.EFORBIDDEN}, {3, cfAdmin, domain.EFORBIDDEN},
		{1, cfAuditor, domain.EFORBIDDEN}, {1, cfSales, domain.EFORBIDDEN},
		{1, cfPartnerA, domain.EFORBIDDEN}, // a party, but partners never decide
		{1, cfStranger, domain.ENOTFOUND},  // not a party: the conflict is invisible
	} {
		t.Run(string(tc.actor.Role)+"@"+string(rune('0'+tc.level)), func(t *testing.T) {
			c := cfAtLevel(t, cfPvP(), tc.level)
			events, err := c.Decide(tc.actor, cfAward(cfKeyA), domain.DefaultPolicy(), cfCmdAt)
			if tc.code != "" {
				require.Equal(t, tc.code, domain.ErrorCode(err), "%v", err)
				return
			}
			require.NoError(t, err)
			decided := events[0].(domain.ConflictDecided)
			require.Equal(t, tc.level, decided.Level)
			require.Equal(t, tc.actor.ID, decided.DecidedBy)
		})
	}
}

func TestConflict_EscalateRoles(t *testing.T) {
	for _, tc := range []struct {
		level int
		actor domain.Actor
		code  string
	}{
		{1, cfManager, ""}, {1, cfDirector, ""}, {1, cfExecutive, ""},
		{2, cfManager, domain.EFORBIDDEN}, {2, cfDirector, ""}, {2, cfExecutive, ""},
		{3, cfDirector, domain.EFORBIDDEN}, {3, cfExecutive, domain.ECONFLICT},
		{1, cfAdmin, domain.EFORBIDDEN}, {1, cfAuditor, domain.EFORBIDDEN}, {1, cfSales, domain.EFORBIDDEN},
		{1, cfPartnerB, domain.EFORBIDDEN}, {1, cfStranger, domain.ENOTFOUND},
	} {
		t.Run(string(tc.actor.Role)+"@"+string(rune('0'+tc.level)), func(t *testing.T) {
			c := cfAtLevel(t, cfPvP(), tc.level)
			events, err := c.Escalate(tc.actor, "unclear", domain.DefaultPolicy(), cfCmdAt)
			if tc.code != "" {
				require.Equal(t, tc.code, domain.ErrorCode(err), "%v", err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.level+1, events[0].(domain.ConflictEscalated).ToLevel)
		})
	}
	t.Run("ReasonRequired", func(t *testing.T) {
		_, err := cfOpen(t, cfPvP()).Escalate(cfManager, "  ", domain.DefaultPolicy(), cfCmdAt)
		require.Equal(t, []string{"reason:required"}, fieldCodes(err))
	})
}

func TestConflict_Evidence(t *testing.T) {
	ev := domain.Evidence{Statement: "We ran the discovery workshop in January."}
	for _, tc := range []struct {
		name  string
		open  func() domain.ConflictOpening
		actor domain.Actor
		party string
		code  string
	}{
		{"OwnParty", cfPvP, cfPartnerA, cfKeyA, ""},
		{"OtherOwnParty", cfPvP, cfPartnerB, cfKeyB, ""},
		{"OtherPartnersParty", cfPvP, cfPartnerB, cfKeyA, domain.ENOTFOUND},
		{"StrangerPartner", cfPvP, cfStranger, cfKeyA, domain.ENOTFOUND},
		{"UnknownParty", cfPvP, cfPartnerA, cfKeyC, domain.ENOTFOUND},
		{"DirectSalesForDirect", cfPvD, cfSales, cfKeyD, ""},
		{"DirectSalesForPartner", cfPvD, cfSales, cfKeyA, domain.EFORBIDDEN},
		{"PartnerForDirect", cfPvD, cfPartnerA, cfKeyD, domain.ENOTFOUND},
		{"ManagerForParty", cfPvD, cfManager, cfKeyA, domain.EFORBIDDEN},
		{"AdminForParty", cfPvD, cfAdmin, cfKeyD, domain.EFORBIDDEN},
		{"AuditorForParty", cfPvD, cfAuditor, cfKeyD, domain.EFORBIDDEN},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cfOpen(t, tc.open())
			events, err := c.SubmitEvidence(tc.actor, tc.party, ev, nil, cfCmdAt)
			if tc.code != "" {
				require.Equal(t, tc.code, domain.ErrorCode(err), "%v", err)
				return
			}
			require.NoError(t, err)
			cfDo(t, c)(events, nil)
			subs := c.EvidenceOf(tc.party)
			require.Len(t, subs, 1)
			require.Equal(t, ev, subs[0].Evidence)
			require.Equal(t, tc.actor.ID, subs[0].SubmittedBy)
			require.Equal(t, map[string][]domain.ConflictEvidenceSubmitted{tc.party: subs}, c.Evidence())
		})
	}

	t.Run("Validation", func(t *testing.T) {
		c := cfOpen(t, cfPvP())
		_, err := c.SubmitEvidence(cfPartnerA, cfKeyA, domain.Evidence{
			Statement:    strings.Repeat("s", domain.MaxEvidenceStatementLen+1),
			FirstContact: cfDay(2),
			Timeline:     []domain.Activity{{Kind: "golf"}, {Kind: domain.ActivityDemo, Date: cfDay(3)}},
			Documents: []domain.Attachment{
				{SHA256: "abc"},
				{SHA256: strings.Repeat("a", 64), Filename: "a/b.pdf"},
				{SHA256: strings.Repeat("A", 64)},
			},
		}, nil, cfCmdAt)
		require.Equal(t, domain.EINVALID, domain.ErrorCode(err))
		require.Equal(t, []string{
			"statement:too_long", "first_contact:out_of_range",
			"timeline[0].kind:invalid", "timeline[1].date:out_of_range",
			"documents[0].sha256:invalid", "documents[1].filename:invalid", "documents[2].sha256:duplicate",
		}, fieldCodes(err))

		_, err = c.SubmitEvidence(cfPartnerA, cfKeyA, domain.Evidence{}, nil, cfCmdAt)
		require.Equal(t, []string{"statement:required"}, fieldCodes(err))

		_, err = c.SubmitEvidence(cfPartnerA, cfKeyA, domain.Evidence{Statement: "s", Timeline: make([]domain.Activity, 51), Documents: make([]domain.Attachment, 21)}, nil, cfCmdAt)
		require.Equal(t, []string{"timeline:too_many", "documents:too_many"}, fieldCodes(err))
	})

	t.Run("Request", func(t *testing.T) {
		for _, tc := range []struct {
			actor domain.Actor
			party string
			want  string
		}{
			{cfManager, cfKeyA, ""}, {cfDirector, cfKeyB, ""}, {cfExecutive, cfKeyA, ""},
			{cfAdmin, cfKeyA, domain.EFORBIDDEN}, {cfAuditor, cfKeyA, domain.EFORBIDDEN},
			{cfPartnerA, cfKeyB, domain.EFORBIDDEN}, {cfSales, cfKeyA, domain.EFORBIDDEN}, {cfStranger, cfKeyA, domain.ENOTFOUND},
			{cfManager, cfKeyC, domain.EINVALID},
		} {
			c := cfOpen(t, cfPvP())
			events, err := c.RequestEvidence(tc.actor, tc.party, "Send the NDA", cfCmdAt)
			if tc.want != "" {
				require.Equal(t, tc.want, domain.ErrorCode(err), "%s %s", tc.actor.Role, tc.party)
				continue
			}
			require.NoError(t, err)
			cfDo(t, c)(events, nil)
			require.Equal(t, []domain.ConflictEvidenceRequested{{ConflictID: cfID, PartyKey: tc.party, Request: "Send the NDA", RequestedBy: tc.actor.ID, At: cfCmdAt}}, c.EvidenceRequests())
		}
		_, err := cfOpen(t, cfPvP()).RequestEvidence(cfManager, "", "", cfCmdAt)
		require.Equal(t, []string{"party_key:required", "request:required"}, fieldCodes(err))
	})

	t.Run("SubmissionLimit", func(t *testing.T) {
		c := cfOpen(t, cfPvP())
		for range domain.MaxEvidenceSubmissions {
			cfDo(t, c)(c.SubmitEvidence(cfPartnerA, cfKeyA, ev, nil, cfCmdAt))
		}
		_, err := c.SubmitEvidence(cfPartnerA, cfKeyA, ev, nil, cfCmdAt)
		require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err))
		cfDo(t, c)(c.SubmitEvidence(cfPartnerB, cfKeyB, ev, nil, cfCmdAt))
	})
}

func TestConflict_Recommendation(t *testing.T) {
	none := time.Time{}
	for _, tc := range []struct {
		name    string
		parties []domain.Party
		winner  string
		clause  string
	}{
		{"PartnerFirstWithProof",
			[]domain.Party{cfPartnerParty(cfRegA, "acme", 10, cfDay(-30), true), cfDirectParty(20, cfDay(-20))},
			cfKeyA, domain.ClausePartnerFirst},
		{"PartnerFirstWithProofSameFirstContact",
			[]domain.Party{cfPartnerParty(cfRegA, "acme", 10, cfDay(-30), true), cfDirectParty(20, cfDay(-30))},
			cfKeyA, domain.ClausePartnerFirst},
		{"PartnerFirstWithProofDirectFirstContactUnknown",
			[]domain.Party{cfPartnerParty(cfRegA, "acme", 10, cfDay(-30), true), cfDirectParty(20, none)},
			cfKeyA, domain.ClausePartnerFirst},
		// Without proof partner-first does not apply; ledger order decides,
		// and the partner registered first.
		{"PartnerFirstWithoutProof",
			[]domain.Party{cfPartnerParty(cfRegA, "acme", 10, cfDay(-30), false), cfDirectParty(20, cfDay(-20))},
			cfKeyA, domain.ClauseFirstToRegister},
		{"DirectFirst",
			[]domain.Party{cfPartnerParty(cfRegA, "acme", 20, cfDay(-60), true), cfDirectParty(10, cfDay(-20))},
			cfKeyD, domain.ClauseFirstToRegister},
		{"DirectFirstContactEarlier",
			[]domain.Party{cfPartnerParty(cfRegA, "acme", 10, cfDay(-30), true), cfDirectParty(20, cfDay(-31))},
			cfKeyD, domain.ClausePriorDirectRelationship},
		{"DirectFirstContactEarlierPartnerWithoutProof",
			[]domain.Party{cfPartnerParty(cfRegA, "acme", 10, cfDay(-30), false), cfDirectParty(20, cfDay(-31))},
			cfKeyD, domain.ClausePriorDirectRelationship},
		{"EarliestOfSeveralPartners",
			[]domain.Party{cfPartnerParty(cfRegB, "bolt", 15, cfDay(-90), true), cfDirectParty(20, cfDay(-31)), cfPartnerParty(cfRegA, "acme", 10, cfDay(-30), true)},
			cfKeyD, domain.ClausePriorDirectRelationship},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := cfPvD()
			o.Parties = tc.parties
			c := cfOpen(t, o)
			winner, clause, ok := c.Recommendation()
			require.True(t, ok)
			require.Equal(t, tc.winner, winner)
			require.Equal(t, tc.clause, clause)
		})
	}

	t.Run("PartnerVsPartner", func(t *testing.T) {
		o := cfPvP()
		o.Parties = []domain.Party{
			cfPartnerParty(cfRegB, "bolt", 20, cfDay(-90), true),
			cfPartnerParty(cfRegC, "cato", 30, cfDay(-90), true),
			cfPartnerParty(cfRegA, "acme", 10, cfDay(-1), false),
		}
		winner, clause, ok := cfOpen(t, o).Recommendation()
		require.True(t, ok)
		require.Equal(t, cfKeyA, winner, "the lowest ledger position, whatever else")
		require.Equal(t, domain.ClauseFirstToRegister, clause)
	})

	t.Run("Empty", func(t *testing.T) {
		_, _, ok := (&domain.Conflict{}).Recommendation()
		require.False(t, ok)
		var nilConflict *domain.Conflict
		_, _, ok = nilConflict.Recommendation()
		require.False(t, ok)
	})

	t.Run("EvidenceCounts", func(t *testing.T) {
		o := cfPvD()
		o.Parties = []domain.Party{cfPartnerParty(cfRegA, "acme", 10, cfDay(-30), false), cfDirectParty(20, cfDay(-20))}
		c := cfOpen(t, o)
		rec := func() (string, string) {
			w, cl, ok := c.Recommendation()
			require.True(t, ok)
			return w, cl
		}
		w, cl := rec()
		require.Equal(t, []string{cfKeyA, domain.ClauseFirstToRegister}, []string{w, cl})

		cfDo(t, c)(c.SubmitEvidence(cfPartnerA, cfKeyA, domain.Evidence{Statement: "no documents yet"}, nil, cfCmdAt))
		w, cl = rec()
		require.Equal(t, []string{cfKeyA, domain.ClauseFirstToRegister}, []string{w, cl}, "evidence without documents is no proof")

		cfDo(t, c)(c.SubmitEvidence(cfPartnerA, cfKeyA, domain.Evidence{Statement: "signed NDA", Documents: []domain.Attachment{{SHA256: strings.Repeat("b", 64), Size: 10, ContentType: "application/pdf"}}},
			[]domain.Attachment{{SHA256: strings.Repeat("b", 64), Size: 10, ContentType: "application/pdf", Filename: "nda.pdf"}}, cfCmdAt))
		w, cl = rec()
		require.Equal(t, []string{cfKeyA, domain.ClausePartnerFirst}, []string{w, cl}, "documents are proof")

		cfDo(t, c)(c.SubmitEvidence(cfSales, cfKeyD, domain.Evidence{Statement: "CRM shows a call", FirstContact: cfDay(-45)}, nil, cfCmdAt))
		w, cl = rec()
		require.Equal(t, []string{cfKeyD, domain.ClausePriorDirectRelationship}, []string{w, cl}, "the direct party's evidence moves its first contact")

		cfDo(t, c)(c.SubmitEvidence(cfSales, cfKeyD, domain.Evidence{Statement: "correction", FirstContact: cfDay(-25)}, nil, cfCmdAt))
		w, cl = rec()
		require.Equal(t, []string{cfKeyA, domain.ClausePartnerFirst}, []string{w, cl}, "the latest submitted first contact wins")

		cfDo(t, c)(c.SubmitEvidence(cfSales, cfKeyD, domain.Evidence{Statement: "more notes"}, nil, cfCmdAt))
		w, _ = rec()
		require.Equal(t, cfKeyA, w, "evidence without a first contact leaves it as it was")
	})
}

func TestConflict_Override(t *testing.T) {
	p := domain.DefaultPolicy()
	rejectAll := domain.ConflictDecision{Outcome: domain.OutcomeRejectAll, Rationale: "no adequate proof", PolicyClause: "reject-both 5.3"}
	coRegister := domain.ConflictDecision{Outcome: domain.OutcomeCoRegister, Rationale: "different divisions", PolicyClause: "co-registration 5.2",
		Shares: []domain.Share{
			{PartyKey: cfKeyA, Percent: decimal.RequireFromString("50"), Responsibilities: "HR module"},
			{PartyKey: cfKeyB, Percent: decimal.RequireFromString("50"), Responsibilities: "Payroll module"},
		}}
	for _, tc := range []struct {
		name     string
		open     func() domain.ConflictOpening
		level    int
		decision domain.ConflictDecision
		code     string
		overrode bool
	}{
		{"FollowAtLevel1", cfPvD, 1, cfAward(cfKeyA), "", false},
		{"AwardOtherAtLevel1", cfPvD, 1, cfAward(cfKeyD), domain.ECONFLICT, false},
		{"AwardOtherAtLevel2", cfPvD, 2, cfAward(cfKeyD), "", true},
		{"AwardOtherAtLevel3", cfPvD, 3, cfAward(cfKeyD), "", true},
		{"RejectAllPvDAtLevel1", cfPvD, 1, rejectAll, domain.ECONFLICT, false},
		{"RejectAllPvDAtLevel2", cfPvD, 2, rejectAll, "", true},
		{"AwardSecondPartnerAtLevel1", cfPvP, 1, cfAward(cfKeyB), domain.ECONFLICT, false},
		{"AwardSecondPartnerAtLevel2", cfPvP, 2, cfAward(cfKeyB), "", true},
		{"RejectAllPvPAtLevel1", cfPvP, 1, rejectAll, "", false},
		{"CoRegisterPvPAtLevel1", cfPvP, 1, coRegister, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cfAtLevel(t, tc.open(), tc.level)
			by := []domain.Actor{cfManager, cfDirector, cfExecutive}[tc.level-1]
			events, err := c.Decide(by, tc.decision, p, cfCmdAt)
			if tc.code != "" {
				require.Equal(t, tc.code, domain.ErrorCode(err))
				require.Contains(t, domain.ErrorMessage(err), "escalate")
				return
			}
			require.NoError(t, err)
			decided := events[0].(domain.ConflictDecided)
			require.Equal(t, tc.overrode, decided.Overrode)
			rec, clause, _ := c.Recommendation()
			require.Equal(t, rec, decided.Recommended)
			require.Equal(t, clause, decided.RecommendedClause)
			require.Equal(t, tc.decision.Outcome, decided.Outcome)
			require.Equal(t, tc.decision.Winner, decided.Winner)
			require.Equal(t, tc.decision.Rationale, decided.Rationale)
			require.Equal(t, tc.decision.PolicyClause, decided.PolicyClause)
		})
	}
}

func TestConflict_CoRegisterShares(t *testing.T) {
	share := func(key, pct string) domain.Share {
		return domain.Share{PartyKey: key, Percent: decimal.RequireFromString(pct), Responsibilities: "implementation"}
	}
	three := func() domain.ConflictOpening {
		o := cfPvP()
		o.Parties = append(o.Parties, cfPartnerParty(cfRegC, "cato", 30, cfDay(-10), true))
		return o
	}
	withDirect := func() domain.ConflictOpening {
		o := cfPvD()
		o.Parties = append(o.Parties, cfPartnerParty(cfRegB, "bolt", 30, cfDay(-10), true))
		return o
	}
	for _, tc := range []struct {
		name   string
		open   func() domain.ConflictOpening
		shares []domain.Share
		want   []string
	}{
		{"FiftyFifty", cfPvP, []domain.Share{share(cfKeyA, "50"), share(cfKeyB, "50")}, nil},
		{"Thirds", three, []domain.Share{share(cfKeyA, "33.33"), share(cfKeyB, "33.33"), share(cfKeyC, "33.34")}, nil},
		{"TwoOfThree", three, []domain.Share{share(cfKeyA, "70"), share(cfKeyC, "30.00")}, nil},
		{"SumShort", cfPvP, []domain.Share{share(cfKeyA, "50"), share(cfKeyB, "49.99")}, []string{"shares:out_of_range"}},
		{"SumOver", cfPvP, []domain.Share{share(cfKeyA, "50"), share(cfKeyB, "50.01")}, []string{"shares:out_of_range"}},
		{"ThreeDecimals", three, []domain.Share{share(cfKeyA, "33.333"), share(cfKeyB, "33.333"), share(cfKeyC, "33.334")},
			[]string{"shares[0].percent:invalid", "shares[1].percent:invalid", "shares[2].percent:invalid"}},
		{"DirectParty", withDirect, []domain.Share{share(cfKeyA, "50"), share(cfKeyD, "50")}, []string{"shares[1].party_key:invalid"}},
		{"OneShare", cfPvP, []domain.Share{share(cfKeyA, "100")}, []string{"shares:required"}},
		{"SameTwice", cfPvP, []domain.Share{share(cfKeyA, "50"), share(cfKeyA, "50")}, []string{"shares[1].party_key:duplicate"}},
		{"UnknownParty", cfPvP, []domain.Share{share(cfKeyA, "50"), share(cfKeyC, "50")}, []string{"shares[1].party_key:invalid"}},
		{"ZeroAndNegative", three, []domain.Share{share(cfKeyA, "0"), share(cfKeyB, "-10"), share(cfKeyC, "110")},
			[]string{"shares[0].percent:out_of_range", "shares[1].percent:out_of_range", "shares[2].percent:out_of_range"}},
		{"NoResponsibilities", cfPvP, []domain.Share{share(cfKeyA, "50"), {PartyKey: cfKeyB, Percent: decimal.NewFromInt(50), Responsibilities: " "}},
			[]string{"shares[1].responsibilities:required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cfAtLevel(t, tc.open(), 2)
			d := domain.ConflictDecision{Outcome: domain.OutcomeCoRegister, Shares: tc.shares, Rationale: "both legitimate", PolicyClause: "co-registration 5.2"}
			events, err := c.Decide(cfDirector, d, domain.DefaultPolicy(), cfCmdAt)
			if tc.want == nil {
				require.NoError(t, err)
				cfDo(t, c)(events, nil)
				decided, ok := c.Decision()
				require.True(t, ok)
				require.Len(t, decided.Shares, len(tc.shares))
				sum := decimal.Zero
				for _, s := range decided.Shares {
					sum = sum.Add(s.Percent)
				}
				require.True(t, sum.Equal(decimal.NewFromInt(100)))
				return
			}
			require.Equal(t, domain.EINVALID, domain.ErrorCode(err))
			require.Equal(t, tc.want, fieldCodes(err))
		})
	}
}

func TestConflict_DecisionValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    domain.ConflictDecision
		want []string
	}{
		{"Award", cfAward(cfKeyA), nil},
		{"RejectAll", domain.ConflictDecision{Outcome: domain.OutcomeRejectAll, Rationale: "no proof", PolicyClause: "reject-both"}, nil},
		{"AwardWithoutWinner", domain.ConflictDecision{Outcome: domain.OutcomeAward, Rationale: "r", PolicyClause: "c"}, []string{"winner:required"}},
		{"AwardUnknownWinner", cfAward(cfKeyC), []string{"winner:invalid"}},
		{"AwardWithShares", func() domain.ConflictDecision {
			d := cfAward(cfKeyA)
			d.Shares = []domain.Share{{PartyKey: cfKeyA, Percent: decimal.NewFromInt(100)}}
			return d
		}(), []string{"shares:invalid"}},
		{"RejectAllWithWinner", domain.ConflictDecision{Outcome: domain.OutcomeRejectAll, Winner: cfKeyA, Rationale: "r", PolicyClause: "c"}, []string{"winner:invalid"}},
		{"Everything", domain.ConflictDecision{Outcome: "toss", Winner: cfKeyA, PolicyClause: strings.Repeat("c", domain.MaxPolicyClauseLen+1)},
			[]string{"outcome:invalid", "winner:invalid", "rationale:required", "policy_clause:too_long"}},
		{"LongRationale", domain.ConflictDecision{Outcome: domain.OutcomeRejectAll, Rationale: strings.Repeat("r", domain.MaxRationaleLen+1), PolicyClause: "c"},
			[]string{"rationale:too_long"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cfOpen(t, cfPvP())
			events, err := c.Decide(cfManager, tc.d, domain.DefaultPolicy(), cfCmdAt)
			if tc.want == nil {
				require.NoError(t, err)
				cfDo(t, c)(events, nil)
				require.Equal(t, domain.ConflictStatusDecided, c.Status())
				decided, ok := c.Decision()
				require.True(t, ok)
				require.Equal(t, tc.d.Outcome, decided.Outcome)
				require.Equal(t, tc.d.Winner, decided.Winner)
				require.False(t, decided.Overrode)
				return
			}
			require.Equal(t, domain.EINVALID, domain.ErrorCode(err))
			require.Equal(t, tc.want, fieldCodes(err))
		})
	}
}

func TestConflict_DecidedRefusesCommands(t *testing.T) {
	c := cfOpen(t, cfPvD())
	cfDo(t, c)(c.Decide(cfManager, cfAward(cfKeyA), domain.DefaultPolicy(), cfCmdAt))
	require.Equal(t, domain.ConflictStatusDecided, c.Status())
	p := domain.DefaultPolicy()
	for name, call := range map[string]func() ([]domain.Event, error){
		"Decide":          func() ([]domain.Event, error) { return c.Decide(cfExecutive, cfAward(cfKeyA), p, cfCmdAt) },
		"Escalate":        func() ([]domain.Event, error) { return c.Escalate(cfManager, "r", p, cfCmdAt) },
		"RequestEvidence": func() ([]domain.Event, error) { return c.RequestEvidence(cfManager, cfKeyA, "r", cfCmdAt) },
		"PartnerEvidence": func() ([]domain.Event, error) {
			return c.SubmitEvidence(cfPartnerA, cfKeyA, domain.Evidence{Statement: "late"}, nil, cfCmdAt)
		},
		"DirectEvidence": func() ([]domain.Event, error) {
			return c.SubmitEvidence(cfSales, cfKeyD, domain.Evidence{Statement: "late"}, nil, cfCmdAt)
		},
	} {
		t.Run(name, func(t *testing.T) {
			events, err := call()
			require.Nil(t, events)
			require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err))
			require.Contains(t, domain.ErrorMessage(err), "it is decided")
		})
	}
	// Visibility and roles come first.
	_, err := c.SubmitEvidence(cfStranger, cfKeyA, domain.Evidence{Statement: "x"}, nil, cfCmdAt)
	require.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))
	_, err = c.Decide(cfAuditor, cfAward(cfKeyA), p, cfCmdAt)
	require.Equal(t, domain.EFORBIDDEN, domain.ErrorCode(err))
}

func TestConflict_NotFoundAndApply(t *testing.T) {
	var nilConflict *domain.Conflict
	empty := &domain.Conflict{}
	for _, c := range []*domain.Conflict{nilConflict, empty} {
		_, err := c.Decide(cfManager, cfAward(cfKeyA), domain.DefaultPolicy(), cfCmdAt)
		require.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))
		_, err = c.Escalate(cfManager, "r", domain.DefaultPolicy(), cfCmdAt)
		require.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))
		_, err = c.RequestEvidence(cfManager, cfKeyA, "r", cfCmdAt)
		require.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))
		_, err = c.SubmitEvidence(cfPartnerA, cfKeyA, domain.Evidence{Statement: "s"}, nil, cfCmdAt)
		require.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))
		require.False(t, c.VisibleTo(cfManager))
	}

	_, err := domain.RebuildConflict(domain.ConflictEscalated{ConflictID: cfID})
	require.Equal(t, domain.EINTERNAL, domain.ErrorCode(err), "a stream starts with ConflictOpened")
	_, err = domain.RebuildConflict(domain.RegistrationExpired{RegistrationID: cfID})
	require.Equal(t, domain.EINTERNAL, domain.ErrorCode(err))

	c := cfOpen(t, cfPvP())
	events, err := domain.OpenConflict(cfManager, cfPvP(), domain.DefaultPolicy(), cfOpenAt)
	require.NoError(t, err)
	require.Equal(t, domain.EINTERNAL, domain.ErrorCode(c.Apply(events[0])), "opened once")
	require.Equal(t, domain.EINTERNAL, domain.ErrorCode(c.Apply(domain.ConflictEscalated{ConflictID: uuid.New(), FromLevel: 1, ToLevel: 2})))
	require.Equal(t, 1, c.Version())

	require.Equal(t, "conflict-"+cfID.String(), domain.ConflictStream(cfID))
	require.Equal(t, "registration:"+cfRegA.String(), cfKeyA)
	require.Equal(t, "direct:"+cfDirect.String(), cfKeyD)

	// A conflict event is not a registration event.
	var e domain.Event = domain.ConflictDecided{}
	_, isRegistration := e.(domain.RegistrationEvent)
	require.False(t, isRegistration)
}

func TestConflict_Visibility(t *testing.T) {
	c := cfOpen(t, cfPvD())
	require.True(t, c.VisibleTo(cfPartnerA))
	require.False(t, c.VisibleTo(cfPartnerB))
	require.True(t, c.VisibleTo(cfSales))
	require.True(t, c.VisibleTo(cfAuditor))

	parties := c.Parties()
	parties[0].PartnerID = "mutated"
	p, ok := c.Party(cfKeyA)
	require.True(t, ok)
	require.Equal(t, "acme", p.PartnerID, "Parties returns a copy")
	_, ok = c.Party(cfKeyC)
	require.False(t, ok)
}

// TestConflict_RoundTrip runs a whole case, then checks that every event
// survives EncodeEvent/DecodeEvent and that rebuilding from the decoded
// events gives exactly the same state.
func TestConflict_RoundTrip(t *testing.T) {
	p := domain.DefaultPolicy()
	o := cfPvD()
	o.Parties = append(o.Parties, cfPartnerParty(cfRegB, "bolt", 30, cfDay(-10), false))
	o.Parties[2].Tier = domain.TierPlatinum
	o.Value = cfMoney("300000.50", "usd")
	o.Automatic = true

	var all []domain.Event
	step := func(events []domain.Event, err error) {
		t.Helper()
		require.NoError(t, err)
		all = append(all, events...)
	}
	step(domain.OpenConflict(cfAdmin, o, p, cfOpenAt))
	c, err := domain.RebuildConflict(all...)
	require.NoError(t, err)
	require.Equal(t, 2, c.Level())
	require.Equal(t, []string{domain.EscalationHighValue, domain.EscalationStrategicTier}, c.EscalationReasons())
	require.True(t, c.Automatic())
	require.Equal(t, "300000.5 USD", c.Value().String())
	require.Equal(t, "Empresa XYZ", c.Account().CompanyName)
	require.Equal(t, "system", c.OpenedBy())

	next := func(events []domain.Event, err error) {
		t.Helper()
		step(events, err)
		cfDo(t, c)(events, nil)
	}
	next(c.RequestEvidence(cfDirector, cfKeyD, "CRM history please", cfCmdAt))
	next(c.SubmitEvidence(cfSales, cfKeyD, domain.Evidence{
		Statement: "  Rep called them in February.  ", FirstContact: cfDay(-50),
		Timeline: []domain.Activity{{Kind: domain.ActivityDiscoveryCall, Date: cfDay(-50)}},
	}, nil, cfCmdAt.Add(time.Hour)))
	next(c.SubmitEvidence(cfPartnerA, cfKeyA, domain.Evidence{
		Statement: "NDA attached", FirstContact: cfDay(-60),
		Documents: []domain.Attachment{{SHA256: strings.Repeat("C", 64), Size: 2048, ContentType: "application/pdf", Filename: " nda.pdf "}},
	}, []domain.Attachment{{SHA256: strings.Repeat("c", 64), Size: 2048, ContentType: "application/pdf"}}, cfCmdAt.Add(2*time.Hour)))
	next(c.Escalate(cfDirector, "partner relationship at risk", p, cfCmdAt.Add(3*time.Hour)))
	next(c.Decide(cfExecutive, domain.ConflictDecision{
		Outcome: domain.OutcomeCoRegister, Rationale: "both partners proved distinct work", PolicyClause: "co-registration 5.2",
		Shares: []domain.Share{
			{PartyKey: cfKeyA, Percent: decimal.RequireFromString("66.67"), Responsibilities: "implementation"},
			{PartyKey: cfKeyB, Percent: decimal.RequireFromString("33.330"), Responsibilities: "licences"},
		},
	}, p, cfCmdAt.Add(4*time.Hour)))
	require.Len(t, all, 6)

	subs := c.EvidenceOf(cfKeyA)
	require.Equal(t, strings.Repeat("c", 64), subs[0].Evidence.Documents[0].SHA256, "digests are stored in lower case")
	require.Equal(t, "nda.pdf", subs[0].Evidence.Documents[0].Filename)
	require.Equal(t, "Rep called them in February.", c.EvidenceOf(cfKeyD)[0].Evidence.Statement)
	decided, ok := c.Decision()
	require.True(t, ok)
	require.Equal(t, cfKeyA, decided.Recommended)
	require.Equal(t, domain.ClausePartnerFirst, decided.RecommendedClause, "the partner's first contact (-60) is before the direct one (-50), and it has documents")
	require.True(t, decided.Overrode)
	require.Equal(t, 3, decided.Level)
	require.Equal(t, "33.33", decided.Shares[1].Percent.String())

	decoded := make([]domain.Event, len(all))
	for i, e := range all {
		typ, version, data, err := domain.EncodeEvent(e)
		require.NoError(t, err)
		require.Equal(t, 1, version)
		got, err := domain.DecodeEvent(typ, version, data)
		require.NoError(t, err)
		require.Equal(t, e, got, typ)
		decoded[i] = got
	}
	rebuilt, err := domain.RebuildConflict(decoded...)
	require.NoError(t, err)
	require.Equal(t, c, rebuilt)
	require.Equal(t, 6, rebuilt.Version())
	require.Equal(t, cfCmdAt.Add(4*time.Hour), rebuilt.UpdatedAt())
}

func TestPolicy_ConflictFields(t *testing.T) {
	p := domain.DefaultPolicy()
	require.True(t, p.EscalationValue.Equal(decimal.NewFromInt(250000)))
	require.Equal(t, []domain.PartnerTier{domain.TierPlatinum}, p.StrategicTiers)

	for _, tc := range []struct {
		name   string
		mutate func(*domain.Policy)
		want   []string
	}{
		{"NoSLAsMeansDefaults", func(p *domain.Policy) { p.ConflictSLA = nil }, nil},
		{"Bounds", func(p *domain.Policy) { p.ConflictSLA = []time.Duration{time.Hour, 90 * domain.Day, domain.Day} }, nil},
		{"TwoSLAs", func(p *domain.Policy) { p.ConflictSLA = p.ConflictSLA[:2] }, []string{"conflicts.level_sla:invalid"}},
		{"SLAOutOfRange", func(p *domain.Policy) { p.ConflictSLA = []time.Duration{time.Minute, domain.Day, 91 * domain.Day} },
			[]string{"conflicts.level_sla[0]:out_of_range", "conflicts.level_sla[2]:out_of_range"}},
		{"NegativeValue", func(p *domain.Policy) { p.EscalationValue = decimal.NewFromInt(-1) }, []string{"conflicts.escalation_value:out_of_range"}},
		{"ZeroValue", func(p *domain.Policy) { p.EscalationValue = decimal.Zero }, nil},
		{"PerCurrencyValues", func(p *domain.Policy) {
			p.EscalationValues = map[string]decimal.Decimal{"MXN": decimal.NewFromInt(5000000), "EUR": decimal.Zero}
		}, nil},
		{"BadPerCurrencyValues", func(p *domain.Policy) {
			p.EscalationValues = map[string]decimal.Decimal{"usd": decimal.NewFromInt(1), "XXX": decimal.NewFromInt(1), "EUR": decimal.NewFromInt(-5)}
		}, []string{"conflicts.escalation_values.EUR:out_of_range", "conflicts.escalation_values.XXX:invalid", "conflicts.escalation_values.usd:invalid"}},
		{"BadTiers", func(p *domain.Policy) {
			p.StrategicTiers = []domain.PartnerTier{domain.TierGold, "diamond", domain.TierGold}
		}, []string{"conflicts.strategic_tiers[1]:invalid", "conflicts.strategic_tiers[2]:duplicate"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := domain.DefaultPolicy()
			tc.mutate(&p)
			err := p.Validate()
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.Equal(t, tc.want, fieldCodes(err))
		})
	}

	_, err := domain.OpenConflict(cfManager, cfPvP(), domain.Policy{}, cfOpenAt)
	require.Equal(t, domain.EINVALID, domain.ErrorCode(err), "an unusable policy is refused")
}

// Evidence may cite only documents the party uploaded: a document outside
// uploaded is refused naming it, and counts for nothing; one inside it is
// completed from the upload and counts as proof.
func TestConflict_EvidenceCitesUploadedOnly(t *testing.T) {
	o := cfPvD()
	o.Parties = []domain.Party{cfPartnerParty(cfRegA, "acme", 10, cfDay(-30), false), cfDirectParty(20, cfDay(-20))}
	c := cfOpen(t, o)
	own := domain.Attachment{SHA256: strings.Repeat("d", 64), Size: 99, ContentType: "application/pdf", Filename: "nda.pdf"}
	other := strings.Repeat("e", 64)
	cite := func(docs ...domain.Attachment) domain.Evidence {
		return domain.Evidence{Statement: "NDA attached", Documents: docs}
	}

	for name, tc := range map[string]struct {
		doc   domain.Attachment
		codes []string
	}{
		"NeverUploaded": {domain.Attachment{SHA256: other}, []string{"documents[0].sha256:invalid"}},
		"WrongSize":     {domain.Attachment{SHA256: own.SHA256, Size: 1}, []string{"documents[0].size:invalid"}},
		"WrongType":     {domain.Attachment{SHA256: own.SHA256, ContentType: "image/png"}, []string{"documents[0].content_type:invalid"}},
	} {
		t.Run(name, func(t *testing.T) {
			events, err := c.SubmitEvidence(cfPartnerA, cfKeyA, cite(tc.doc), []domain.Attachment{own}, cfCmdAt)
			require.Equal(t, domain.EINVALID, domain.ErrorCode(err), "%v", err)
			require.Empty(t, events)
			require.Equal(t, tc.codes, fieldCodes(err))
			require.Contains(t, domain.ErrorFields(err)[0].Message, tc.doc.SHA256)
			w, cl, _ := c.Recommendation()
			require.Equal(t, []string{cfKeyA, domain.ClauseFirstToRegister}, []string{w, cl})
		})
	}

	events, err := c.SubmitEvidence(cfPartnerA, cfKeyA, cite(domain.Attachment{SHA256: own.SHA256}), []domain.Attachment{own}, cfCmdAt)
	require.NoError(t, err)
	cfDo(t, c)(events, nil)
	require.Equal(t, []domain.Attachment{own}, c.EvidenceOf(cfKeyA)[0].Evidence.Documents, "completed from the upload")
	w, cl, _ := c.Recommendation()
	require.Equal(t, []string{cfKeyA, domain.ClausePartnerFirst}, []string{w, cl})
}
