package app_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// An approval from the console names the criteria the reviewer confirmed;
// one with a criterion left out is refused and appends nothing.
func TestApproveChecked(t *testing.T) {
	clock := domain.NewManualClock(t0)
	store, svc := open(t, filepath.Join(t.TempDir(), "ledger.db"), clock)
	defer store.Close()
	defer svc.Stop()
	ctx := context.Background()
	id, _, err := svc.Create(ctx, partner("acme"), domain.TypeOpportunity, details(clock.Now(), "Nueva Cadena SA", "nuevacadena.example", "Cloud"), true)
	require.NoError(t, err)

	before := store.Head()
	_, err = svc.ApproveChecked(ctx, manager, id, []string{"relationship", "quality", "territory", "fit"})
	var de *domain.Error
	require.ErrorAs(t, err, &de)
	require.Equal(t, domain.EINVALID, de.Code)
	require.Equal(t, []domain.FieldError{{Field: "checklist.direct", Code: domain.FieldRequired, Message: "confirm this criterion before approving"}}, de.Fields)
	require.Equal(t, before, store.Head())

	_, err = svc.ApproveChecked(ctx, manager, id, domain.ApprovalCriteria)
	require.NoError(t, err)
	v, ok := svc.Registrations.Get(id)
	require.True(t, ok)
	require.Equal(t, domain.StatusActive, v.Status)
	h := svc.Registrations.History(id)
	require.Contains(t, string(h[len(h)-1].Data), `"checklist":["relationship","quality","territory","fit","direct"]`)
}
