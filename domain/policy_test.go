package domain_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

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
	require.Equal(t, p.OpportunityProtection, p.ProtectionFor(domain.TypeOpportunity))
	require.Equal(t, p.AccountProtection, p.ProtectionFor(domain.TypeNamedAccount))
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
			[]string{"policy.opportunity_protection_ns:out_of_range"}},
		{"ProtectionTooLong", func(p *domain.Policy) { p.OpportunityProtection = 181 * domain.Day },
			[]string{"policy.opportunity_protection_ns:out_of_range"}},
		{"NoExtensions", func(p *domain.Policy) { p.MaxExtensions, p.ExtensionLength = 0, 0 }, nil},
		{"ExtensionLengthWithoutExtensions", func(p *domain.Policy) { p.MaxExtensions = 0 },
			[]string{"policy.extension_length_ns:invalid"}},
		{"Everything", func(p *domain.Policy) { *p = domain.Policy{ReminderBefore: -1, RenewalWindow: -1, MaxExtensions: -1} },
			[]string{
				"policy.version:out_of_range",
				"policy.first_contact_window_ns:out_of_range",
				"policy.opportunity_protection_ns:out_of_range",
				"policy.account_protection_ns:out_of_range",
				"policy.max_extensions:out_of_range",
				"policy.review_sla_ns:out_of_range",
				"policy.reminder_before_ns:out_of_range",
				"policy.renewal_window_ns:out_of_range",
				"policy.max_close_horizon_ns:out_of_range",
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
