package app

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/dealreg/dealreg/projections"
)

// Views lists what `dealreg projections rebuild NAME` can rebuild on its
// own, with what each keeps in the state database.
var Views = map[string]struct {
	Tables, Rows []string
}{
	"registrations": {Tables: []string{"registrations", "registration_history"}},
	"directory":     {Rows: []string{"directory"}},
	"pipeline":      {Rows: []string{"pipeline"}},
	"conflicts":     {Rows: []string{"conflicts"}},
	"claims":        {Rows: []string{claimRows, inputRows}},
	"analytics":     {Tables: []string{"analytics_facts", "analytics_cohorts"}, Rows: []string{"analytics"}},
}

// ViewNames returns the names Views knows, sorted.
func ViewNames() []string {
	names := make([]string, 0, len(Views))
	for n := range Views {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Rebuild rebuilds the state database at cfg.StatePath from the ledger:
// everything (name "") from scratch, or the one named view up to the
// checkpoint the others are at. progress, if set, is called as it goes.
// The service must not be running on the same state.
func Rebuild(ctx context.Context, cfg Config, name string, progress func(next, head uint64)) error {
	s := New(cfg)
	st, err := projections.OpenState(ctx, cfg.StatePath, cfg.Store)
	if err != nil {
		return err
	}
	defer st.Close()
	if name == "" || st.Checkpoint() == 0 {
		if err := st.Reset(ctx); err != nil {
			return fmt.Errorf("rebuild: %w", err)
		}
		f := projections.NewFollower(cfg.Store, st, s.handlers()...)
		f.Progress = progress
		head, err := s.head(ctx)
		if err != nil {
			return err
		}
		return f.CatchUp(ctx, head)
	}
	v, ok := Views[name]
	if !ok {
		return fmt.Errorf("rebuild: no view %q; the views are %s", name, strings.Join(ViewNames(), ", "))
	}
	handler := map[string]projections.Handler{
		"registrations": s.Registrations, "directory": s.Directory, "pipeline": s.Pipeline, "conflicts": s.Conflicts, "claims": s.checker,
		"analytics": s.Analytics,
	}[name]
	upTo := st.Checkpoint()
	if err := st.StartRebuild(ctx, name, v.Tables, v.Rows); err != nil {
		return fmt.Errorf("rebuild %s: %w", name, err)
	}
	f := projections.NewFollower(cfg.Store, st, handler)
	f.Partial, f.Progress = true, progress
	if err := f.CatchUp(ctx, upTo); err != nil {
		return fmt.Errorf("rebuild %s: %w", name, err)
	}
	return st.FinishRebuild(ctx)
}
