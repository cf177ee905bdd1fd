package projections

import (
	"context"
	"time"

	"github.com/dealreg/dealreg/domain"
)

// Replay builds a fresh Registrations from the ledger: every event below
// global position upTo, or every event stored when upTo is 0. A replay up to
// a position is the as-of view at that position. Its views live in a
// private in-memory database.
func Replay(ctx context.Context, store domain.EventStore, upTo uint64) (*Registrations, error) {
	return replay(ctx, store, func(e domain.RecordedEvent) bool { return upTo == 0 || e.Position < upTo })
}

// ReplayUntil builds a fresh Registrations from every event recorded at or
// before at: the as-of view at a time. Recorded time never decreases along
// the global order, so the replay stops at the first later event.
func ReplayUntil(ctx context.Context, store domain.EventStore, at time.Time) (*Registrations, error) {
	return replay(ctx, store, func(e domain.RecordedEvent) bool { return !e.RecordedAt.After(at) })
}

func replay(ctx context.Context, store domain.EventStore, keep func(domain.RecordedEvent) bool) (*Registrations, error) {
	st, err := OpenState(ctx, "", nil)
	if err != nil {
		return nil, err
	}
	p := NewRegistrations(nil, store)
	f := NewFollower(store, st, p)
	if err := f.CatchUpWhile(ctx, keep); err != nil {
		return nil, err
	}
	return p, nil
}

// CatchUp applies to a projection of its own the stored events from its
// checkpoint up to, excluding, global position upTo (to the end of the
// ledger when upTo is 0), committing each page at once.
func (p *Registrations) CatchUp(ctx context.Context, store domain.EventStore, upTo uint64) error {
	if err := p.ensureDB(); err != nil {
		return err
	}
	for {
		from := p.Checkpoint()
		page, err := store.ReadAll(ctx, domain.ReadAllOptions{From: from, Count: replayPage})
		if err != nil {
			return err
		}
		n := 0
		for _, e := range page {
			if upTo != 0 && e.Position >= upTo {
				break
			}
			if err := p.Apply(e); err != nil {
				return err
			}
			n++
		}
		if n < replayPage {
			return nil
		}
	}
}

// replayPage is how many events CatchUp reads per ReadAll call.
const replayPage = 512
