package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/dealreg/dealreg/domain"
)

// replayPage is how many events Replay reads per ReadAll call.
const replayPage = 512

// Replay builds a fresh Registrations from the ledger: every event below
// global position upTo, or every event stored when upTo is 0. A replay up to
// a position is the as-of view at that position.
func Replay(ctx context.Context, store domain.EventStore, upTo uint64) (*Registrations, error) {
	p := NewRegistrations(nil)
	if err := p.CatchUp(ctx, store, upTo); err != nil {
		return nil, err
	}
	return p, nil
}

// ReplayUntil builds a fresh Registrations from every event recorded at or
// before at: the as-of view at a time. Recorded time never decreases along
// the global order, so the replay stops at the first later event.
func ReplayUntil(ctx context.Context, store domain.EventStore, at time.Time) (*Registrations, error) {
	p := NewRegistrations(nil)
	if err := p.catchUp(ctx, store, func(e domain.RecordedEvent) bool { return !e.RecordedAt.After(at) }); err != nil {
		return nil, err
	}
	return p, nil
}

// CatchUp applies the stored events from the checkpoint up to, excluding,
// global position upTo (to the end of the ledger when upTo is 0), reading
// the store in pages. Use it to build a projection with a custom
// PolicyLookup, or to catch up before following a subscription.
func (p *Registrations) CatchUp(ctx context.Context, store domain.EventStore, upTo uint64) error {
	return p.catchUp(ctx, store, func(e domain.RecordedEvent) bool { return upTo == 0 || e.Position < upTo })
}

// catchUp applies stored events from the checkpoint while keep holds.
func (p *Registrations) catchUp(ctx context.Context, store domain.EventStore, keep func(domain.RecordedEvent) bool) error {
	return catchUp(ctx, store, p, keep)
}

// CatchUpTo applies to p the stored events from its checkpoint up to,
// excluding, global position upTo (to the end of the ledger when upTo is 0).
func CatchUpTo(ctx context.Context, store domain.EventStore, p Projection, upTo uint64) error {
	return catchUp(ctx, store, p, func(e domain.RecordedEvent) bool { return upTo == 0 || e.Position < upTo })
}

func catchUp(ctx context.Context, store domain.EventStore, p Projection, keep func(domain.RecordedEvent) bool) error {
	from := p.Checkpoint()
	for {
		events, err := store.ReadAll(ctx, domain.ReadAllOptions{From: from, Count: replayPage})
		if err != nil {
			return fmt.Errorf("replay from %d: %w", from, err)
		}
		for _, e := range events {
			if !keep(e) {
				return nil
			}
			if err := p.Apply(e); err != nil {
				return fmt.Errorf("replay: %w", err)
			}
		}
		if len(events) < replayPage {
			return nil
		}
		from = events[len(events)-1].Position + 1
	}
}
