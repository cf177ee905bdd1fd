package eventstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dealreg/dealreg/domain"
	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/tlog"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Limits of one append. They bound the work one request can put on the single
// writer; the API enforces its own, smaller, limits on top.
const (
	MaxEventsPerAppend = 10_000
	MaxEventSize       = 4 << 20 // data + metadata bytes of one event
	MaxStreamNameLen   = 512
	MaxEventTypeLen    = 256
)

// maxBatch caps how many queued requests one group commit takes, so a
// flood of appends cannot grow one transaction without bound.
const maxBatch = 1024

// Options configure an SQLite store. The zero value is ready to use.
type Options struct {
	// Clock assigns recorded times; defaults to the system clock. Whatever
	// it says, recorded time never decreases along the global order.
	Clock domain.Clock
	// Logger receives operational messages; defaults to slog.Default().
	Logger *slog.Logger

	noMerkle     bool // benchmarks only: measure the tree's cost
	maxPageCount int  // tests only: simulate a full disk
}

// SQLite is the embedded event store: one SQLite file in WAL mode with
// synchronous=FULL, one writer goroutine doing group commit, and a pool of
// concurrent readers.
type SQLite struct {
	path   string
	wdb    *sql.DB
	rdb    *sql.DB
	clock  domain.Clock
	logger *slog.Logger
	opts   Options

	// mu guards closed against enqueueing; Append holds it for reading.
	mu     sync.RWMutex
	closed bool
	reqs   chan *writeReq
	stop   chan struct{}
	wg     sync.WaitGroup

	// committed is the number of committed events (the next position).
	committed atomic.Uint64
	notifyMu  sync.Mutex
	notify    chan struct{} // closed and replaced after every commit

	// damaged, if set at open, refuses every append: see loadState.
	damaged error

	// Writer goroutine state, touched by nothing else.
	nextPos  uint64
	lastTime int64
	cache    *hashCache
	stmts    writerStmts
}

var _ domain.EventStore = (*SQLite)(nil)

type writerStmts struct {
	conn                           *sql.Conn
	insEvent, insTree, streamRev   *sql.Stmt
	eventByID, eventsRange, hashAt *sql.Stmt
}

// writeReq is one unit of work for the writer: an append, or (for import) a
// function run inside the group-commit transaction.
type writeReq struct {
	stream   string
	expected domain.ExpectedRevision
	events   []domain.EventData
	fn       func(b *batch) error
	done     chan writeResult
}

type writeResult struct {
	res domain.AppendResult
	err error
}

