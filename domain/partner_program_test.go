package domain_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// certPolicy is version 1 with eligibility rules: opportunities need the
// "hr-suite-sales" certification and the "deal-registration-101" training;
// named accounts are for gold and platinum partners only.
func certPolicy() domain.Policy {
	p := domain.DefaultPolicy()
	p.Eligibility.Opportunity.Certifications = []string{"hr-suite-sales"}
	p.Eligibility.Opportunity.Trainings = []string{"deal-registration-101"}
	p.Eligibility.NamedAccount.Tiers = []domain.PartnerTier{domain.TierGold, domain.TierPlatinum}
	return p
}

func standingOf(events ...domain.Event) domain.PartnerStanding {
	var s domain.PartnerStanding
	for _, e := range events {
		s.Apply(e)
	}
	return s
}

func credential(kind domain.CredentialKind, name string, issued, expires time.Time) domain.Event {
	return domain.PartnerCredentialRecorded{PartnerID: "partner-1", Credential: domain.Credential{Kind: kind, Name: name, Issued: issued, Expires: expires}, RecordedBy: "cm", At: issued}
}

func TestCheckEligibility(t *testing.T) {
	silver := domain.Partner{ID: "partner-1", Name: "P1", Tier: domain.TierSilver}
	gold := domain.Partner{ID: "partner-1", Name: "P1", Tier: domain.TierGold}
	year := 365 * domain.Day
	cert := func(issued, expires time.Time) domain.Event {
		return credential(domain.CredentialCertification, "hr-suite-sales", issued, expires)
	}
	training := credential(domain.CredentialTraining, "deal-registration-101", t0.Add(-year), time.Time{})
	type gap struct{ field, code string }
	tests := []struct {
		name    string
		partner domain.Partner
		typ     domain.RegistrationType
		events  []domain.Event
		code    string // "" for eligible
		gaps    []gap
	}{
		{"certified and trained", silver, domain.TypeOpportunity,
			[]domain.Event{cert(t0.Add(-30*domain.Day), t0.Add(year)), training}, "", nil},
		{"a record that never expires", silver, domain.TypeOpportunity,
			[]domain.Event{cert(t0.Add(-30*domain.Day), time.Time{}), training}, "", nil},
		{"no certification", silver, domain.TypeOpportunity,
			[]domain.Event{training}, domain.ENOTELIGIBLE, []gap{{"partner.certifications.hr-suite-sales", domain.FieldMissing}}},
		{"certification expired before the submission", silver, domain.TypeOpportunity,
			[]domain.Event{cert(t0.Add(-year), t0.Add(-domain.Day)), training}, domain.ENOTELIGIBLE,
			[]gap{{"partner.certifications.hr-suite-sales", domain.FieldExpired}}},
		{"certification expiring at the very submission time", silver, domain.TypeOpportunity,
			[]domain.Event{cert(t0.Add(-year), submitAt), training}, domain.ENOTELIGIBLE,
			[]gap{{"partner.certifications.hr-suite-sales", domain.FieldExpired}}},
		{"certification issued after the submission", silver, domain.TypeOpportunity,
			[]domain.Event{cert(submitAt.Add(time.Hour), time.Time{}), training}, domain.ENOTELIGIBLE,
			[]gap{{"partner.certifications.hr-suite-sales", domain.FieldNotYetValid}}},
		{"a renewed certification replaces the expired one", silver, domain.TypeOpportunity,
			[]domain.Event{cert(t0.Add(-2*year), t0.Add(-year)), cert(t0.Add(-domain.Day), t0.Add(year)), training}, "", nil},
		{"every gap at once", silver, domain.TypeOpportunity, nil, domain.ENOTELIGIBLE,
			[]gap{{"partner.certifications.hr-suite-sales", domain.FieldMissing}, {"partner.trainings.deal-registration-101", domain.FieldMissing}}},
		{"tier not allowed for named accounts", silver, domain.TypeNamedAccount, nil, domain.ENOTELIGIBLE,
			[]gap{{"partner.tier", domain.FieldTierNotEligible}}},
		{"gold may register named accounts without records", gold, domain.TypeNamedAccount, nil, "", nil},
		{"an unenrolled partner has no tier", domain.Partner{ID: "partner-1"}, domain.TypeNamedAccount, nil, domain.ENOTELIGIBLE,
			[]gap{{"partner.tier", domain.FieldTierNotEligible}}},
		{"suspended", gold, domain.TypeNamedAccount,
			[]domain.Event{domain.PartnerSuspended{PartnerID: "partner-1", Until: t0.Add(30 * domain.Day), Reason: "r", At: t0}}, domain.ESUSPENDED,
			[]gap{{"partner.status", domain.FieldSuspended}}},
		{"a suspension that ended", gold, domain.TypeNamedAccount,
			[]domain.Event{domain.PartnerSuspended{PartnerID: "partner-1", Until: t0, Reason: "r", At: t0.Add(-30 * domain.Day)}}, "", nil},
		{"a suspension lifted early", gold, domain.TypeNamedAccount, []domain.Event{
			domain.PartnerSuspended{PartnerID: "partner-1", Until: t0.Add(30 * domain.Day), Reason: "r", At: t0.Add(-domain.Day)},
			domain.PartnerReinstated{PartnerID: "partner-1", Reason: "appeal upheld", At: t0},
		}, "", nil},
		{"suspended by a violation", gold, domain.TypeNamedAccount, []domain.Event{domain.RegistrationViolationRecorded{
			RegistrationID: earlierID, ViolationID: earlierID, PartnerID: "partner-1", Kind: domain.ViolationFalseInformation,
			Sanction: domain.Sanction{Revoke: true, SuspendedUntil: t0.Add(180 * domain.Day)}, At: t0,
		}}, domain.ESUSPENDED, []gap{{"partner.status", domain.FieldSuspended}}},
		{"terminated", gold, domain.TypeNamedAccount,
			[]domain.Event{domain.PartnerTerminated{PartnerID: "partner-1", Reason: "r", At: t0}}, domain.ESUSPENDED,
			[]gap{{"partner.status", domain.FieldTerminated}}},
		{"terminated after the submission", gold, domain.TypeNamedAccount,
			[]domain.Event{domain.PartnerTerminated{PartnerID: "partner-1", Reason: "r", At: submitAt.Add(time.Hour)}}, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := domain.CheckEligibility(certPolicy(), tc.partner, standingOf(tc.events...), tc.typ, submitAt)
			if tc.code == "" {
				require.NoError(t, err)
				return
			}
			require.Equal(t, tc.code, domain.ErrorCode(err), "%v", err)
			var got []gap
			for _, f := range domain.ErrorFields(err) {
				got = append(got, gap{f.Field, f.Code})
				require.NotEmpty(t, f.Message)
			}
			require.Equal(t, tc.gaps, got)
		})
	}
}

