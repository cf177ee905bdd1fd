package eventstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/dealreg/dealreg/domain"
	"golang.org/x/mod/sumdb/tlog"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// writer is the single goroutine that writes. It takes the first queued
// request, then every request queued meanwhile (no linger: whatever arrived
// while the previous commit ran), and commits them in one transaction.
func (s *SQLite) writer(ready chan<- error) {
	defer s.wg.Done()
	started := false
	err := s.conn.Raw(func(dc any) error {
		w, err := prepareWriterConn(context.Background(), dc)
		if err != nil {
			return err
		}
		defer w.close()
		s.w = w
		if err := s.loadState(); err != nil {
			return err
		}
		started = true
		ready <- nil
		s.writeLoop()
		return nil
	})
	if !started {
		ready <- err
	}
}

func (s *SQLite) writeLoop() {
	batch := make([]*writeReq, 0, maxBatch)
	take := func() {
		for len(batch) < maxBatch {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			default:
				return
			}
		}
	}
	// Another handle or process may append to the same file: poll for its
	// commits, so that Head and subscriptions see them without a local
	// append (begin catches them before every local commit regardless).
	poll := time.NewTicker(pollInterval)
	defer poll.Stop()
	for {
		select {
		case <-poll.C:
			s.poll()
		case <-s.refreshKick:
			s.refreshFor()
		case r := <-s.reqs:
			batch = append(batch[:0], r)
			// Writers woken by the previous commit are runnable but may not
			// have queued again yet; yielding once lets them (no timer, so
			// a lone writer loses nothing) and the batch grows.
			runtime.Gosched()
			take()
			s.commit(batch)
		case <-s.stop:
			// Close: finish whatever was queued before it.
			for {
				batch = batch[:0]
				take()
				if len(batch) == 0 {
					return
				}
				s.commit(batch)
			}
		}
	}
}

// batch is the state of one group-commit transaction.
type batch struct {
	s        *SQLite
	nextPos  uint64
	lastTime int64
	// revisions are the stream revisions written in this batch, merged into
	// the writer's cache only when the batch commits.
	revisions map[string]uint64
	treeFirst int64
	pending   []tlog.Hash
	// signedSize is the largest checkpoint's size, this batch's included.
	signedSize int64
	reader     overlayReader
	scratch    []byte
}

func (s *SQLite) commit(reqs []*writeReq) {
	start := time.Now()
	results := make([]writeResult, len(reqs))
	b, err := s.begin()
	if err == nil {
		for i, r := range reqs {
			if r.fn != nil {
				// A function may have written before failing: never keep half of it.
				if results[i].err = r.fn(b); results[i].err != nil {
					err = results[i].err
					break
				}
				continue
			}
			results[i].res, results[i].err = b.append(r)
			if isBatchFatal(results[i].err) {
				err = results[i].err
				break
			}
		}
	}
	if err == nil {
		// The checkpoint covering this commit's events is stored in
		// the same transaction: durable when they are (checkpoints.go).
		err = b.signCheckpoint()
	}
	if err == nil {
		err = s.w.exec(s.w.commit)
	}
	if err != nil {
		if b != nil {
			s.w.exec(s.w.rollback) // fails harmlessly if SQLite already rolled back
		}
		err = describeWriteError(err)
		if !errors.Is(err, domain.ErrStorageFull) {
			s.logger.Error("ledger commit failed", "err", err, "requests", len(reqs))
		}
		for _, r := range reqs {
			r.done <- writeResult{err: err}
		}
		return
	}
	events := int(b.nextPos - s.nextPos)
	s.nextPos, s.lastTime = b.nextPos, b.lastTime
	if !s.opts.noMerkle {
		s.cache.put(b.treeFirst, b.pending)
	}
	s.revisions.merge(b.revisions)
	s.signedSize = b.signedSize
	s.commits.Add(1)
	s.committedReqs.Add(uint64(len(reqs)))
	s.publish(b.nextPos)
	took := time.Since(start)

	for i, r := range reqs {
		r.done <- results[i]
	}
	if s.opts.OnCommit != nil {
		s.opts.OnCommit(CommitStats{Requests: len(reqs), Events: events, Took: took})
	}
}

