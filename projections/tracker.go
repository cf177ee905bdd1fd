package projections

import (
	"context"
	"sync"
)

// tracker is what every projection shares: the lock over its state, its
// checkpoint (the next global position to apply), and a channel closed
// whenever the checkpoint moves, so waiters wake without polling.
type tracker struct {
	mu      sync.RWMutex
	next    uint64
	applied chan struct{}
}

func newTracker() tracker { return tracker{applied: make(chan struct{})} }

// advance moves the checkpoint past pos; mu must be held for writing.
func (t *tracker) advance(pos uint64) {
	t.next = pos + 1
	close(t.applied)
	t.applied = make(chan struct{})
}

// Checkpoint returns the next global position to apply: every event below
// it has been applied. Pass it to EventStore.SubscribeAll to resume.
func (t *tracker) Checkpoint() uint64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.next
}

// WaitFor blocks until the event at global position pos has been applied
// (the checkpoint is past pos) or ctx is done, in which case it returns
// ctx's error. A request handler that appended at pos calls it before
// reading, so the caller sees its own write.
func (t *tracker) WaitFor(ctx context.Context, pos uint64) error {
	for {
		t.mu.RLock()
		done, applied := t.next > pos, t.applied
		t.mu.RUnlock()
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
