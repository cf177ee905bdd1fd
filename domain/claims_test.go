package domain_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// bookLedger feeds a ClaimBook like the duplicate checker does: in order,
// checking each submission before applying it.
type bookLedger struct {
	book *domain.ClaimBook
	pos  uint64
}

func (l *bookLedger) apply(events ...domain.Event) {
	for _, e := range events {
		l.book.Apply(e, l.pos)
		l.pos++
	}
}

func submission(partner string, typ domain.RegistrationType, company, domainName string, lines ...string) domain.RegistrationSubmitted {
	d := validDetails()
	d.Account.CompanyName, d.Account.Domain = company, domainName
	d.Opportunity.ProductLines = lines
	return domain.RegistrationSubmitted{RegistrationID: uuid.New(), PartnerID: partner, Type: typ, Attempt: 1, Details: d.Normalize(), PolicyVersion: 1, At: t0}
}

func approval(s domain.RegistrationSubmitted, days int) []domain.Event {
	return []domain.Event{
		domain.RegistrationVerdictRecorded{RegistrationID: s.RegistrationID, Attempt: 1, Verdict: domain.VerdictClear, At: t0},
		domain.RegistrationApproved{RegistrationID: s.RegistrationID, Terms: domain.ProtectionTerms{
			PolicyVersion: 1, Type: s.Type, ProtectionStart: t0, ProtectionEnd: t0.Add(domain.Day * 90),
			MaxExtensions: 2, ExtensionLength: 30 * domain.Day,
		}, At: t0},
	}
}