func TestPartnerStanding_StatusAt(t *testing.T) {
	s := standingOf(
		domain.PartnerSuspended{PartnerID: "p", Until: t0.Add(10 * domain.Day), Reason: "a", At: t0},
		domain.PartnerSuspended{PartnerID: "p", Until: t0.Add(20 * domain.Day), Reason: "b", At: t0.Add(5 * domain.Day)},
		domain.PartnerReinstated{PartnerID: "p", Reason: "lifted", At: t0.Add(15 * domain.Day)},
		domain.PartnerSuspended{PartnerID: "p", Until: t0.Add(40 * domain.Day), Reason: "c", At: t0.Add(30 * domain.Day)},
		domain.PartnerTerminated{PartnerID: "p", Reason: "d", At: t0.Add(50 * domain.Day)},
	)
	tests := []struct {
		at     time.Time
		status domain.PartnerStatus
		until  time.Time
	}{
		{t0.Add(-time.Second), domain.PartnerStatusActive, time.Time{}},
		{t0, domain.PartnerStatusSuspended, t0.Add(10 * domain.Day)},
		{t0.Add(6 * domain.Day), domain.PartnerStatusSuspended, t0.Add(15 * domain.Day)}, // the later one, lifted at day 15
		{t0.Add(15 * domain.Day), domain.PartnerStatusActive, time.Time{}},
		{t0.Add(35 * domain.Day), domain.PartnerStatusSuspended, t0.Add(40 * domain.Day)},
		{t0.Add(40 * domain.Day), domain.PartnerStatusActive, time.Time{}},
		{t0.Add(50 * domain.Day), domain.PartnerStatusTerminated, time.Time{}},
	}
	for _, tc := range tests {
		status, until := s.StatusAt(tc.at)
		require.Equal(t, tc.status, status, "at %s", tc.at)
		require.Equal(t, tc.until, until, "at %s", tc.at)
	}
}

