package projections

import (
	"context"
	"fmt"

	"github.com/dealreg/dealreg/domain"
)

// Projection is a deterministic fold over the ledger that Run can keep up
// to date. Checkpoint is the next global position it needs; Apply must
// ignore events below it, so that a redelivered event is harmless.
type Projection interface {
	Apply(e domain.RecordedEvent) error
	Checkpoint() uint64
}

var _ Projection = (*Registrations)(nil)

// Run subscribes to store from p's checkpoint and applies every event, the
// stored ones first and then new ones as they are committed, until ctx is
// done (it returns ctx's error), the store closes (domain.ErrClosed) or an
// event cannot be applied (that error: the projection stays at the event
// before, so a restarted Run retries it rather than skip it).
func Run(ctx context.Context, store domain.EventStore, p Projection) error {
	sub, err := store.SubscribeAll(ctx, p.Checkpoint())
	if err != nil {
		return fmt.Errorf("projection subscribe: %w", err)
	}
	defer sub.Close()
	for {
		e, err := sub.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("projection next: %w", err)
		}
		if err := p.Apply(e); err != nil {
			return fmt.Errorf("projection apply: %w", err)
		}
	}
}