// OpenSQLite opens (creating if needed) the ledger file at path and starts its
// writer. A file written by a newer dealreg, a file that is not a dealreg
// ledger, or a corrupt file is refused with a clear error.
func OpenSQLite(path string, opts Options) (*SQLite, error) {
	if opts.Clock == nil {
		opts.Clock = domain.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &SQLite{
		path:   path,
		clock:  opts.Clock,
		logger: opts.Logger,
		opts:   opts,
		reqs:   make(chan *writeReq, maxBatch),
		stop:   make(chan struct{}),
		notify: make(chan struct{}),
		cache:  newHashCache(1 << 14),
	}
	if err := s.open(); err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	s.wg.Add(1)
	go s.writer()
	return s, nil
}

func dsn(path string, pragmas ...string) string {
	var b strings.Builder
	b.WriteString("file:")
	b.WriteString(path)
	b.WriteString("?_txlock=immediate")
	for _, p := range append([]string{"busy_timeout(10000)"}, pragmas...) {
		b.WriteString("&_pragma=")
		b.WriteString(p)
	}
	return b.String()
}

func (s *SQLite) open() error {
	writePragmas := []string{"journal_mode(WAL)", "synchronous(FULL)"}
	if s.opts.maxPageCount > 0 {
		writePragmas = append(writePragmas, fmt.Sprintf("max_page_count(%d)", s.opts.maxPageCount))
	}
	wdb, err := sql.Open("sqlite", dsn(s.path, writePragmas...))
	if err != nil {
		return err
	}
	s.wdb = wdb
	wdb.SetMaxOpenConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetMaxIdleConns(1)

	ctx := context.Background()
	if err := s.migrate(ctx); err != nil {
		return describeOpenError(err)
	}
	var mode string
	if err := wdb.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return describeOpenError(err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, want wal", mode)
	}

	rdb, err := sql.Open("sqlite", dsn(s.path, "query_only(1)"))
	if err != nil {
		return err
	}
	s.rdb = rdb
	readers := max(4, 2*runtime.GOMAXPROCS(0))
	rdb.SetMaxOpenConns(readers)
	rdb.SetMaxIdleConns(readers)

	if err := s.prepareWriter(ctx); err != nil {
		return err
	}
	return s.loadState(ctx)
}

// describeOpenError turns SQLite's terse codes for unusable files into
// messages that tell an operator what is wrong.
func describeOpenError(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_NOTADB:
			return fmt.Errorf("the file is not a SQLite database (corrupt, or not a ledger): %w", err)
		case sqlite3.SQLITE_CORRUPT:
			return fmt.Errorf("the ledger file is corrupt: %w", err)
		case sqlite3.SQLITE_CANTOPEN:
			return fmt.Errorf("cannot open the ledger file (missing directory or no permission): %w", err)
		case sqlite3.SQLITE_FULL:
			return fmt.Errorf("%w: %v", domain.ErrStorageFull, err)
		}
	}
	return err
}

func (s *SQLite) migrate(ctx context.Context) error {
	var appID, version int
	if err := s.wdb.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return err
	}
	if err := s.wdb.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if appID != 0 && appID != applicationID {
		return fmt.Errorf("the file is a SQLite database of another application (application_id %#x), not a dealreg ledger", appID)
	}
	if appID == 0 {
		var tables int
		if err := s.wdb.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&tables); err != nil {
			return err
		}
		if tables > 0 {
			return errors.New("the file is a SQLite database that is not a dealreg ledger")
		}
	}
	if version > SchemaVersion {
		return fmt.Errorf("the ledger has schema version %d, newer than this dealreg supports (%d): upgrade dealreg", version, SchemaVersion)
	}
	for v := version + 1; v <= SchemaVersion; v++ {
		tx, err := s.wdb.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate to schema version %d: %w", v, err)
		}
		// PRAGMAs cannot take parameters; v and applicationID are ours.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d; PRAGMA application_id = %d", v, applicationID)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate to schema version %d: %w", v, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate to schema version %d: %w", v, err)
		}
	}
	return nil
}

func (s *SQLite) prepareWriter(ctx context.Context) error {
	conn, err := s.wdb.Conn(ctx)
	if err != nil {
		return err
	}
	st := &s.stmts
	st.conn = conn
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{
		{&st.insEvent, `INSERT INTO events (position, event_id, stream, revision, type, schema_version, data, metadata, recorded_at) VALUES (?,?,?,?,?,?,?,?,?)`},
		{&st.insTree, `INSERT INTO tree (idx, hash) VALUES (?,?)`},
		{&st.streamRev, `SELECT max(revision) FROM events WHERE stream = ?`},
		{&st.eventByID, `SELECT position, stream, revision FROM events WHERE event_id = ?`},
		{&st.eventsRange, `SELECT event_id, stream FROM events WHERE position BETWEEN ? AND ? ORDER BY position`},
		{&st.hashAt, `SELECT hash FROM tree WHERE idx = ?`},
	} {
		if *p.dst, err = conn.PrepareContext(ctx, p.q); err != nil {
			return fmt.Errorf("prepare %q: %w", p.q, err)
		}
	}
	return nil
}

