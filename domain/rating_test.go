package domain_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

func TestRateRegistration_WhenDecided(t *testing.T) {
	// The decision a rating names, for every status a rating is allowed
	// in; every other status is not decided yet.
	decided := map[domain.Status]domain.Status{
		domain.StatusActive: domain.StatusActive, domain.StatusExtensionRequested: domain.StatusActive,
		domain.StatusExpired: domain.StatusActive, domain.StatusClosedWon: domain.StatusActive,
		domain.StatusClosedLost: domain.StatusActive, domain.StatusRejected: domain.StatusRejected,
		domain.StatusDuplicate: domain.StatusDuplicate,
	}
	for _, s := range allStatuses {
		t.Run(string(s), func(t *testing.T) {
			r := reach(t, s)
			events, err := domain.RateRegistration(partner, r, false, 4, "  fast and clear  ", cmdAt)
			want, ok := decided[s]
			if !ok {
				require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err), "%v", err)
				require.Nil(t, events)
				return
			}
			require.NoError(t, err)
			require.Equal(t, []domain.Event{domain.RegistrationRated{
				RegistrationID: r.ID(), PartnerID: "partner-1", Score: 4, Comment: "fast and clear",
				Outcome: want, RatedBy: partner.ID, At: cmdAt,
			}}, events)
		})
	}
}

func TestRateRegistration_Refusals(t *testing.T) {
	active := reach(t, domain.StatusActive)
	for _, c := range []struct {
		name   string
		actor  domain.Actor
		reg    *domain.Registration
		rated  bool
		score  int
		note   string
		code   string
		fields []string
	}{
		{"Missing", partner, nil, false, 4, "", domain.ENOTFOUND, nil},
		{"OtherPartner", otherPartner, active, false, 4, "", domain.ENOTFOUND, nil},
		{"Reviewer", manager, active, false, 4, "", domain.EFORBIDDEN, nil},
		{"Auditor", auditor, active, false, 4, "", domain.EFORBIDDEN, nil},
		{"ScoreZero", partner, active, false, 0, "", domain.EINVALID, []string{"score"}},
		{"ScoreSix", partner, active, false, 6, "", domain.EINVALID, []string{"score"}},
		{"CommentTooLong", partner, active, false, 3, strings.Repeat("é", domain.MaxRatingComment+1), domain.EINVALID, []string{"comment"}},
		{"BothBad", partner, active, false, 9, strings.Repeat("x", domain.MaxRatingComment+1), domain.EINVALID, []string{"score", "comment"}},
		{"Twice", partner, active, true, 5, "", domain.ECONFLICT, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			events, err := domain.RateRegistration(c.actor, c.reg, c.rated, c.score, c.note, cmdAt)
			require.Nil(t, events)
			require.Equal(t, c.code, domain.ErrorCode(err), "%v", err)
			if c.code == domain.ENOTFOUND {
				require.Equal(t, "registration not found", domain.ErrorMessage(err), "in the same words as a registration that does not exist")
			}
			var got []string
			if de, ok := err.(*domain.Error); ok {
				for _, f := range de.Fields {
					got = append(got, f.Field)
				}
			}
			require.Equal(t, c.fields, got)
		})
	}
	// The bounds themselves are allowed.
	for _, score := range []int{domain.MinRatingScore, domain.MaxRatingScore} {
		_, err := domain.RateRegistration(partner, active, false, score, strings.Repeat("é", domain.MaxRatingComment), cmdAt)
		require.NoError(t, err)
	}
}
