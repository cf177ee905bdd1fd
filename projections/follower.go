package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
)

// Handler is one consumer of the ledger that a Follower feeds: a view, or
// a component that acts on events (the duplicate checker, the conflict
// resolver). Every handler sees every event once per batch, in global
// order, and its state is committed together with the shared checkpoint.
type Handler interface {
	// Load restores the handler's state from db, which holds it as of the
	// follower's checkpoint (db is empty at checkpoint 0). It replaces
	// whatever the handler held, including changes never committed.
	Load(ctx context.Context, db *sql.DB) error
	// ApplyBatch folds one event. Side effects go through b.Go, which
	// the commit waits for.
	ApplyBatch(b *Batch, rec domain.RecordedEvent) error
	// Flush takes what the batch changed, encoded, and returns the write
	// that stores it inside the commit's transaction (nil: nothing to
	// write). The follower may run the write while the next batch is
	// being applied, so it must not read the handler's state: Flush
	// captures everything it writes.
	Flush() (Write, error)
	// Committed tells that every event below next is committed.
	Committed(next uint64)
}

// Write stores what one batch changed, inside the commit's transaction.
type Write func(ctx context.Context, tx *sql.Tx) error

// Batch is the run of events a Follower applies and commits at once.
type Batch struct {
	ctx  context.Context
	page []domain.RecordedEvent
	// CatchingUp is set while the follower replays stored events it has
	// not applied before, before it follows new ones.
	CatchingUp bool

	sem   chan struct{}
	tasks *batchTasks

	// cur is the index in page of the event being applied; decoded holds
	// the decoding of every event of page, for every handler: done
	// beforehand while catching up (decodeAll), or on first use.
	cur     int
	decoded []decodedEvent
	streams map[string][]int // stream -> indexes in page, built on first use

	idsOnce sync.Once
	ids     map[uuid.UUID]struct{} // every event ID of page, built on first use
}

// batchTasks are the side effects a batch started (Batch.Go): kept apart
// from the batch, so that waiting for them keeps none of its events alive.
type batchTasks struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
}

func (t *batchTasks) wait() error {
	t.wg.Wait()
	return errors.Join(t.errs...)
}

// Decode returns the decoded event rec, an event of the batch (usually
// the one being applied), decoding it once for all handlers. Outside a
// follower (b nil), or for an event the batch does not hold, it just
// decodes.
func (b *Batch) Decode(rec domain.RecordedEvent) (domain.Event, error) {
	if b == nil {
		return domain.DecodeEvent(rec.Type, rec.SchemaVersion, rec.Data)
	}
	i := b.cur
	if i >= len(b.page) || b.page[i].Position != rec.Position {
		i = -1
		for _, j := range b.index()[rec.Stream] {
			if b.page[j].Position == rec.Position {
				i = j
				break
			}
		}
		if i < 0 {
			return domain.DecodeEvent(rec.Type, rec.SchemaVersion, rec.Data)
		}
	}
	d := &b.decoded[i]
	if !d.done {
		d.ev, d.err = domain.DecodeEvent(rec.Type, rec.SchemaVersion, rec.Data)
		d.done = true
	}
	return d.ev, d.err
}

// decodedEvent is the decoding of one event of a batch.
type decodedEvent struct {
	done bool
	ev   domain.Event
	err  error
}

// decodeAll decodes every event of page, spread over the machine's
// processors: while catching up, decoding is most of the work, and the
// next page is decoded while the current one is applied.
func decodeAll(page []domain.RecordedEvent) []decodedEvent {
	out := make([]decodedEvent, len(page))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(page)/256))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(page); i += workers {
				r := page[i]
				out[i].ev, out[i].err = domain.DecodeEvent(r.Type, r.SchemaVersion, r.Data)
				out[i].done = true
			}
		})
	}
	wg.Wait()
	return out
}

func (b *Batch) index() map[string][]int {
	if b.streams == nil {
		b.streams = make(map[string][]int)
		for i, e := range b.page {
			b.streams[e.Stream] = append(b.streams[e.Stream], i)
		}
	}
	return b.streams
}