func (s *SQLite) loadState(ctx context.Context) error {
	var maxPos, lastTime sql.NullInt64
	err := s.stmts.conn.QueryRowContext(ctx,
		`SELECT position, recorded_at FROM events ORDER BY position DESC LIMIT 1`).Scan(&maxPos, &lastTime)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return describeOpenError(err)
	}
	if maxPos.Valid {
		s.nextPos = uint64(maxPos.Int64) + 1
		s.lastTime = lastTime.Int64
	}
	var maxIdx sql.NullInt64
	if err := s.stmts.conn.QueryRowContext(ctx, `SELECT max(idx) FROM tree`).Scan(&maxIdx); err != nil {
		return describeOpenError(err)
	}
	have := int64(0)
	if maxIdx.Valid {
		have = maxIdx.Int64 + 1
	}
	if want := tlog.StoredHashCount(int64(s.nextPos)); have != want && !s.opts.noMerkle {
		// Keep the ledger readable, so it can be verified and exported,
		// but never extend a tree that no longer matches its events.
		s.damaged = fmt.Errorf("the ledger was altered: its Merkle tree holds %d hashes but %d events need %d; run dealreg verify", have, s.nextPos, want)
		s.logger.Error("ledger damaged, refusing writes", "path", s.path, "err", s.damaged)
	}
	s.committed.Store(s.nextPos)
	return nil
}

// Close stops accepting appends, lets the queued ones commit, and closes the
// file. It is safe to call more than once.
func (s *SQLite) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	s.wg.Wait()
	return s.closeDBs()
}

func (s *SQLite) closeDBs() error {
	var errs []error
	if s.stmts.conn != nil {
		errs = append(errs, s.stmts.conn.Close())
	}
	if s.rdb != nil {
		errs = append(errs, s.rdb.Close())
	}
	if s.wdb != nil {
		errs = append(errs, s.wdb.Close())
	}
	return errors.Join(errs...)
}

// Damaged returns why the ledger refuses writes, or nil. A ledger whose
// tree and events disagree at open is damaged: run Verify to find where.
func (s *SQLite) Damaged() error { return s.damaged }

// Path returns the ledger file's path.
func (s *SQLite) Path() string { return s.path }

// Append implements domain.EventStore.
func (s *SQLite) Append(ctx context.Context, stream string, expected domain.ExpectedRevision, events ...domain.EventData) (domain.AppendResult, error) {
	if err := validateAppend(stream, events); err != nil {
		return domain.AppendResult{}, err
	}
	if s.damaged != nil {
		return domain.AppendResult{}, s.damaged
	}
	events = compactEvents(events)
	r := &writeReq{stream: stream, expected: expected, events: events, done: make(chan writeResult, 1)}
	if err := s.enqueue(ctx, r); err != nil {
		return domain.AppendResult{}, err
	}
	select {
	case res := <-r.done:
		return res.res, res.err
	case <-ctx.Done():
		// The append may still commit; a retry with the same event IDs
		// is idempotent, so the caller can find out safely.
		return domain.AppendResult{}, ctx.Err()
	}
}