func TestDecideSanction(t *testing.T) {
	ending := domain.DefaultPolicy()
	ending.Penalties.OnSuspension = domain.ProtectionsEnded
	terminating := domain.DefaultPolicy()
	terminating.Penalties.Violations[2] = domain.Penalty{Kind: domain.ViolationTermsBreach, Revoke: true, Terminate: true}
	tests := []struct {
		name      string
		actor     domain.Actor
		policy    domain.Policy
		kind      string
		terminate bool
		alive     bool
		want      domain.Sanction
		code      string
	}{
		{"false information: revoked, suspended 180 days, protections kept", manager, domain.DefaultPolicy(), domain.ViolationFalseInformation, false, true,
			domain.Sanction{Revoke: true, SuspendedUntil: cmdAt.Add(180 * domain.Day), Protections: domain.ProtectionsKept}, ""},
		{"dormant relationship: revoked only", manager, domain.DefaultPolicy(), domain.ViolationDormantRelationship, false, true,
			domain.Sanction{Revoke: true}, ""},
		{"terms breach: revoked, suspended 90 days", manager, domain.DefaultPolicy(), domain.ViolationTermsBreach, false, true,
			domain.Sanction{Revoke: true, SuspendedUntil: cmdAt.Add(90 * domain.Day), Protections: domain.ProtectionsKept}, ""},
		{"a policy that ends protections on suspension", manager, ending, domain.ViolationTermsBreach, false, true,
			domain.Sanction{Revoke: true, SuspendedUntil: cmdAt.Add(90 * domain.Day), Protections: domain.ProtectionsEnded}, ""},
		{"a final registration is not revoked", manager, domain.DefaultPolicy(), domain.ViolationDormantRelationship, false, false,
			domain.Sanction{}, ""},
		{"a director may terminate for any violation", director, domain.DefaultPolicy(), domain.ViolationDormantRelationship, true, true,
			domain.Sanction{Revoke: true, Terminate: true, Protections: domain.ProtectionsEnded}, ""},
		{"a manager may not terminate", manager, domain.DefaultPolicy(), domain.ViolationDormantRelationship, true, true, domain.Sanction{}, domain.EFORBIDDEN},
		{"a policy that terminates needs a director", manager, terminating, domain.ViolationTermsBreach, false, true, domain.Sanction{}, domain.EFORBIDDEN},
		{"a policy that terminates, by a director", director, terminating, domain.ViolationTermsBreach, false, true,
			domain.Sanction{Revoke: true, Terminate: true, Protections: domain.ProtectionsEnded}, ""},
		{"an unknown kind", manager, domain.DefaultPolicy(), "bribery", false, true, domain.Sanction{}, domain.EINVALID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := domain.DecideSanction(tc.actor, tc.policy, tc.kind, tc.terminate, tc.alive, cmdAt)
			if tc.code != "" {
				require.Equal(t, tc.code, domain.ErrorCode(err), "%v", err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestRegistration_RecordViolation(t *testing.T) {
	p := domain.DefaultPolicy()
	vid := uuid.MustParse("00000000-0000-4000-8000-00000000000a")
	report := domain.ViolationReport{Kind: domain.ViolationDormantRelationship, Statement: "The prospect says they have not spoken to the partner in two years."}

	t.Run("an active registration is revoked: protection ends now", func(t *testing.T) {
		r := reach(t, domain.StatusActive)
		events := must(t)(r.RecordViolation(manager, vid, report, p, cmdAt))
		require.Len(t, events, 2)
		v := events[0].(domain.RegistrationViolationRecorded)
		require.Equal(t, vid, v.ViolationID)
		require.Equal(t, "partner-1", v.PartnerID)
		require.Equal(t, 1, v.PolicyVersion)
		require.Equal(t, manager.ID, v.RecordedBy)
		require.Equal(t, domain.Sanction{Revoke: true}, v.Sanction)
		rev := events[1].(domain.RegistrationRevoked)
		require.Equal(t, domain.RevokedForViolation, rev.Reason)
		require.Equal(t, vid, rev.ViolationID)
		require.Equal(t, approvedAt.Add(90*domain.Day), rev.ProtectionEnd, "the end it had")
		apply(t, r, events)
		require.Equal(t, domain.StatusRevoked, r.Status())
		require.True(t, r.Status().Final())
		require.Equal(t, cmdAt, r.ProtectionEnd())
		require.Empty(t, r.Due(cmdAt.Add(200*domain.Day), p), "nothing expires once revoked")
	})
	for _, s := range []domain.Status{domain.StatusSubmitted, domain.StatusCleared, domain.StatusPossibleDuplicate, domain.StatusUnderReview,
		domain.StatusReturned, domain.StatusExtensionRequested} {
		t.Run("revoked from "+string(s), func(t *testing.T) {
			r := reach(t, s)
			apply(t, r, must(t)(r.RecordViolation(manager, vid, report, p, cmdAt)))
			require.Equal(t, domain.StatusRevoked, r.Status())
		})
	}
	for _, s := range []domain.Status{domain.StatusRejected, domain.StatusDuplicate, domain.StatusExpired, domain.StatusClosedWon,
		domain.StatusClosedLost, domain.StatusWithdrawn} {
		t.Run("recorded without revocation on "+string(s), func(t *testing.T) {
			r := reach(t, s)
			events := must(t)(r.RecordViolation(manager, vid, domain.ViolationReport{Kind: domain.ViolationFalseInformation, Statement: "forged"}, p, cmdAt))
			require.Len(t, events, 1)
			v := events[0].(domain.RegistrationViolationRecorded)
			require.False(t, v.Sanction.Revoke)
			require.Equal(t, cmdAt.Add(180*domain.Day), v.Sanction.SuspendedUntil, "the partner is suspended all the same")
			require.Equal(t, s, apply(t, r, events).Status())
		})
	}
	t.Run("a draft has nothing to violate", func(t *testing.T) {
		_, err := reach(t, domain.StatusDraft).RecordViolation(manager, vid, report, p, cmdAt)
		require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err))
	})
	t.Run("partners and auditors may not", func(t *testing.T) {
		r := reach(t, domain.StatusActive)
		_, err := r.RecordViolation(partner, vid, report, p, cmdAt)
		require.Equal(t, domain.EFORBIDDEN, domain.ErrorCode(err))
		_, err = r.RecordViolation(otherPartner, vid, report, p, cmdAt)
		require.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))
		_, err = r.RecordViolation(auditor, vid, report, p, cmdAt)
		require.Equal(t, domain.EFORBIDDEN, domain.ErrorCode(err))
	})
	t.Run("every failing field at once", func(t *testing.T) {
		_, err := reach(t, domain.StatusActive).RecordViolation(manager, vid, domain.ViolationReport{
			References: []string{""}, Documents: []string{"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		}, p, cmdAt)
		require.Equal(t, domain.EINVALID, domain.ErrorCode(err))
		require.Equal(t, []string{"kind", "statement", "references[0]", "documents[0]"}, fieldNames(err))
	})
}

func TestRegistration_RevokedFreesTheAccount(t *testing.T) {
	l := &bookLedger{book: domain.NewClaimBook()}
	first := submission("partner-1", domain.TypeOpportunity, "Empresa XYZ", "xyz.example", "HR")
	l.apply(first)
	l.apply(approval(first, 90)...)
	second := submission("partner-2", domain.TypeOpportunity, "Empresa XYZ S.A.", "xyz.example", "HR")
	require.Equal(t, domain.VerdictDuplicate, l.book.Check(second, t0.Add(domain.Day)).Verdict)
	l.apply(domain.RegistrationRevoked{RegistrationID: first.RegistrationID, Reason: domain.RevokedForViolation, At: t0.Add(domain.Day)})
	require.Equal(t, domain.VerdictClear, l.book.Check(second, t0.Add(2*domain.Day)).Verdict, "a revoked registration blocks nothing")
}

func TestRegistration_StandingDue(t *testing.T) {
	keep, end := domain.DefaultPolicy(), domain.DefaultPolicy()
	end.Penalties.OnSuspension = domain.ProtectionsEnded
	suspended := standingOf(domain.PartnerSuspended{PartnerID: "partner-1", Until: cmdAt.Add(30 * domain.Day), Reason: "r", At: cmdAt})
	terminated := standingOf(domain.PartnerTerminated{PartnerID: "partner-1", Reason: "r", At: cmdAt})
	tests := []struct {
		name     string
		status   domain.Status
		standing domain.PartnerStanding
		policy   domain.Policy
		reason   string // "" for nothing due
	}{
		{"good standing", domain.StatusActive, domain.PartnerStanding{}, end, ""},
		{"suspended, protections kept", domain.StatusActive, suspended, keep, ""},
		{"suspended, protections ended", domain.StatusActive, suspended, end, domain.RevokedPartnerSuspended},
		{"suspended, pending extension ended", domain.StatusExtensionRequested, suspended, end, domain.RevokedPartnerSuspended},
		{"suspended, a pending review waits", domain.StatusUnderReview, suspended, end, ""},
		{"terminated, active revoked", domain.StatusActive, terminated, keep, domain.RevokedPartnerTerminated},
		{"terminated, pending revoked", domain.StatusCleared, terminated, keep, domain.RevokedPartnerTerminated},
		{"terminated, draft left alone", domain.StatusDraft, terminated, keep, ""},
		{"terminated, final left alone", domain.StatusClosedWon, terminated, keep, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := reach(t, tc.status)
			due := r.StandingDue(tc.standing, tc.policy, "system:standing", cmdAt.Add(time.Hour))
			if tc.reason == "" {
				require.Empty(t, due)
				return
			}
			require.Len(t, due, 1)
			rev := due[0].(domain.RegistrationRevoked)
			require.Equal(t, tc.reason, rev.Reason)
			require.Equal(t, "system:standing", rev.RevokedBy)
			apply(t, r, due)
			require.Empty(t, r.StandingDue(tc.standing, tc.policy, "system:standing", cmdAt.Add(time.Hour)), "pure: nothing more is due")
		})
	}
}

func TestRegistration_SubmitEligible(t *testing.T) {
	p := certPolicy()
	member := domain.Partner{ID: "partner-1", Name: "P1", Tier: domain.TierSilver}
	t.Run("refused with the gaps named, nothing to apply", func(t *testing.T) {
		r := newDraft(t, domain.TypeOpportunity, validDetails())
		events, err := r.SubmitEligible(partner, member, domain.PartnerStanding{}, p, submitAt)
		require.Nil(t, events)
		require.Equal(t, domain.ENOTELIGIBLE, domain.ErrorCode(err))
		require.Equal(t, []string{"partner.certifications.hr-suite-sales", "partner.trainings.deal-registration-101"}, fieldNames(err))
		require.Equal(t, domain.StatusDraft, r.Status())
	})
	t.Run("eligibility before the details", func(t *testing.T) {
		r := newDraft(t, domain.TypeOpportunity, domain.Details{})
		_, err := r.SubmitEligible(partner, member, domain.PartnerStanding{}, p, submitAt)
		require.Equal(t, domain.ENOTELIGIBLE, domain.ErrorCode(err))
	})
	t.Run("another partner learns nothing of the standing", func(t *testing.T) {
		r := newDraft(t, domain.TypeOpportunity, validDetails())
		_, err := r.SubmitEligible(otherPartner, member, standingOf(domain.PartnerTerminated{PartnerID: "partner-1", At: t0}), p, submitAt)
		require.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))
	})
	t.Run("eligible: the submission", func(t *testing.T) {
		r := newDraft(t, domain.TypeOpportunity, validDetails())
		s := standingOf(credential(domain.CredentialCertification, "hr-suite-sales", t0.Add(-domain.Day), time.Time{}),
			credential(domain.CredentialTraining, "deal-registration-101", t0.Add(-domain.Day), time.Time{}))
		events := must(t)(r.SubmitEligible(partner, member, s, p, submitAt))
		require.IsType(t, domain.RegistrationSubmitted{}, events[0])
	})
}

func TestRegistration_CheckGrantable(t *testing.T) {
	r := reach(t, domain.StatusCleared)
	s := standingOf(domain.PartnerSuspended{PartnerID: "partner-1", Until: cmdAt.Add(domain.Day), Reason: "r", At: cmdAt})
	err := r.CheckGrantable(s, cmdAt, "an approval")
	require.Equal(t, domain.ESUSPENDED, domain.ErrorCode(err))
	require.Contains(t, domain.ErrorMessage(err), "be granted an approval")
	require.NoError(t, r.CheckGrantable(s, cmdAt.Add(domain.Day), "an approval"), "the suspension is over")
}

func TestPartnerProgramCommands(t *testing.T) {
	p := domain.DefaultPolicy()
	gold := domain.Partner{ID: "partner-1", Name: "P1", Tier: domain.TierGold}
	platinum := domain.TierPlatinum
	verticals := []string{" Healthcare", "Retail", "Healthcare"}
	suspended := standingOf(domain.PartnerSuspended{PartnerID: "partner-1", Until: cmdAt.Add(domain.Day), Reason: "r", At: cmdAt.Add(-domain.Day)})
	terminated := standingOf(domain.PartnerTerminated{PartnerID: "partner-1", Reason: "r", At: t0})
	tests := []struct {
		name   string
		run    func() ([]domain.Event, error)
		code   string
		fields []string
	}{
		{"update: tier and verticals, by a director", func() ([]domain.Event, error) {
			return domain.UpdatePartner(director, gold, true, domain.PartnerProfile{Tier: &platinum, Verticals: &verticals}, cmdAt)
		}, "", nil},
		{"update: not by a manager", func() ([]domain.Event, error) {
			return domain.UpdatePartner(manager, gold, true, domain.PartnerProfile{Tier: &platinum}, cmdAt)
		}, domain.EFORBIDDEN, nil},
		{"update: a partner is refused before the partner is looked up", func() ([]domain.Event, error) {
			return domain.UpdatePartner(partner, domain.Partner{}, false, domain.PartnerProfile{Tier: &platinum}, cmdAt)
		}, domain.EFORBIDDEN, nil},
		{"update: empty", func() ([]domain.Event, error) {
			return domain.UpdatePartner(director, gold, true, domain.PartnerProfile{}, cmdAt)
		}, domain.EINVALID, []string{""}},
		{"update: unknown partner", func() ([]domain.Event, error) {
			return domain.UpdatePartner(director, domain.Partner{}, false, domain.PartnerProfile{Tier: &platinum}, cmdAt)
		}, domain.ENOTFOUND, nil},
		{"credential: recorded by a manager", func() ([]domain.Event, error) {
			return domain.RecordCredential(manager, "partner-1", true, domain.Credential{Kind: domain.CredentialTraining, Name: "101", Issued: t0}, cmdAt)
		}, "", nil},
		{"credential: every failing field", func() ([]domain.Event, error) {
			return domain.RecordCredential(manager, "partner-1", true, domain.Credential{Kind: "badge", Issued: cmdAt.Add(domain.Day), Expires: cmdAt}, cmdAt)
		}, domain.EINVALID, []string{"kind", "name", "issued", "expires"}},
		{"credential: not by a partner", func() ([]domain.Event, error) {
			return domain.RecordCredential(partner, "partner-1", true, domain.Credential{Kind: domain.CredentialTraining, Name: "101", Issued: t0}, cmdAt)
		}, domain.EFORBIDDEN, nil},
		{"suspend: by a manager, for a period", func() ([]domain.Event, error) {
			return domain.SuspendPartner(manager, "partner-1", true, domain.PartnerStanding{}, cmdAt.Add(30*domain.Day), "late reports", p, cmdAt)
		}, "", nil},
		{"suspend: a permanent suspension is a termination", func() ([]domain.Event, error) {
			return domain.SuspendPartner(manager, "partner-1", true, domain.PartnerStanding{}, time.Time{}, "", p, cmdAt)
		}, domain.EINVALID, []string{"until", "reason"}},
		{"suspend: not in the past", func() ([]domain.Event, error) {
			return domain.SuspendPartner(manager, "partner-1", true, domain.PartnerStanding{}, cmdAt, "r", p, cmdAt)
		}, domain.EINVALID, []string{"until"}},
		{"suspend: a terminated partner", func() ([]domain.Event, error) {
			return domain.SuspendPartner(manager, "partner-1", true, terminated, cmdAt.Add(domain.Day), "r", p, cmdAt)
		}, domain.ECONFLICT, nil},
		{"reinstate: by a director", func() ([]domain.Event, error) {
			return domain.ReinstatePartner(director, "partner-1", true, suspended, "appeal upheld", cmdAt)
		}, "", nil},
		{"reinstate: not by a manager", func() ([]domain.Event, error) {
			return domain.ReinstatePartner(manager, "partner-1", true, suspended, "appeal upheld", cmdAt)
		}, domain.EFORBIDDEN, nil},
		{"reinstate: nothing to lift", func() ([]domain.Event, error) {
			return domain.ReinstatePartner(director, "partner-1", true, domain.PartnerStanding{}, "r", cmdAt)
		}, domain.ECONFLICT, nil},
		{"terminate: by a director", func() ([]domain.Event, error) {
			return domain.TerminatePartner(director, "partner-1", true, suspended, "fraud", p, cmdAt)
		}, "", nil},
		{"terminate: not by a manager", func() ([]domain.Event, error) {
			return domain.TerminatePartner(manager, "partner-1", true, domain.PartnerStanding{}, "fraud", p, cmdAt)
		}, domain.EFORBIDDEN, nil},
		{"terminate: twice", func() ([]domain.Event, error) {
			return domain.TerminatePartner(director, "partner-1", true, terminated, "fraud", p, cmdAt)
		}, domain.ECONFLICT, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			events, err := tc.run()
			if tc.code == "" {
				require.NoError(t, err)
				require.Len(t, events, 1)
				return
			}
			require.Equal(t, tc.code, domain.ErrorCode(err), "%v", err)
			require.Nil(t, events)
			if tc.fields != nil {
				require.Equal(t, tc.fields, fieldNames(err))
			}
		})
	}
	ev, err := domain.UpdatePartner(director, gold, true, domain.PartnerProfile{Tier: &platinum, Verticals: &verticals}, cmdAt)
	require.NoError(t, err)
	got := ev[0].(domain.PartnerUpdated)
	require.Equal(t, domain.TierPlatinum, got.Tier)
	require.Equal(t, []string{"Healthcare", "Retail"}, got.Verticals, "trimmed, sorted, deduplicated")
	require.Equal(t, "P1", got.Name, "unchanged members stay")
}
