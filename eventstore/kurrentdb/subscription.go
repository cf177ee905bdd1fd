package kurrentdb

import (
	"context"
	"fmt"
	"sync"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/dealreg/dealreg/domain"
)

// SubscribeAll implements domain.EventStore with a catch-up subscription to
// $all that excludes system events on the server.
//
// The contract's from is inclusive; KurrentDB subscribes after a position
// (exclusive). So SubscribeAll reads the event at exactly from first: if
// there is one (from is 0 or a position this store returned), it is delivered
// by the subscription itself and the server subscription starts after it;
// otherwise the server subscription starts after the newest record before
// from (see startAt) and the events below from are dropped. The first
// delivered event is therefore the first ledger event at or after from, and
// positions strictly increase (anything else from the server is dropped), so
// nothing is repeated.
//
// The subscription outlives ctx, which only bounds setting it up; Next takes
// its own context. A dropped server subscription (for instance on a leader
// change) is returned by Next as an error; subscribe again from the position
// after the last event received.
func (s *Store) SubscribeAll(ctx context.Context, from uint64) (domain.Subscription, error) {
	if !s.begin() {
		return nil, domain.ErrClosed
	}
	defer s.ops.Done()
	at, err := s.startAt(ctx, from)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	sub := &subscription{store: s, items: make(chan item), stop: make(chan struct{}), next: from}
	if at.exact != nil {
		e, ok, err := ledgerEvent(at.exact)
		if err != nil {
			return nil, fmt.Errorf("kurrentdb: %w", err)
		}
		if ok {
			sub.first = &e
		}
		sub.next = at.exact.Event.Position.Commit + 1
	}
	sub.es, err = s.client.SubscribeToAll(context.WithoutCancel(ctx), esdb.SubscribeToAllOptions{
		From:   at.position,
		Filter: esdb.ExcludeSystemEventsFilter(),
	})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		sub.es.Close()
		return nil, domain.ErrClosed
	}
	s.subs[sub] = struct{}{}
	s.mu.Unlock()
	go sub.pump()
	return sub, nil
}

// subscription adapts the client's blocking Recv to the contract's Next(ctx):
// a goroutine (pump) receives from the server and hands events over one at a
// time.
type subscription struct {
	store *Store
	es    *esdb.Subscription
	first *domain.RecordedEvent // delivered before the server's events
	next  uint64                // lowest position still to deliver; owned by pump
	items chan item
	stop  chan struct{} // closed by Close
	once  sync.Once
	err   error // terminal error, returned by every later Next
}

type item struct {
	event domain.RecordedEvent
	err   error
}

// pump receives from the server until the subscription drops or is closed.
func (sub *subscription) pump() {
	for {
		ev := sub.es.Recv()
		var it item
		switch {
		case ev.SubscriptionDropped != nil:
			it.err = fmt.Errorf("kurrentdb: subscription dropped: %w", ev.SubscriptionDropped.Error)
		case ev.EventAppeared != nil && ev.EventAppeared.Event != nil:
			pos := ev.EventAppeared.Event.Position.Commit
			if pos < sub.next {
				continue
			}
			sub.next = pos + 1
			e, ok, err := ledgerEvent(ev.EventAppeared)
			switch {
			case err != nil:
				it.err = fmt.Errorf("kurrentdb: subscription: %w", err)
			case !ok:
				continue
			default:
				it.event = e
			}
		default: // checkpoints, caught up, fell behind
			continue
		}
		select {
		case sub.items <- it:
		case <-sub.stop:
			return
		}
		if it.err != nil {
			return
		}
	}
}

// Next implements domain.Subscription.
func (sub *subscription) Next(ctx context.Context) (domain.RecordedEvent, error) {
	if sub.err != nil {
		return domain.RecordedEvent{}, sub.err
	}
	select {
	case <-sub.stop:
		return domain.RecordedEvent{}, domain.ErrClosed
	case <-sub.store.done:
		return domain.RecordedEvent{}, domain.ErrClosed
	default:
	}
	if e := sub.first; e != nil {
		sub.first = nil
		return *e, nil
	}
	select {
	case <-sub.stop:
		return domain.RecordedEvent{}, domain.ErrClosed
	case <-sub.store.done:
		return domain.RecordedEvent{}, domain.ErrClosed
	case <-ctx.Done():
		return domain.RecordedEvent{}, ctx.Err()
	case it := <-sub.items:
		if it.err != nil {
			sub.err = it.err
			return domain.RecordedEvent{}, it.err
		}
		return it.event, nil
	}
}

// Close implements domain.Subscription.
func (sub *subscription) Close() error {
	sub.once.Do(func() {
		close(sub.stop)
		sub.es.Close()
		sub.store.mu.Lock()
		delete(sub.store.subs, sub)
		sub.store.mu.Unlock()
	})
	return nil
}