func (s *SQLite) enqueue(ctx context.Context, r *writeReq) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return domain.ErrClosed
	}
	select {
	case s.reqs <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// compactEvents returns a copy of events with data and metadata in compact
// JSON, the canonical form the ledger stores, hashes and exports; without
// it an export (which compacts) would not re-import to the same hashes.
func compactEvents(events []domain.EventData) []domain.EventData {
	out := make([]domain.EventData, len(events))
	for i, e := range events {
		out[i] = e
		out[i].Data = compactJSON(e.Data)
		if len(e.Metadata) == 0 {
			out[i].Metadata = json.RawMessage("{}")
		} else {
			out[i].Metadata = compactJSON(e.Metadata)
		}
	}
	return out
}

func compactJSON(b []byte) json.RawMessage {
	var buf bytes.Buffer
	buf.Grow(len(b))
	if err := json.Compact(&buf, b); err != nil {
		return b // validated before; keep the bytes rather than lose them
	}
	return buf.Bytes()
}

func validateAppend(stream string, events []domain.EventData) error {
	var fields []domain.FieldError
	add := func(field, code, msg string) {
		fields = append(fields, domain.FieldError{Field: field, Code: code, Message: msg})
	}
	switch {
	case stream == "":
		add("stream", "required", "stream name is required")
	case len(stream) > MaxStreamNameLen:
		add("stream", "too_long", fmt.Sprintf("stream name is longer than %d bytes", MaxStreamNameLen))
	}
	switch {
	case len(events) == 0:
		add("events", "required", "at least one event is required")
	case len(events) > MaxEventsPerAppend:
		add("events", "too_long", fmt.Sprintf("more than %d events in one append", MaxEventsPerAppend))
	}
	seen := make(map[uuid.UUID]struct{}, len(events))
	for i, e := range events {
		f := fmt.Sprintf("events[%d].", i)
		if e.ID == uuid.Nil {
			add(f+"id", "required", "event ID is required")
		} else if _, dup := seen[e.ID]; dup {
			add(f+"id", "duplicate", "event ID appears twice in one append")
		}
		seen[e.ID] = struct{}{}
		if e.Type == "" {
			add(f+"type", "required", "event type is required")
		} else if len(e.Type) > MaxEventTypeLen {
			add(f+"type", "too_long", fmt.Sprintf("event type is longer than %d bytes", MaxEventTypeLen))
		}
		if e.SchemaVersion < 1 {
			add(f+"schema_version", "out_of_range", "schema version must be 1 or more")
		}
		if !json.Valid(e.Data) {
			add(f+"data", "invalid", "data must be valid JSON")
		}
		if len(e.Metadata) > 0 && !json.Valid(e.Metadata) {
			add(f+"metadata", "invalid", "metadata must be valid JSON")
		}
		if len(e.Data)+len(e.Metadata) > MaxEventSize {
			add(f+"data", "too_long", fmt.Sprintf("event is larger than %d bytes", MaxEventSize))
		}
	}
	if fields != nil {
		return &domain.Error{Code: domain.EINVALID, Message: "the append is invalid", Fields: fields}
	}
	return nil
}

// writer is the single goroutine that writes. It takes the first queued
// request, then every request queued meanwhile (no linger: whatever arrived
// while the previous commit ran), and commits them in one transaction.
func (s *SQLite) writer() {
	defer s.wg.Done()
	batch := make([]*writeReq, 0, maxBatch)
	for {
		select {
		case r := <-s.reqs:
			batch = append(batch[:0], r)
		case <-s.stop:
			// Close: finish whatever was queued before it.
			for {
				batch = batch[:0]
				for len(batch) < maxBatch {
					select {
					case r := <-s.reqs:
						batch = append(batch, r)
						continue
					default:
					}
					break
				}
				if len(batch) == 0 {
					s.signal()
					return
				}
				s.commit(batch)
			}
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		s.commit(batch)
	}
}

// batch is the state of one group-commit transaction.
type batch struct {
	s         *SQLite
	tx        *sql.Tx
	ctx       context.Context
	nextPos   uint64
	lastTime  int64
	treeFirst int64
	pending   []tlog.Hash
	reader    overlayReader
	// st are the writer's statements bound to tx.
	insEvent, insTree, streamRev, eventByID, eventsRange *sql.Stmt
}

func (s *SQLite) commit(reqs []*writeReq) {
	ctx := context.Background()
	results := make([]writeResult, len(reqs))
	b, err := s.begin(ctx)
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
		err = b.tx.Commit()
	}
	if err != nil {
		if b != nil {
			b.tx.Rollback()
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
	s.nextPos, s.lastTime = b.nextPos, b.lastTime
	if !s.opts.noMerkle {
		s.cache.put(b.treeFirst, b.pending)
	}
	s.committed.Store(b.nextPos)
	s.signal()
	for i, r := range reqs {
		r.done <- results[i]
	}
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

func (s *SQLite) begin(ctx context.Context) (*batch, error) {
	tx, err := s.stmts.conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now().UnixNano()
	b := &batch{
		s:         s,
		tx:        tx,
		ctx:       ctx,
		nextPos:   s.nextPos,
		lastTime:  max(now, s.lastTime),
		treeFirst: tlog.StoredHashCount(int64(s.nextPos)),
	}
	b.insEvent = tx.StmtContext(ctx, s.stmts.insEvent)
	b.insTree = tx.StmtContext(ctx, s.stmts.insTree)
	b.streamRev = tx.StmtContext(ctx, s.stmts.streamRev)
	b.eventByID = tx.StmtContext(ctx, s.stmts.eventByID)
	b.eventsRange = tx.StmtContext(ctx, s.stmts.eventsRange)
	hashAt := tx.StmtContext(ctx, s.stmts.hashAt)
	b.reader = overlayReader{
		pendingFirst: b.treeFirst,
		cache:        s.cache,
		load: func(idx int64) (tlog.Hash, error) {
			var h []byte
			if err := hashAt.QueryRowContext(ctx, idx).Scan(&h); err != nil {
				return tlog.Hash{}, err
			}
			return hashFromBytes(h)
		},
	}
	return b, nil
}

func hashFromBytes(b []byte) (tlog.Hash, error) {
	var h tlog.Hash
	if len(b) != len(h) {
		return h, fmt.Errorf("stored hash has %d bytes, want %d", len(b), len(h))
	}
	copy(h[:], b)
	return h, nil
}

// append applies one append request inside the batch. Every check happens
// before the first insert, so a request that fails writes nothing.
func (b *batch) append(r *writeReq) (domain.AppendResult, error) {
	ctx := b.ctx
	if res, found, err := b.idempotent(r); err != nil || found {
		return res, err
	}
	for _, e := range r.events[1:] {
		var pos int64
		var stream string
		var rev int64
		err := b.eventByID.QueryRowContext(ctx, e.ID[:]).Scan(&pos, &stream, &rev)
		if err == nil {
			return domain.AppendResult{}, domain.ErrDuplicateEventID
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return domain.AppendResult{}, err
		}
	}
	var cur sql.NullInt64
	if err := b.streamRev.QueryRowContext(ctx, r.stream).Scan(&cur); err != nil {
		return domain.AppendResult{}, err
	}
	if !r.expected.Check(uint64(cur.Int64), cur.Valid) {
		return domain.AppendResult{}, &domain.WrongExpectedRevisionError{
			Stream: r.stream, Expected: r.expected, Actual: uint64(cur.Int64), ActualExists: cur.Valid,
		}
	}
	next := uint64(0)
	if cur.Valid {
		next = uint64(cur.Int64) + 1
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
			return domain.AppendResult{}, err
		}
		res = domain.AppendResult{NextExpectedRevision: rec.Revision, Position: rec.Position}
	}
	return res, nil
}

// idempotent reports whether r's events are already stored, in order, in r's
// stream: then the append is a retry and its original result is returned.
func (b *batch) idempotent(r *writeReq) (domain.AppendResult, bool, error) {
	var pos, rev int64
	var stream string
	err := b.eventByID.QueryRowContext(b.ctx, r.events[0].ID[:]).Scan(&pos, &stream, &rev)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.AppendResult{}, false, nil
	}
	if err != nil {
		return domain.AppendResult{}, false, err
	}
	if stream != r.stream {
		return domain.AppendResult{}, false, domain.ErrDuplicateEventID
	}
	last := pos + int64(len(r.events)) - 1
	rows, err := b.eventsRange.QueryContext(b.ctx, pos, last)
	if err != nil {
		return domain.AppendResult{}, false, err
	}
	defer rows.Close()
	i := 0
	for rows.Next() {
		var id []byte
		var st string
		if err := rows.Scan(&id, &st); err != nil {
			return domain.AppendResult{}, false, err
		}
		if i >= len(r.events) || st != r.stream || string(id) != string(r.events[i].ID[:]) {
			return domain.AppendResult{}, false, domain.ErrDuplicateEventID
		}
		i++
	}
	if err := rows.Err(); err != nil {
		return domain.AppendResult{}, false, err
	}
	if i != len(r.events) {
		return domain.AppendResult{}, false, domain.ErrDuplicateEventID
	}
	return domain.AppendResult{NextExpectedRevision: uint64(rev) + uint64(len(r.events)) - 1, Position: uint64(last)}, true, nil
}

// insert writes one fully formed event at b.nextPos and its Merkle hashes.
func (b *batch) insert(e domain.RecordedEvent) error {
	if e.Position != b.nextPos {
		return fmt.Errorf("insert: position %d, next is %d", e.Position, b.nextPos)
	}
	_, err := b.insEvent.ExecContext(b.ctx, int64(e.Position), e.ID[:], e.Stream, int64(e.Revision), e.Type,
		e.SchemaVersion, string(e.Data), string(e.Metadata), e.RecordedAt.UnixNano())
	if err != nil {
		return fmt.Errorf("insert event %d: %w", e.Position, err)
	}
	if !b.s.opts.noMerkle {
		b.reader.pending = b.pending
		hashes, err := tlog.StoredHashes(int64(e.Position), LeafData(e), &b.reader)
		if err != nil {
			return fmt.Errorf("tree hashes of event %d: %w", e.Position, err)
		}
		idx := b.treeFirst + int64(len(b.pending))
		for i, h := range hashes {
			if _, err := b.insTree.ExecContext(b.ctx, idx+int64(i), h[:]); err != nil {
				return fmt.Errorf("insert tree hash: %w", err)
			}
		}
		b.pending = append(b.pending, hashes...)
	}
	b.nextPos++
	return nil
}

// ReadStream implements domain.EventStore.
func (s *SQLite) ReadStream(ctx context.Context, stream string, opts domain.ReadStreamOptions) ([]domain.RecordedEvent, error) {
	if err := s.readable(); err != nil {
		return nil, err
	}
	q := selectEvents + ` WHERE stream = ?`
	args := []any{stream}
	order := ` ORDER BY revision`
	if opts.Direction == domain.Backwards {
		order = ` ORDER BY revision DESC`
		if !opts.FromEnd {
			q += ` AND revision <= ?`
			args = append(args, int64(opts.From))
		}
	} else {
		q += ` AND revision >= ?`
		args = append(args, int64(opts.From))
	}
	events, err := s.query(ctx, q+order+` LIMIT ?`, append(args, limit(opts.Count))...)
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", stream, err)
	}
	if len(events) == 0 {
		var one int
		err := s.rdb.QueryRowContext(ctx, `SELECT 1 FROM events WHERE stream = ? LIMIT 1`, stream).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, domain.ErrStreamNotFound
		}
		if err != nil {
			return nil, s.readError(err)
		}
	}
	return events, nil
}