// HasStream reports whether the batch holds an event of stream.
func (b *Batch) HasStream(stream string) bool { return len(b.index()[stream]) > 0 }

// HasEvent reports whether the batch holds the event with ID id. Unlike
// the rest of Batch, it is safe to call from the functions run by Go.
func (b *Batch) HasEvent(id uuid.UUID) bool {
	b.idsOnce.Do(func() {
		b.ids = make(map[uuid.UUID]struct{}, len(b.page))
		for _, e := range b.page {
			b.ids[e.ID] = struct{}{}
		}
	})
	_, ok := b.ids[id]
	return ok
}

// Context returns the batch's context.
func (b *Batch) Context() context.Context { return b.ctx }

// Go runs fn concurrently with the rest of the batch; the batch commits
// only after every fn returned nil, so what fn appends to the ledger is
// durable before the checkpoint passes the event that caused it. fn must
// not wait for the follower itself (it would wait for its own commit).
func (b *Batch) Go(fn func(ctx context.Context) error) {
	b.sem <- struct{}{}
	t := b.tasks
	t.wg.Add(1)
	go func() {
		defer func() { <-b.sem; t.wg.Done() }()
		if err := fn(b.ctx); err != nil {
			t.mu.Lock()
			t.errs = append(t.errs, err)
			t.mu.Unlock()
		}
	}()
}

func (b *Batch) wait() error { return b.tasks.wait() }

// NextInStream returns the first event after rec of rec's stream within
// this batch, if the batch holds one: a handler can tell that a stream has
// moved on without asking the ledger.
func (b *Batch) NextInStream(rec domain.RecordedEvent) (domain.RecordedEvent, bool) {
	for _, i := range b.index()[rec.Stream] {
		if e := b.page[i]; e.Position > rec.Position {
			return e, true
		}
	}
	return domain.RecordedEvent{}, false
}

// Follower is the one mechanism that keeps the read side up to date: it
// reads the ledger in global order, in pages while catching up and as
// commits arrive afterwards, hands each batch of events to every handler,
// waits for the side effects they started, and commits their state and the
// checkpoint in one transaction of the state database. That commit runs
// while the next batch is applied in memory; readers see a batch once it
// is committed, and wait for a position with WaitFor (read-your-writes).
//
// When a batch fails, nothing of it is committed: the follower reloads
// every handler from the state database and returns the error, so a
// restarted Run applies the same events again.
type Follower struct {
	store    domain.EventStore
	state    *State
	handlers []Handler
	tracker

	// Progress, when set, is called after each committed batch while
	// catching up, with the position reached and the head being caught up
	// to (for progress bars).
	Progress func(next, head uint64)
	// CatchUpPage is how many stored events one catch-up batch holds.
	CatchUpPage int
	// CatchUpCommitPages is how many pages a catch-up applies between two
	// commits of the state (at least one): a registration, a claim or a
	// case touched by several of them is then encoded and written once,
	// not once a page. Live batches, and the last page of a catch-up,
	// always commit.
	CatchUpCommitPages int

	// Partial, when set, makes the follower rebuild its handlers inside
	// a state that already holds others at a later checkpoint: it applies
	// and commits their state but leaves the stored checkpoint alone
	// (see State.StartRebuild).
	Partial bool

	ready     atomic.Bool
	readyCh   chan struct{}
	readyOnce sync.Once
	tasks     chan struct{}
	runMu     sync.Mutex
	loaded    bool

	// appliedNext is the position after the last event applied in
	// memory, ahead of the checkpoint while a commit runs; pending is
	// that commit's outcome (nil when none runs). Both belong to the
	// goroutine holding runMu.
	appliedNext uint64
	pending     chan error
	// held are the side effects of the batches applied since the last
	// commit, which the next commit waits for.
	held     []*batchTasks
	heldLast domain.RecordedEvent // the last event of the held batches
}

