package projections

import (
	"context"
	"sync"
)

// tracker is what every projection shares: the lock over its state, its
// checkpoint (the next global position to apply), and a channel closed
// whenever the checkpoint moves, so waiters wake without polling. The
// channel is made only when someone waits: the checkpoint moves at every
// event, and a catch-up has nobody waiting.
type tracker struct {
	mu      sync.RWMutex
	next    uint64
	applied chan struct{} // nil while nobody waits
}

func newTracker() tracker { return tracker{} }

// advance moves the checkpoint past pos; mu must be held for writing.
func (t *tracker) advance(pos uint64) {
	t.next = pos + 1
	t.wake()
}

// wake wakes every waiter; mu must be held for writing.
func (t *tracker) wake() {
	if t.applied != nil {
		close(t.applied)
		t.applied = nil
	}
}

// waitChan returns the checkpoint and a channel closed when it next
// moves; mu must not be held.
func (t *tracker) waitChan() (uint64, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.applied == nil {
		t.applied = make(chan struct{})
	}
	return t.next, t.applied
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
	t.mu.RLock()
	done := t.next > pos
	t.mu.RUnlock()
	if done {
		return nil
	}
	for {
		next, applied := t.waitChan()
		if next > pos {
			return nil
		}
		select {
		case <-applied:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