// ReadAll implements domain.EventStore.
func (s *SQLite) ReadAll(ctx context.Context, opts domain.ReadAllOptions) ([]domain.RecordedEvent, error) {
	if err := s.readable(); err != nil {
		return nil, err
	}
	var q string
	var args []any
	switch {
	case opts.Direction == domain.Backwards && opts.FromEnd:
		q = selectEvents + ` ORDER BY position DESC LIMIT ?`
	case opts.Direction == domain.Backwards:
		q = selectEvents + ` WHERE position <= ? ORDER BY position DESC LIMIT ?`
		args = append(args, int64(min(opts.From, 1<<62)))
	default:
		q = selectEvents + ` WHERE position >= ? ORDER BY position LIMIT ?`
		args = append(args, int64(min(opts.From, 1<<62)))
	}
	events, err := s.query(ctx, q, append(args, limit(opts.Count))...)
	if err != nil {
		return nil, fmt.Errorf("read all: %w", err)
	}
	return events, nil
}

const selectEvents = `SELECT position, event_id, stream, revision, type, schema_version, data, metadata, recorded_at FROM events`

func limit(count int) int64 {
	if count <= 0 {
		return -1
	}
	return int64(count)
}

func (s *SQLite) readable() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return domain.ErrClosed
	}
	return nil
}

