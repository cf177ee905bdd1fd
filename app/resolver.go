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
	progress
}

func newResolver(s *Service) *resolver { return &resolver{s: s, progress: newProgress()} }

func (r *resolver) catchUp(ctx context.Context, upTo uint64) error {
	for r.position() < upTo {
		events, err := r.s.store.ReadAll(ctx, domain.ReadAllOptions{From: r.position(), Count: 512})
		if err != nil {
			return err
		}
		if len(events) == 0 {
			return nil
		}
		for _, e := range events {
			if e.Position >= upTo {
				return nil
			}
			if err := r.process(ctx, e); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *resolver) run(ctx context.Context) error {
	sub, err := r.s.store.SubscribeAll(ctx, r.position())
	if err != nil {
		return err
	}
	defer sub.Close()
	for {
		e, err := sub.Next(ctx)
		if err != nil {
			return err
		}
		if err := r.process(ctx, e); err != nil {
			return err
		}
	}
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
