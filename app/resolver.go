package app

import (
	"context"
	"database/sql"
	"strings"

	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// resolver carries every conflict decision over to the parties' streams
// (see Service.resolve), as a task of the follower's batch. Decisions are
// applied at their recorded time, so replaying yields the same events,
// which the parties' streams then already hold: it keeps no state.
type resolver struct {
	s *Service
}

func newResolver(s *Service) *resolver { return &resolver{s: s} }

func (r *resolver) Load(context.Context, *sql.DB) error { return nil }
func (r *resolver) Flush() (projections.Write, error)   { return nil, nil }
func (r *resolver) Committed(uint64)                    {}
func (r *resolver) ApplyBatch(b *projections.Batch, rec domain.RecordedEvent) error {
	if !strings.HasPrefix(rec.Stream, "conflict-") || rec.Type != (domain.ConflictDecided{}).EventType() {
		return nil
	}
	ev, err := b.Decode(rec)
	if err != nil {
		return err
	}
	if r.resolvedInBatch(b, rec, ev.(domain.ConflictDecided)) {
		return nil
	}
	b.Go(func(ctx context.Context) error {
		recs, err := r.s.store.ReadStream(ctx, rec.Stream, domain.ReadStreamOptions{Count: int(rec.Revision) + 1})
		if err != nil {
			return err
		}
		stored, err := domain.DecodeRecorded(recs)
		if err != nil {
			return err
		}
		c, err := domain.RebuildConflict(stored...)
		if err != nil {
			return err
		}
		// While catching up, the parties' resolutions usually follow
		// the decision within the batch: no need to read their streams.
		return r.s.resolve(ctx, c, ev.(domain.ConflictDecided), rec.RecordedAt, b.HasEvent)
	})
	return nil
}

// resolvedInBatch reports whether the batch holds the resolution of every
// party of the case decided by rec that resolve appends one to, as it
// usually does while catching up: then resolve would append nothing, and
// the case's stream need not be read again. The parties are the conflict view's, which the follower
// applies before the resolver, so they are the case's after the decision.
func (r *resolver) resolvedInBatch(b *projections.Batch, rec domain.RecordedEvent, decided domain.ConflictDecided) bool {
	id, err := uuid.Parse(strings.TrimPrefix(rec.Stream, "conflict-"))
	if err != nil || r.s.Conflicts == nil {
		return false
	}
	parties, ok := r.s.Conflicts.Parties(id)
	if !ok || len(parties) == 0 {
		return false
	}
	results, _ := conflictResults(parties, decided)
	for _, p := range parties {
		if resolvesParty(p, results[p.Key], decided) && !b.HasEvent(resolutionID(id, p.Key)) {
			return false
		}
	}
	return true
}