func (s *SQLite) readError(err error) error {
	if s.readable() != nil || errors.Is(err, sql.ErrConnDone) || strings.Contains(err.Error(), "database is closed") {
		return domain.ErrClosed
	}
	return err
}

func (s *SQLite) query(ctx context.Context, q string, args ...any) ([]domain.RecordedEvent, error) {
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, s.readError(err)
	}
	defer rows.Close()
	var out []domain.RecordedEvent
	if n, ok := args[len(args)-1].(int64); ok && n > 0 {
		out = make([]domain.RecordedEvent, 0, min(n, 4096))
	}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.readError(err)
	}
	return out, nil
}

type scanner interface{ Scan(dest ...any) error }

func scanEvent(row scanner) (domain.RecordedEvent, error) {
	var (
		e              domain.RecordedEvent
		pos, rev, at   int64
		id, data, meta []byte
	)
	if err := row.Scan(&pos, &id, &e.Stream, &rev, &e.Type, &e.SchemaVersion, &data, &meta, &at); err != nil {
		return e, err
	}
	var err error
	if e.ID, err = uuid.FromBytes(id); err != nil {
		return e, fmt.Errorf("event at position %d: bad event ID: %w", pos, err)
	}
	e.Position, e.Revision = uint64(pos), uint64(rev)
	e.Data, e.Metadata = data, meta
	e.RecordedAt = time.Unix(0, at).UTC()
	return e, nil
}

