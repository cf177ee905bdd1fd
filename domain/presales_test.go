package domain_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// approvedWorth returns an opportunity of partner-1 approved under version
// 1 for amount USD.
func approvedWorth(t *testing.T, amount string) *domain.Registration {
	t.Helper()
	d := validDetails()
	d.Opportunity.EstimatedValue = money(amount, "USD")
	r := newDraft(t, domain.TypeOpportunity, d)
	p := domain.DefaultPolicy()
	do(t, r)(r.Submit(partner, p, submitAt))
	do(t, r)(r.RecordVerdict(1, domain.VerdictClear, nil, "", verdictAt))
	return do(t, r)(r.ApproveGranting(manager, p, domain.TierGold, approvedAt))
}

func TestPresalesBook_Assign(t *testing.T) {
	book := func(t *testing.T) *domain.PresalesBook {
		b, err := domain.RebuildPresales()
		require.NoError(t, err)
		for _, r := range []domain.PresalesResource{
			{ID: "ana", Name: "Ana Ruiz", Kind: domain.SolutionsArchitect, CapacityHours: 100},
			{ID: "luis", Name: "Luis Gómez", Kind: domain.PresalesEngineer, CapacityHours: 40},
			{ID: "marta", Name: "Marta Díaz", Kind: domain.TechnicalSpecialist, CapacityHours: 30},
			{ID: "pablo", Name: "Pablo Ruiz", Kind: domain.SolutionsArchitect, CapacityHours: 50},
		} {
			events, err := b.AddResource(manager, r, t0)
			require.NoError(t, err)
			require.NoError(t, b.Apply(events[0]))
		}
		return b
	}
	enterprise, standard := approvedWorth(t, "300000"), approvedWorth(t, "150000")
	type step struct {
		reg      *domain.Registration
		resource string
		hours    int
		code     string // "" when it succeeds
		basis    string
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"dedicated kinds of an enterprise deal", []step{
			{enterprise, "ana", 60, "", domain.PresalesDedicated},
			{enterprise, "luis", 40, "", domain.PresalesDedicated},
			{enterprise, "pablo", 10, domain.ECONFLICT, ""}, // the architect is assigned; no pooled hours
			{enterprise, "marta", 10, domain.ECONFLICT, ""}, // not an entitled kind
		}},
		{"capacity", []step{
			{enterprise, "luis", 41, domain.ECONFLICT, ""},
			{enterprise, "luis", 40, "", domain.PresalesDedicated},
			{standard, "luis", 1, domain.ECONFLICT, ""}, // luis is full
		}},
		{"pooled hours of a standard deal", []step{
			{standard, "ana", 8, "", domain.PresalesPooled},
			{standard, "marta", 3, domain.ECONFLICT, ""},
			{standard, "marta", 2, "", domain.PresalesPooled},
			{standard, "luis", 1, domain.ECONFLICT, ""},
			{standard, "ana", 1, domain.ECONFLICT, ""}, // already assigned
		}},
		{"input", []step{
			{standard, "nobody", 1, domain.EINVALID, ""},
			{standard, "ana", 0, domain.EINVALID, ""},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := book(t)
			for i, s := range tc.steps {
				events, err := b.Assign(manager, s.reg, s.resource, s.hours, cmdAt)
				require.Equal(t, s.code, domain.ErrorCode(err), "step %d: %v", i, err)
				if s.code != "" {
					continue
				}
				a := events[0].(domain.PresalesAssigned)
				require.Equal(t, s.basis, a.Basis, "step %d", i)
				require.Equal(t, "partner-1", a.PartnerID)
				require.Equal(t, 1, a.PolicyVersion)
				require.NoError(t, b.Apply(a))
			}
		})
	}

	// Load, and unassigning frees it.
	b := book(t)
	for _, s := range []step{{enterprise, "ana", 60, "", ""}, {standard, "ana", 8, "", ""}} {
		events, err := b.Assign(manager, s.reg, s.resource, s.hours, cmdAt)
		require.NoError(t, err)
		require.NoError(t, b.Apply(events[0]))
	}
	require.Equal(t, 68, b.Load("ana"))
	events, err := b.Unassign(manager, enterprise, "ana", "signed off", cmdAt)
	require.NoError(t, err)
	require.NoError(t, b.Apply(events[0]))
	require.Equal(t, 8, b.Load("ana"))
	require.Len(t, b.Assignments("ana", enterprise.ID()), 0)
	_, err = b.Unassign(manager, enterprise, "ana", "", cmdAt)
	require.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))

	// Who may: channel operations; a partner is refused, another partner
	// does not find the registration; a registration without an
	// entitlement or not protected cannot be given anyone.
	_, err = b.Assign(partner, standard, "marta", 1, cmdAt)
	require.Equal(t, domain.EFORBIDDEN, domain.ErrorCode(err))
	_, err = b.Assign(otherPartner, standard, "marta", 1, cmdAt)
	require.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))
	_, err = b.Assign(auditor, standard, "marta", 1, cmdAt)
	require.Equal(t, domain.EFORBIDDEN, domain.ErrorCode(err))
	_, err = b.Assign(manager, reach(t, domain.StatusActive), "marta", 1, cmdAt)
	require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err), "approved without benefits")
	lost := approvedWorth(t, "150000")
	do(t, lost)(lost.CloseLost(partner, "lost", cmdAt))
	_, err = b.Assign(manager, lost, "marta", 1, cmdAt)
	require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err))
	_, err = b.AddResource(partner, domain.PresalesResource{ID: "x", Name: "X", Kind: domain.PresalesEngineer, CapacityHours: 1}, t0)
	require.Equal(t, domain.EFORBIDDEN, domain.ErrorCode(err))
	_, err = b.AddResource(manager, domain.PresalesResource{ID: "Bad Id", Kind: "wizard", CapacityHours: 2001}, t0)
	require.ElementsMatch(t, []string{"id", "name", "kind", "capacity_hours"}, fieldNames(err))
	_, err = b.AddResource(manager, domain.PresalesResource{ID: "ana", Name: "Ana", Kind: domain.PresalesEngineer, CapacityHours: 1}, t0)
	require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err))
}
