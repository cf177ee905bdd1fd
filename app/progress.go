package app

import (
	"context"
	"sync"
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