// Head returns the number of committed events, which is also the position
// the next event will get.
func (s *SQLite) Head() uint64 { return s.committed.Load() }

// SubscribeAll implements domain.EventStore.
func (s *SQLite) SubscribeAll(ctx context.Context, from uint64) (domain.Subscription, error) {
	if err := s.readable(); err != nil {
		return nil, err
	}
	return &subscription{s: s, next: from}, nil
}

// subscription pulls pages from the ledger in position order and, once it
// has caught up, waits for the writer's commit signal. Because it always
// reads committed rows by position, it can neither skip nor repeat an event.
type subscription struct {
	s      *SQLite
	next   uint64
	buf    []domain.RecordedEvent
	closed bool
}

const subscriptionPage = 512

func (sub *subscription) Next(ctx context.Context) (domain.RecordedEvent, error) {
	for {
		if sub.closed {
			return domain.RecordedEvent{}, domain.ErrClosed
		}
		if len(sub.buf) > 0 {
			e := sub.buf[0]
			sub.buf = sub.buf[1:]
			return e, nil
		}
		if err := ctx.Err(); err != nil {
			return domain.RecordedEvent{}, err
		}
		wait := sub.s.changed()
		if sub.s.committed.Load() > sub.next {
			events, err := sub.s.ReadAll(ctx, domain.ReadAllOptions{From: sub.next, Count: subscriptionPage})
			if err != nil {
				return domain.RecordedEvent{}, err
			}
			if len(events) > 0 {
				sub.buf = events
				sub.next = events[len(events)-1].Position + 1
				continue
			}
		}
		select {
		case <-wait:
		case <-sub.s.stop:
			return domain.RecordedEvent{}, domain.ErrClosed
		case <-ctx.Done():
			return domain.RecordedEvent{}, ctx.Err()
		}
	}
}

func (sub *subscription) Close() error {
	sub.closed = true
	sub.buf = nil
	return nil
}

// Exists reports whether a ledger file exists at path, for commands that must
// not create one.
func Exists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}