func TestClaimBook_Check(t *testing.T) {
	opp, named := domain.TypeOpportunity, domain.TypeNamedAccount
	tests := []struct {
		name    string
		earlier func(l *bookLedger) domain.RegistrationSubmitted // returns the earlier claim
		later   domain.RegistrationSubmitted
		at      int // days after t0 of the later submission
		want    domain.Verdict
		own     bool
	}{
		{
			name:    "same account typed differently, other partner: duplicate",
			earlier: submitted(submission("a", opp, "Telefónica S.A.", "telefonica.com", "HR")),
			later:   submission("b", opp, "TELEFONICA", "telefonica.com", "HR"),
			want:    domain.VerdictDuplicate,
		},
		{
			name:    "same partner again: duplicate of its own claim",
			earlier: submitted(submission("a", opp, "Empresa XYZ", "xyz.example", "HR")),
			later:   submission("a", opp, "Empresa XYZ SA de CV", "xyz.example", "HR"),
			want:    domain.VerdictDuplicate,
			own:     true,
		},
		{
			name:    "different account: clear",
			earlier: submitted(submission("a", opp, "Empresa XYZ", "xyz.example", "HR")),
			later:   submission("b", opp, "Globex Corporation", "globex.example", "HR"),
			want:    domain.VerdictClear,
		},
		{
			name:    "other product line: clear (product-based protection)",
			earlier: submitted(submission("a", opp, "Empresa XYZ", "xyz.example", "Suite 1")),
			later:   submission("b", opp, "Empresa XYZ", "xyz.example", "Suite 2"),
			want:    domain.VerdictClear,
		},
		{
			name:    "named account covers every product line",
			earlier: submitted(submission("a", named, "Empresa XYZ", "xyz.example")),
			later:   submission("b", opp, "Empresa XYZ", "xyz.example", "Suite 2"),
			want:    domain.VerdictDuplicate,
		},
		{
			name: "approved claim still protected",
			earlier: func(l *bookLedger) domain.RegistrationSubmitted {
				s := submission("a", opp, "Empresa XYZ", "xyz.example", "HR")
				l.apply(s)
				l.apply(approval(s, 90)...)
				return s
			},
			later: submission("b", opp, "Empresa XYZ", "xyz.example", "HR"),
			at:    89,
			want:  domain.VerdictDuplicate,
		},
		{
			name: "protection lapsed, even before the expiry event: clear",
			earlier: func(l *bookLedger) domain.RegistrationSubmitted {
				s := submission("a", opp, "Empresa XYZ", "xyz.example", "HR")
				l.apply(s)
				l.apply(approval(s, 90)...)
				return s
			},
			later: submission("b", opp, "Empresa XYZ", "xyz.example", "HR"),
			at:    90,
			want:  domain.VerdictClear,
		},
		{
			name: "pending extension request holds the claim one extension longer",
			earlier: func(l *bookLedger) domain.RegistrationSubmitted {
				s := submission("a", opp, "Empresa XYZ", "xyz.example", "HR")
				l.apply(s)
				l.apply(approval(s, 90)...)
				l.apply(domain.RegistrationExtensionRequested{RegistrationID: s.RegistrationID, At: t0})
				return s
			},
			later: submission("b", opp, "Empresa XYZ", "xyz.example", "HR"),
			at:    100,
			want:  domain.VerdictDuplicate,
		},
		{
			name: "expired claim blocks nothing",
			earlier: func(l *bookLedger) domain.RegistrationSubmitted {
				s := submission("a", opp, "Empresa XYZ", "xyz.example", "HR")
				l.apply(s)
				l.apply(approval(s, 90)...)
				l.apply(domain.RegistrationExpired{RegistrationID: s.RegistrationID, At: t0})
				return s
			},
			later: submission("b", opp, "Empresa XYZ", "xyz.example", "HR"),
			want:  domain.VerdictClear,
		},
		{
			name: "rejected claim blocks nothing",
			earlier: func(l *bookLedger) domain.RegistrationSubmitted {
				s := submission("a", opp, "Empresa XYZ", "xyz.example", "HR")
				l.apply(s, domain.RegistrationRejected{RegistrationID: s.RegistrationID, Reason: domain.RejectOther, At: t0})
				return s
			},
			later: submission("b", opp, "Empresa XYZ", "xyz.example", "HR"),
			want:  domain.VerdictClear,
		},
		{
			name: "withdrawn claim blocks nothing",
			earlier: func(l *bookLedger) domain.RegistrationSubmitted {
				s := submission("a", opp, "Empresa XYZ", "xyz.example", "HR")
				l.apply(s, domain.RegistrationWithdrawn{RegistrationID: s.RegistrationID, At: t0})
				return s
			},
			later: submission("b", opp, "Empresa XYZ", "xyz.example", "HR"),
			want:  domain.VerdictClear,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &bookLedger{book: domain.NewClaimBook()}
			first := tt.earlier(l)
			f := l.book.Check(tt.later, t0.Add(domain.Day*time.Duration(tt.at)))
			require.Equal(t, tt.want, f.Verdict, f.Reason)
			require.Equal(t, tt.own, f.OwnClaim)
			if tt.want == domain.VerdictClear {
				require.Empty(t, f.Matches)
				return
			}
			require.Equal(t, first.RegistrationID, f.Matches[0])
			// The finding is acceptable to the aggregate.
			r := submittedRegistration(t, tt.later)
			_, err := r.RecordFinding(f, t0)
			require.NoError(t, err)
		})
	}
}

func submitted(s domain.RegistrationSubmitted) func(*bookLedger) domain.RegistrationSubmitted {
	return func(l *bookLedger) domain.RegistrationSubmitted {
		l.apply(s)
		return s
	}
}

// submittedRegistration builds the aggregate that s submitted.
func submittedRegistration(t *testing.T, s domain.RegistrationSubmitted) *domain.Registration {
	t.Helper()
	r, err := domain.Rebuild(
		domain.RegistrationDrafted{RegistrationID: s.RegistrationID, PartnerID: s.PartnerID, Type: s.Type, Details: s.Details, DraftedBy: "u", At: t0},
		s,
	)
	require.NoError(t, err)
	return r
}

func TestClaimBook_FirstRegistrantWins(t *testing.T) {
	l := &bookLedger{book: domain.NewClaimBook()}
	a := submission("a", domain.TypeOpportunity, "Empresa XYZ", "xyz.example", "HR")
	b := submission("b", domain.TypeOpportunity, "Empresa XYZ S.A.", "xyz.example", "HR")
	l.apply(a, b) // b was recorded too, say, before its own verdict
	f := l.book.Check(submission("c", domain.TypeOpportunity, "empresa xyz", "xyz.example", "HR"), t0)
	require.Equal(t, domain.VerdictDuplicate, f.Verdict)
	require.Equal(t, []uuid.UUID{a.RegistrationID, b.RegistrationID}, f.Matches, "ledger order decides who is first")
}