// NewFollower returns a follower feeding handlers, with their state kept
// in state. Call Load, then CatchUp or Run.
func NewFollower(store domain.EventStore, state *State, handlers ...Handler) *Follower {
	return &Follower{store: store, state: state, handlers: handlers, tracker: newTracker(),
		CatchUpPage: 131072, CatchUpCommitPages: 4, tasks: make(chan struct{}, 256), readyCh: make(chan struct{})}
}

// Load restores every handler from the state database at its checkpoint.
func (f *Follower) Load(ctx context.Context) error {
	f.runMu.Lock()
	defer f.runMu.Unlock()
	return f.load(ctx)
}

func (f *Follower) load(ctx context.Context) error {
	// Handlers load independent state: in parallel, so a start waits for
	// the slowest one only. Loading allocates what stays live, so the
	// collector has little to find: let the heap grow between cycles.
	gc := debug.SetGCPercent(400)
	errs := make([]error, len(f.handlers))
	var wg sync.WaitGroup
	for i, h := range f.handlers {
		wg.Go(func() { errs[i] = h.Load(ctx, f.state.db) })
	}
	wg.Wait()
	// Give back what the load left behind at once, rather than keeping
	// the heap grown to several times what stays live: the garbage, and
	// the page caches of the connections the parallel loads opened
	// (SQLite's, outside Go's heap: up to 32 MiB each).
	f.state.releaseIdle()
	debug.SetGCPercent(gc)
	debug.FreeOSMemory()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("load state: %w", err)
	}
	next := f.state.next
	if f.Partial {
		next = 0
	}
	f.appliedNext = next
	f.mu.Lock()
	f.next = next
	f.wake()
	f.mu.Unlock()
	for _, h := range f.handlers {
		h.Committed(next)
	}
	f.loaded = true
	return nil
}

// Ready reports whether the follower has caught up with the ledger's head
// as it was when Run started.
func (f *Follower) Ready() bool { return f.ready.Load() }

// ReadyCh is closed when the follower first reports Ready.
func (f *Follower) ReadyCh() <-chan struct{} { return f.readyCh }

// CatchUp applies the stored events from the checkpoint up to, excluding,
// position upTo (the whole ledger when upTo is 0), committing every
// CatchUpPage events.
func (f *Follower) CatchUp(ctx context.Context, upTo uint64) error {
	f.runMu.Lock()
	defer f.runMu.Unlock()
	return f.catchUp(ctx, upTo, nil)
}

// CatchUpWhile applies the stored events from the checkpoint as long as
// keep holds, stopping before the first event for which it does not.
func (f *Follower) CatchUpWhile(ctx context.Context, keep func(domain.RecordedEvent) bool) error {
	f.runMu.Lock()
	defer f.runMu.Unlock()
	return f.catchUp(ctx, 0, keep)
}

