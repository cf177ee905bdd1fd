package app

import (
	"context"
	"strings"

	"github.com/dealreg/dealreg/domain"
)

// resolver follows the ledger and carries every conflict decision over to
// the parties' streams (see Service.resolve). Decisions are applied at their
// recorded time, so replaying yields the same events, which the parties'
// streams then already hold.
type resolver struct {
	s *Service
	follower
}

func newResolver(s *Service) *resolver {
	r := &resolver{s: s, follower: newFollower(s.store)}
	r.follower.process = r.process
	return r
}

func (r *resolver) process(ctx context.Context, rec domain.RecordedEvent) error {
	if rec.Position < r.position() {
		return nil
	}
	if strings.HasPrefix(rec.Stream, "conflict-") && rec.Type == (domain.ConflictDecided{}).EventType() {
		ev, err := domain.DecodeEvent(rec.Type, rec.SchemaVersion, rec.Data)
		if err != nil {
			return err
		}
		stored, err := r.s.readStream(ctx, rec.Stream)
		if err != nil {
			return err
		}
		c, err := domain.RebuildConflict(stored[:rec.Revision+1]...)
		if err != nil {
			return err
		}
		if err := r.s.resolve(ctx, c, ev.(domain.ConflictDecided), rec.RecordedAt); err != nil {
			return err
		}
	}
	r.done(rec.Position)
	return nil
}