func TestClaimBook_TerritoryGrants(t *testing.T) {
	grant := func(partner string) domain.TerritoryGranted {
		return domain.TerritoryGranted{GrantID: uuid.New(), Grant: domain.TerritoryGrant{
			PartnerID: partner, Country: "MX", Region: "Northeast", Vertical: "Healthcare",
			ValidFrom: t0.Add(-domain.Day), ValidTo: t0.Add(365 * domain.Day),
		}}
	}
	l := &bookLedger{book: domain.NewClaimBook()}
	ga := grant("a")
	l.apply(ga)

	f := l.book.Check(submission("a", domain.TypeOpportunity, "Empresa XYZ", "xyz.example", "HR"), t0)
	require.Equal(t, domain.VerdictClear, f.Verdict)
	require.Equal(t, ga.GrantID, f.CoveredByGrant)

	f = l.book.Check(submission("b", domain.TypeOpportunity, "Empresa XYZ", "xyz.example", "HR"), t0)
	require.Equal(t, domain.VerdictPossibleDuplicate, f.Verdict, "another partner's exclusive territory goes to a reviewer")
	require.Equal(t, []uuid.UUID{ga.GrantID}, f.GrantConflicts)

	f = l.book.Check(submission("b", domain.TypeOpportunity, "Empresa XYZ", "xyz.example", "HR"), t0.Add(400*domain.Day))
	require.Equal(t, domain.VerdictClear, f.Verdict, "an expired grant covers nothing")

	// Revoked at t0+10 days: covered before, not after.
	l.apply(domain.TerritoryGrantRevoked{GrantID: ga.GrantID, PartnerID: "a", Reason: "contract ended", At: t0.Add(10 * domain.Day)})
	f = l.book.Check(submission("b", domain.TypeOpportunity, "Empresa XYZ", "xyz.example", "HR"), t0.Add(9*domain.Day))
	require.Equal(t, []uuid.UUID{ga.GrantID}, f.GrantConflicts, "before the revocation the grant still covered")
	f = l.book.Check(submission("b", domain.TypeOpportunity, "Empresa XYZ", "xyz.example", "HR"), t0.Add(10*domain.Day))
	require.Equal(t, domain.VerdictClear, f.Verdict, "a revoked grant covers nothing from its revocation on")
	require.Empty(t, f.GrantConflicts)
}

func TestRevokeGrant(t *testing.T) {
	id := uuid.New()
	g := domain.TerritoryGranted{GrantID: id, Grant: domain.TerritoryGrant{PartnerID: "a", Country: "MX", ValidFrom: t0, ValidTo: t0.Add(365 * domain.Day)}}
	dir := domain.Actor{ID: "dir", Role: domain.RoleChannelDirector}
	now := t0.Add(domain.Day)
	_, err := domain.RevokeGrant(domain.Actor{ID: "cm", Role: domain.RoleChannelManager}, "a", id, []domain.Event{g}, "ended", now)
	require.Equal(t, domain.EFORBIDDEN, domain.ErrorCode(err))
	_, err = domain.RevokeGrant(dir, "a", uuid.New(), []domain.Event{g}, "ended", now)
	require.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))
	_, err = domain.RevokeGrant(dir, "a", id, []domain.Event{g}, "  ", now)
	var de *domain.Error
	require.ErrorAs(t, err, &de)
	require.Equal(t, "reason", de.Fields[0].Field)
	events, err := domain.RevokeGrant(dir, "a", id, []domain.Event{g}, "contract ended early", now)
	require.NoError(t, err)
	r := events[0].(domain.TerritoryGrantRevoked)
	require.Equal(t, domain.TerritoryGrantRevoked{GrantID: id, PartnerID: "a", Reason: "contract ended early", RevokedBy: "dir", At: now}, r)
	_, err = domain.RevokeGrant(dir, "a", id, []domain.Event{g, r}, "again", now)
	require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err), "once only")
	_, err = domain.RevokeGrant(dir, "a", id, []domain.Event{g}, "late", t0.Add(400*domain.Day))
	require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err), "an ended grant is not revoked")
}