// publish raises the committed head to n (never lowers it) and wakes the
// subscriptions.
func (s *SQLite) publish(n uint64) {
	for {
		cur := s.committed.Load()
		if n <= cur {
			return
		}
		if s.committed.CompareAndSwap(cur, n) {
			s.signal()
			return
		}
	}
}

// pollInterval is how often the writer looks for commits made by other
// connections to the same file (a local commit looks too, in begin).
const pollInterval = 200 * time.Millisecond

// poll, outside any transaction, reads the writer connection's data_version
// and, if another connection committed since, reloads the writer's state and
// publishes the new head. A failure is only logged: the next poll or append
// tries again.
func (s *SQLite) poll() {
	if err := s.refresh(); err != nil {
		s.logger.Warn("ledger: looking for commits by other processes failed", "err", err)
	}
}

// Refresh makes Head and the subscriptions current with every commit made
// to the file before the call, by any connection or process, rather than at
// the next poll: the writer looks at data_version now. Concurrent calls
// share one look, and a look when nothing changed costs one pragma, so
// calling it on every miss of a cache keyed by ledger contents (an unknown
// token) is cheap.
func (s *SQLite) Refresh(ctx context.Context) error {
	if err := s.readable(); err != nil {
		return err
	}
	s.refreshMu.Lock()
	s.refreshWanted++
	mine := s.refreshWanted
	s.refreshMu.Unlock()
	select {
	case s.refreshKick <- struct{}{}:
	default: // a look is pending and has not started: it covers this call
	}
	for {
		s.refreshMu.Lock()
		done, err, wait := s.refreshDone >= mine, s.refreshErr, s.refreshed
		s.refreshMu.Unlock()
		if done {
			return err
		}
		select {
		case <-wait:
		case <-s.stop:
			return domain.ErrClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// refreshFor runs refresh for the Refresh calls made so far.
func (s *SQLite) refreshFor() {
	s.refreshMu.Lock()
	covered := s.refreshWanted
	s.refreshMu.Unlock()
	err := s.refresh()
	s.refreshMu.Lock()
	s.refreshDone, s.refreshErr = covered, err
	close(s.refreshed)
	s.refreshed = make(chan struct{})
	s.refreshMu.Unlock()
}

// refresh makes the writer's state current if another connection committed
// since it was last read: the next position and last recorded time come
// from the file again, and the stream revisions and tree hashes cached from
// before are dropped. Inside a write transaction it sees the final state,
// since the transaction holds SQLite's write lock. data_version is per
// connection and ignores the connection's own commits, so this costs one
// pragma when nothing changed.
func (s *SQLite) refresh() error {
	v, err := s.readDataVersion()
	if err != nil {
		return err
	}
	if v == s.dataVersion {
		return nil
	}
	if err := s.readLast(); err != nil {
		return err
	}
	s.revisions.reset()
	s.cache.reset()
	if err := s.readSignedSize(); err != nil {
		return err
	}
	s.dataVersion = v
	s.publish(s.nextPos)
	return nil
}

// signal wakes every subscription waiting for new events.
func (s *SQLite) signal() {
	s.notifyMu.Lock()
	close(s.notify)
	s.notify = make(chan struct{})
	s.notifyMu.Unlock()
}

func (s *SQLite) changed() <-chan struct{} {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	return s.notify
}

// isBatchFatal tells request-level outcomes (a wrong revision, a duplicate
// ID: that request fails, the others commit) from failures of the
// transaction itself (I/O, disk full), which fail every request in it.
func isBatchFatal(err error) bool {
	if err == nil {
		return false
	}
	var wrong *domain.WrongExpectedRevisionError
	var de *domain.Error
	return !errors.As(err, &wrong) && !errors.As(err, &de)
}

func describeWriteError(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_FULL {
		return fmt.Errorf("%w (%v)", domain.ErrStorageFull, err)
	}
	if errors.Is(err, domain.ErrStorageFull) {
		return err
	}
	return fmt.Errorf("ledger write: %w", err)
}

func (s *SQLite) begin() (*batch, error) {
	if err := s.w.exec(s.w.begin); err != nil {
		return nil, err
	}
	if err := s.refresh(); err != nil {
		s.w.exec(s.w.rollback)
		return nil, err
	}
	now := s.clock.Now().UnixNano()
	b := &batch{
		s:          s,
		nextPos:    s.nextPos,
		lastTime:   max(now, s.lastTime),
		revisions:  make(map[string]uint64),
		treeFirst:  tlog.StoredHashCount(int64(s.nextPos)),
		signedSize: s.signedSize,
	}
	b.reader = overlayReader{pendingFirst: b.treeFirst, cache: s.cache, load: s.loadHash}
	return b, nil
}

// loadHash reads the stored tree hash at index idx. Each event row holds
// the hashes its append completed (see LeafData and docs/ledger.md): level
// L of that event's tlog.StoredHashes.
func (s *SQLite) loadHash(idx int64) (tlog.Hash, error) {
	pos, level := hashOwner(idx)
	hashes, err := s.hashesAt(pos)
	if err != nil {
		return tlog.Hash{}, err
	}
	return hashAtLevel(hashes, level)
}

// hashOwner returns the position of the event that stored tree hash idx,
// and its level among that event's stored hashes.
func hashOwner(idx int64) (position int64, level int) {
	level, n := tlog.SplitStoredHashIndex(idx)
	return (n+1)<<level - 1, level
}

func hashAtLevel(hashes []byte, level int) (tlog.Hash, error) {
	var h tlog.Hash
	if len(hashes)%len(h) != 0 || (level+1)*len(h) > len(hashes) {
		return h, fmt.Errorf("stored hashes have %d bytes, need level %d", len(hashes), level)
	}
	copy(h[:], hashes[level*len(h):])
	return h, nil
}

// currentRevision returns the last revision of stream as seen by this batch.
func (b *batch) currentRevision(stream string) (uint64, bool, error) {
	if r, ok := b.revisions[stream]; ok {
		return r, true, nil
	}
	if r, ok := b.s.revisions.get(stream); ok {
		return r.revision, r.exists, nil
	}
	row, _, err := b.s.w.queryRow(b.s.w.streamRev, stream)
	if err != nil {
		return 0, false, err
	}
	var cur int64
	var exists bool
	if row != nil { // max() of no rows is one NULL
		if cur, exists, err = int64Value(row[0]); err != nil {
			return 0, false, err
		}
	}
	b.s.revisions.put(stream, uint64(cur), exists)
	return uint64(cur), exists, nil
}

// append applies one append request inside the batch. Every check happens
// before the first insert, so a request that fails writes nothing.
func (b *batch) append(r *writeReq) (domain.AppendResult, error) {
	if len(r.events) > 1 {
		// A multi-event append must not fail halfway on a known ID.
		if res, found, err := b.idempotent(r); err != nil || found {
			return res, err
		}
		for _, e := range r.events[1:] {
			_, found, err := b.s.w.queryRow(b.s.w.positionByID, e.ID[:])
			if err != nil {
				return domain.AppendResult{}, err
			}
			if found {
				return domain.AppendResult{}, domain.ErrDuplicateEventID
			}
		}
	}
	cur, exists, err := b.currentRevision(r.stream)
	if err != nil {
		return domain.AppendResult{}, err
	}
	if !r.expected.Check(cur, exists) {
		// A retry of an acknowledged append usually lands here: its
		// expectation is stale. Recognise it before refusing.
		if res, found, err := b.idempotent(r); err != nil || found {
			return res, err
		}
		return domain.AppendResult{}, &domain.WrongExpectedRevisionError{
			Stream: r.stream, Expected: r.expected, Actual: cur, ActualExists: exists,
		}
	}
	next := uint64(0)
	if exists {
		next = cur + 1
	}
	var res domain.AppendResult
	for i, e := range r.events {
		rec := domain.RecordedEvent{
			ID:            e.ID,
			Stream:        r.stream,
			Revision:      next + uint64(i),
			Position:      b.nextPos,
			Type:          e.Type,
			SchemaVersion: e.SchemaVersion,
			Data:          e.Data,
			Metadata:      e.Metadata,
			RecordedAt:    time.Unix(0, b.lastTime).UTC(),
		}
		if err := b.insert(rec); err != nil {
			if i == 0 && isEventIDConflict(err) {
				// A single-event append whose ID is stored: a retry
				// under an expectation that still holds (e.g. Any).
				if res, found, ierr := b.idempotent(r); ierr != nil || found {
					return res, ierr
				}
				return domain.AppendResult{}, domain.ErrDuplicateEventID
			}
			return domain.AppendResult{}, err
		}
		res = domain.AppendResult{NextExpectedRevision: rec.Revision, Position: rec.Position}
	}
	b.revisions[r.stream] = res.NextExpectedRevision
	return res, nil
}

func isEventIDConflict(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE && strings.Contains(se.Error(), "events.event_id")
}

// idempotent reports whether r's events are already stored, in order, in r's
// stream: then the append is a retry and its original result is returned.
func (b *batch) idempotent(r *writeReq) (domain.AppendResult, bool, error) {
	row, found, err := b.s.w.queryRow(b.s.w.positionByID, r.events[0].ID[:])
	if err != nil || !found {
		return domain.AppendResult{}, false, err
	}
	pos, _, err := int64Value(row[0])
	if err != nil {
		return domain.AppendResult{}, false, err
	}
	last := pos + int64(len(r.events)) - 1
	rows, err := b.s.w.query(b.s.w.eventsRange, pos, last)
	if err != nil {
		return domain.AppendResult{}, false, err
	}
	defer rows.Close()
	i := 0
	var rev int64
	vals := make([]driver.Value, 3)
	for {
		if err := rows.Next(vals); err == io.EOF {
			break
		} else if err != nil {
			return domain.AppendResult{}, false, err
		}
		id, _ := vals[0].([]byte)
		st, _ := textValue(vals[1])
		if rev, _, err = int64Value(vals[2]); err != nil {
			return domain.AppendResult{}, false, err
		}
		if i >= len(r.events) || st != r.stream || string(id) != string(r.events[i].ID[:]) {
			return domain.AppendResult{}, false, domain.ErrDuplicateEventID
		}
		i++
	}
	if i != len(r.events) {
		return domain.AppendResult{}, false, domain.ErrDuplicateEventID
	}
	return domain.AppendResult{NextExpectedRevision: uint64(rev), Position: uint64(last)}, true, nil
}

// insert writes one fully formed event at b.nextPos, with the Merkle tree
// hashes it completes.
func (b *batch) insert(e domain.RecordedEvent) error {
	if e.Position != b.nextPos {
		return fmt.Errorf("insert: position %d, next is %d", e.Position, b.nextPos)
	}
	if b.scratch == nil {
		b.scratch = make([]byte, 0, 8*tlog.HashSize)
	}
	b.scratch = b.scratch[:0]
	var hashes []tlog.Hash
	if !b.s.opts.noMerkle {
		b.reader.pending = b.pending
		var err error
		hashes, err = tlog.StoredHashes(int64(e.Position), LeafData(e), &b.reader)
		if err != nil {
			return fmt.Errorf("tree hashes of event %d: %w", e.Position, err)
		}
		for _, h := range hashes {
			b.scratch = append(b.scratch, h[:]...)
		}
	}
	err := b.s.w.exec(b.s.w.insEvent, int64(e.Position), e.ID[:], e.Stream, int64(e.Revision), e.Type,
		int64(e.SchemaVersion), string(e.Data), string(e.Metadata), e.RecordedAt.UnixNano(), b.scratch)
	if err != nil {
		return fmt.Errorf("insert event %d: %w", e.Position, err)
	}
	b.pending = append(b.pending, hashes...)
	b.nextPos++
	return nil
}

// revisionCache remembers the last revision of recently written streams, so
// the writer need not ask SQLite on every append. Only the writer uses it,
// and only committed revisions enter it.
type revisionCache struct {
	m   map[string]streamRevision
	max int
}

type streamRevision struct {
	revision uint64
	exists   bool
}

func newRevisionCache(max int) *revisionCache {
	return &revisionCache{m: make(map[string]streamRevision), max: max}
}

func (c *revisionCache) get(stream string) (streamRevision, bool) {
	r, ok := c.m[stream]
	return r, ok
}

func (c *revisionCache) put(stream string, rev uint64, exists bool) {
	if len(c.m) >= c.max {
		clear(c.m) // crude but bounded; a miss costs one indexed query
	}
	c.m[stream] = streamRevision{revision: rev, exists: exists}
}

func (c *revisionCache) reset() { clear(c.m) }

func (c *revisionCache) merge(revs map[string]uint64) {
	for s, r := range revs {
		c.put(s, r, true)
	}
}
