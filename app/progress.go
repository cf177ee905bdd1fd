package app

import (
	"context"
	"sync"

	"github.com/dealreg/dealreg/domain"
)

// progress is how far a ledger follower (the checker, the resolver) got:
// the next position it will process, and a channel closed whenever that
// moves, so callers can wait for it without polling.
type progress struct {
	mu      sync.Mutex
	next    uint64
	applied chan struct{}
}

func newProgress() progress { return progress{applied: make(chan struct{})} }

func (p *progress) position() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.next
}

// done records that position pos was processed.
func (p *progress) done(pos uint64) {
	p.mu.Lock()
	p.next = pos + 1
	close(p.applied)
	p.applied = make(chan struct{})
	p.mu.Unlock()
}

// WaitFor blocks until position pos was processed or ctx is done.
func (p *progress) WaitFor(ctx context.Context, pos uint64) error {
	for {
		p.mu.Lock()
		done, applied := p.next > pos, p.applied
		p.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-applied:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// follower reads the ledger in global order and hands every event to
// process, first the stored ones (catchUp), then live ones (run). process
// must call done for each event it finishes, and skip events below the
// position.
type follower struct {
	progress
	store   domain.EventStore
	process func(context.Context, domain.RecordedEvent) error
}

func newFollower(store domain.EventStore) follower {
	return follower{progress: newProgress(), store: store}
}

// catchUp processes the stored events below upTo.
func (f *follower) catchUp(ctx context.Context, upTo uint64) error {
	for f.position() < upTo {
		events, err := f.store.ReadAll(ctx, domain.ReadAllOptions{From: f.position(), Count: 512})
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
			if err := f.process(ctx, e); err != nil {
				return err
			}
		}
	}
	return nil
}

// run follows the ledger from the current position until ctx ends.
func (f *follower) run(ctx context.Context) error {
	sub, err := f.store.SubscribeAll(ctx, f.position())
	if err != nil {
		return err
	}
	defer sub.Close()
	for {
		e, err := sub.Next(ctx)
		if err != nil {
			return err
		}
		if err := f.process(ctx, e); err != nil {
			return err
		}
	}
}