func TestClaimBook_LearnsAndLooksFurther(t *testing.T) {
	opp := domain.TypeOpportunity
	direct := func(company, site string) domain.DirectOpportunityRecorded {
		return domain.DirectOpportunityRecorded{OpportunityID: uuid.New(), Opportunity: domain.DirectOpportunity{
			Account: domain.Account{CompanyName: company, Domain: site, Country: "MX"}, ProductLines: []string{"HR"}, Owner: "rep",
		}}
	}
	t.Run("open direct opportunity: possible duplicate, partner vs direct", func(t *testing.T) {
		l := &bookLedger{book: domain.NewClaimBook()}
		d := direct("Empresa XYZ", "xyz.example")
		l.apply(d)
		f := l.book.Check(submission("a", opp, "Empresa XYZ SA", "xyz.example", "HR"), t0)
		require.Equal(t, domain.VerdictPossibleDuplicate, f.Verdict)
		require.Equal(t, []uuid.UUID{d.OpportunityID}, f.DirectMatches)
		require.NotEmpty(t, f.Explanations[0].Signals, "every match is explained")
		l.apply(domain.DirectOpportunityClosed{OpportunityID: d.OpportunityID, Outcome: domain.DirectLost})
		require.Equal(t, domain.VerdictClear, l.book.Check(submission("a", opp, "Empresa XYZ SA", "xyz.example", "HR"), t0).Verdict, "a closed direct deal blocks nothing")
	})
	t.Run("reviewer alias makes dissimilar names one account", func(t *testing.T) {
		l := &bookLedger{book: domain.NewClaimBook()}
		first := submission("a", opp, "Industria de Diseño Textil", "", "HR")
		l.apply(first)
		later := submission("b", opp, "Zeta Moda Global", "", "HR")
		require.Equal(t, domain.VerdictClear, l.book.Check(later, t0).Verdict)
		l.apply(domain.AccountMatchDecided{A: "Zeta Moda Global", B: "Industria de Diseño Textil", Same: true})
		f := l.book.Check(later, t0)
		require.NotEqual(t, domain.VerdictClear, f.Verdict)
		require.Equal(t, []uuid.UUID{first.RegistrationID}, f.Matches)
	})
	t.Run("reviewer decision that two names differ", func(t *testing.T) {
		l := &bookLedger{book: domain.NewClaimBook()}
		l.apply(submission("a", opp, "Acme Logistics", "", "HR"))
		later := submission("b", opp, "Acme Logística", "", "HR")
		require.NotEqual(t, domain.VerdictClear, l.book.Check(later, t0).Verdict)
		l.apply(domain.AccountMatchDecided{A: "Acme Logistics", B: "Acme Logística", Same: false})
		require.Equal(t, domain.VerdictClear, l.book.Check(later, t0).Verdict)
	})
	t.Run("headquarters named account covers a subsidiary", func(t *testing.T) {
		l := &bookLedger{book: domain.NewClaimBook()}
		hq := submission("a", domain.TypeNamedAccount, "Grupo Bimbo", "grupobimbo.example")
		l.apply(hq, domain.SubsidiaryLinked{Parent: "Grupo Bimbo", Subsidiary: "Barcel"})
		f := l.book.Check(submission("b", opp, "Barcel", "barcel.example", "HR"), t0)
		require.Equal(t, domain.VerdictDuplicate, f.Verdict)
		require.Equal(t, "headquarters named account", f.Explanations[0].Via)
	})
	t.Run("headquarters opportunity does not cover a subsidiary", func(t *testing.T) {
		l := &bookLedger{book: domain.NewClaimBook()}
		l.apply(submission("a", opp, "Grupo Bimbo", "grupobimbo.example", "HR"), domain.SubsidiaryLinked{Parent: "Grupo Bimbo", Subsidiary: "Barcel"})
		require.Equal(t, domain.VerdictClear, l.book.Check(submission("b", opp, "Barcel", "barcel.example", "HR"), t0).Verdict)
	})
}