func (f *Follower) catchUp(ctx context.Context, upTo uint64, keep func(domain.RecordedEvent) bool) (err error) {
	if !f.loaded {
		if err := f.load(ctx); err != nil {
			return err
		}
	}
	// The next page is read and decoded while the current one is applied
	// and committed.
	type fetched struct {
		page    []domain.RecordedEvent
		decoded []decodedEvent
		err     error
	}
	fetch := func(from uint64) <-chan fetched {
		ch := make(chan fetched, 1)
		go func() {
			page, err := f.store.ReadAll(ctx, domain.ReadAllOptions{From: from, Count: f.CatchUpPage})
			if err != nil {
				ch <- fetched{err: fmt.Errorf("catch up from %d: %w", from, err)}
				return
			}
			ch <- fetched{page: page, decoded: decodeAll(page)}
		}()
		return ch
	}
	var next <-chan fetched
	indexed := true            // false once the secondary indexes are dropped
	var retune, restore func() // see catchUpGC
	defer func() {
		if len(f.held) > 0 {
			// The ledger ended right after a page that waited for the
			// next commit: commit it. Or reading the next page failed:
			// forget what is not committed.
			if err == nil {
				err = f.commitHeld(ctx, upTo)
			}
			if err != nil {
				_ = f.settle()
				f.dropHeld()
				err = errors.Join(err, f.load(context.WithoutCancel(ctx)))
			}
		}
		if serr := f.settle(); err == nil {
			err = serr
		}
		if !indexed {
			if ierr := f.state.createIndexes(context.WithoutCancel(ctx)); err == nil {
				err = ierr
			}
		}
		if restore != nil {
			restore()
		}
	}()
	for {
		from := f.appliedNext
		if upTo != 0 && from >= upTo {
			return nil
		}
		if next == nil {
			next = fetch(from)
		}
		got := <-next
		next = nil
		if got.err != nil {
			return got.err
		}
		page := got.page
		full := len(page) == f.CatchUpPage
		for i, e := range page {
			if (upTo != 0 && e.Position >= upTo) || (keep != nil && !keep(e)) {
				page, full = page[:i], false
				break
			}
		}
		if len(page) == 0 {
			return nil
		}
		if after := page[len(page)-1].Position + 1; full && (upTo == 0 || after < upTo) {
			next = fetch(after)
			if retune == nil {
				retune, restore = catchUpGC() // a long catch-up
			}
			if from == 0 && !f.Partial && indexed {
				// A long catch-up into an empty state: the indexes are
				// built once at the end instead of row by row.
				if err := f.state.dropIndexes(ctx); err != nil {
					<-next
					return err
				}
				indexed = false
			}
		}
		if retune != nil {
			retune()
		}
		// A full page with more to come may wait for the next commit.
		hold := next != nil && len(f.held)+1 < f.CatchUpCommitPages
		if err := f.apply(ctx, page, got.decoded[:len(page)], upTo, hold); err != nil {
			if next != nil {
				<-next
			}
			return err
		}
		if !full && upTo == 0 {
			return nil
		}
	}
}

// batchSubscription is a subscription that hands over every event it has
// buffered at once (eventstore.SQLite's does).
type batchSubscription interface {
	NextBatch(ctx context.Context) ([]domain.RecordedEvent, error)
}

// Run catches up with the ledger's head, reports Ready, then applies new
// events as they are committed, until ctx is done (ctx's error), the store
// closes (domain.ErrClosed) or a batch fails (its error; see Follower).
func (f *Follower) Run(ctx context.Context) (err error) {
	f.runMu.Lock()
	defer f.runMu.Unlock()
	defer func() {
		if serr := f.settle(); err == nil {
			err = serr
		}
	}()
	head, err := ledgerHead(ctx, f.store)
	if err != nil {
		return err
	}
	if err := f.catchUp(ctx, head, nil); err != nil {
		return err
	}
	f.ready.Store(true)
	f.readyOnce.Do(func() { close(f.readyCh) })
	sub, err := f.store.SubscribeAll(ctx, f.appliedNext)
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	defer sub.Close()
	bs, batched := sub.(batchSubscription)
	for {
		var page []domain.RecordedEvent
		if batched {
			page, err = bs.NextBatch(ctx)
		} else {
			var e domain.RecordedEvent
			e, err = sub.Next(ctx)
			page = []domain.RecordedEvent{e}
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		if err := f.apply(ctx, page, nil, live, false); err != nil {
			return err
		}
	}
}

// ledgerHead returns the position after the newest stored event.
func ledgerHead(ctx context.Context, store domain.EventStore) (uint64, error) {
	if h, ok := store.(interface{ Head() uint64 }); ok {
		return h.Head(), nil
	}
	last, err := store.ReadAll(ctx, domain.ReadAllOptions{Direction: domain.Backwards, FromEnd: true, Count: 1})
	if err != nil || len(last) == 0 {
		return 0, err
	}
	return last[0].Position + 1, nil
}

// live is the catchingUp argument of apply for batches that follow the
// ledger's head.
const live = ^uint64(0)

// apply runs one batch: every handler folds every event of page it has not
// seen; then, in the background while the caller goes on to the next
// batch, the side effects they started finish and the handlers' writes and
// the checkpoint commit together (commits stay in order: a batch's commit
// starts once the one before it is done). With hold, nothing is committed
// yet: the batch's changes and side effects join the next commit's. head
// is the position being caught up to, for Progress, or live. On failure
// the handlers are reloaded from the state database.
func (f *Follower) apply(ctx context.Context, page []domain.RecordedEvent, decoded []decodedEvent, head uint64, hold bool) (err error) {
	from := f.appliedNext
	for len(page) > 0 && page[0].Position < from {
		page = page[1:] // delivered again
		if decoded != nil {
			decoded = decoded[1:]
		}
	}
	if decoded == nil {
		decoded = make([]decodedEvent, len(page))
	}
	if len(page) == 0 {
		return nil
	}
	defer func() {
		if err != nil {
			_ = f.settle() // its failure, if any, is part of err already
			f.dropHeld()
			if lerr := f.load(context.WithoutCancel(ctx)); lerr != nil {
				err = errors.Join(err, lerr)
			}
		}
	}()
	b := &Batch{ctx: ctx, page: page, decoded: decoded, CatchingUp: head != live, sem: f.tasks, tasks: &batchTasks{}}
	for i, rec := range page {
		b.cur = i
		for _, h := range f.handlers {
			if err := h.ApplyBatch(b, rec); err != nil {
				_ = b.wait()
				return err
			}
		}
	}
	f.held, f.heldLast = append(f.held, b.tasks), page[len(page)-1]
	f.appliedNext = f.heldLast.Position + 1
	if hold {
		return nil
	}
	return f.commitHeld(ctx, head)
}

// dropHeld waits for the side effects of the batches applied since the
// last commit, and forgets them: they will be applied again.
func (f *Follower) dropHeld() {
	for _, h := range f.held {
		_ = h.wait()
	}
	f.held = nil
}

// commitHeld flushes every handler and commits, in the background, the
// batches applied since the last commit, once their side effects are
// done (see apply). On failure the caller reloads the handlers.
func (f *Follower) commitHeld(ctx context.Context, head uint64) error {
	if len(f.held) == 0 {
		return nil
	}
	writes := make([]Write, 0, len(f.handlers))
	for _, h := range f.handlers {
		w, err := h.Flush()
		if err != nil {
			return fmt.Errorf("state commit: %w", err)
		}
		if w != nil {
			writes = append(writes, w)
		}
	}
	if err := f.settle(); err != nil {
		return err
	}
	held, last := f.held, f.heldLast
	f.held = nil
	done := make(chan error, 1)
	f.pending = done
	go func() {
		// The side effects (verdicts, cases, resolutions: appends to the
		// ledger) must be durable before the checkpoint passes the
		// events that caused them; the next batch need not wait for
		// them, only its commit does.
		var errs []error
		for _, h := range held {
			errs = append(errs, h.wait())
		}
		err := errors.Join(errs...)
		if err == nil {
			err = f.commit(ctx, writes, last.Position+1, last.ID)
		}
		if err == nil {
			f.mu.Lock()
			f.advance(last.Position)
			f.mu.Unlock()
			for _, h := range f.handlers {
				h.Committed(last.Position + 1)
			}
			if f.Progress != nil && head != live {
				f.Progress(last.Position+1, head)
			}
		}
		done <- err
	}()
	return nil
}

// settle waits for the commit in flight, if any, and returns its error.
func (f *Follower) settle() error {
	if f.pending == nil {
		return nil
	}
	err := <-f.pending
	f.pending = nil
	return err
}

func (f *Follower) commit(ctx context.Context, writes []Write, next uint64, last uuid.UUID) error {
	ctx = context.WithoutCancel(ctx) // a batch whose effects are done is kept
	ctx = withStateDB(ctx, f.state.db)
	tx, err := f.state.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("state commit: %w", err)
	}
	defer tx.Rollback()
	for _, w := range writes {
		if err := w(ctx, tx); err != nil {
			return fmt.Errorf("state commit: %w", err)
		}
	}
	if f.Partial {
		return tx.Commit()
	}
	if err := saveCheckpoint(ctx, tx, next, last); err != nil {
		return fmt.Errorf("state commit: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("state commit: %w", err)
	}
	f.state.next = next
	return nil
}
