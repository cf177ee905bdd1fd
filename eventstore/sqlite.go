package eventstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dealreg/dealreg/domain"
	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"
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

var appendLimits = domain.AppendLimits{
	MaxEvents: MaxEventsPerAppend, MaxEventBytes: MaxEventSize, MaxStreamName: MaxStreamNameLen, MaxEventType: MaxEventTypeLen,
}

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
	// NoSync is for bulk loads (dealreg generate) only: commits are not
	// flushed to disk (synchronous=OFF), so an append is acknowledged
	// before it is durable, and Close flushes the file once at the end. A
	// process that dies loses nothing the OS already has, but an OS crash
	// or power loss during the load may lose or corrupt the ledger: build
	// it again. Never set it for a ledger that takes real requests.
	NoSync bool
	// OnCommit, if set, is told about every successful group commit, on
	// the writer goroutine once the commit is durable and acknowledged: it must
	// return quickly (it delays the next commit), e.g. update metrics.
	OnCommit func(CommitStats)

	// Signer, if set, signs a checkpoint of the tree in every commit that
	// appends (and on SignHead), stored in the same transaction: see
	// checkpoints.go and docs/proofs.md. Its name is the log's origin.
	Signer note.Signer

	noMerkle     bool // benchmarks only: measure the tree's cost
	maxPageCount int  // tests only: simulate a full disk
}

// CommitStats describes one group commit.
type CommitStats struct {
	Requests int           // appends (and other writes) committed together
	Events   int           // events they appended
	Took     time.Duration // from the start of the transaction to durable
}

// SQLite is the embedded event store: one SQLite file in WAL mode with
// synchronous=FULL, one writer goroutine doing group commit, and a pool of
// concurrent readers.
type SQLite struct {
	path string
	wdb  *sql.DB
	rdb  *sql.DB
	raw  *rawPool // the read path's connections (rawread.go)
	// prepared are rdb's prepared statements (checkpoints.go).
	prepared readStmts
	clock    domain.Clock
	logger   *slog.Logger
	opts     Options

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

	// commits and committedReqs count successful group commits and the
	// requests they carried, for benchmarks (see BatchStats in tests).
	commits, committedReqs atomic.Uint64

	// Refresh's requests: a caller counts itself into refreshWanted and
	// kicks the writer; the writer notes how many callers it covers before
	// it looks, so one look serves every caller that arrived before it.
	refreshKick   chan struct{} // capacity 1: one pending look at most
	refreshMu     sync.Mutex
	refreshWanted uint64
	refreshDone   uint64 // callers covered by the last completed look
	refreshErr    error  // its outcome
	refreshed     chan struct{}

	// damaged, if set at open, refuses every append: see loadState.
	damaged error
	// contradicted, if set at open, is the stored checkpoint the ledger
	// contradicts (checkpoints.go); it refuses every append too.
	contradicted *CheckpointError
	// signedSize is the size of the largest stored checkpoint (-1: none),
	// kept by the writer goroutine.
	signedSize int64

	// Writer goroutine state, touched by nothing else.
	nextPos  uint64
	lastTime int64
	// dataVersion is PRAGMA data_version of the writer's connection when
	// nextPos and lastTime were last read from the file. It changes only
	// when another connection (another handle, another process) commits:
	// then this state is stale and is read again (see refresh).
	dataVersion int64
	cache       *hashCache
	revisions   *revisionCache
	// conn is the writer's connection, w its statements, prepared once
	// when the writer starts (see wconn.go): the writer runs BEGIN and
	// COMMIT itself rather than through database/sql's Tx, which would
	// prepare every statement again in every transaction.
	conn *sql.Conn
	w    *writerConn
}

var _ domain.EventStore = (*SQLite)(nil)

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
	useFdatasync.Do(func() {
		// Where unavailable (macOS, Windows) SQLite keeps its own choice.
		sqlite.Fdatasync(true)
	})
	s := &SQLite{
		path:      path,
		clock:     opts.Clock,
		logger:    opts.Logger,
		opts:      opts,
		reqs:      make(chan *writeReq, maxBatch),
		stop:      make(chan struct{}),
		notify:    make(chan struct{}),
		cache:     newHashCache(1 << 14),
		revisions: newRevisionCache(1 << 16),
	}
	s.refreshKick, s.refreshed = make(chan struct{}, 1), make(chan struct{})
	err := s.open()
	if err == nil {
		// The writer prepares its statements and loads the ledger's
		// state on its own connection before it takes requests.
		ready := make(chan error, 1)
		s.wg.Add(1)
		go s.writer(ready)
		if err = <-ready; err != nil {
			close(s.stop)
			s.wg.Wait()
		}
	}
	if err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("open ledger %s: %w", path, err)
	}
	return s, nil
}

// useFdatasync makes SQLite commit with fdatasync(2) rather than fsync(2),
// process-wide (the ledger is this process's only SQLite user). fdatasync
// flushes the data and the size, everything a later read needs, and skips
// the timestamp update that fsync pushes through the file system's journal:
// just as durable, and what SQLite's own Linux builds do; modernc's
// transpiled library defaults to fsync.
var useFdatasync sync.Once

var uriPathEscaper = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

func dsn(path string, pragmas ...string) string {
	var b strings.Builder
	b.WriteString("file:")
	// A URI path ends at '?' or '#' and decodes %XX: escape those, or a
	// ledger in a directory named "a#b" would silently open "a".
	b.WriteString(uriPathEscaper.Replace(path))
	b.WriteString("?_txlock=immediate")
	for _, p := range append([]string{"busy_timeout(10000)"}, pragmas...) {
		b.WriteString("&_pragma=")
		b.WriteString(p)
	}
	return b.String()
}

func (s *SQLite) open() error {
	writePragmas := []string{"journal_mode(WAL)", "synchronous(FULL)"}
	if s.opts.NoSync {
		// Not durable until Close: bulk loads, and the benchmark that
		// splits an append's time between CPU and disk.
		writePragmas[1] = "synchronous(OFF)"
	}
	// The writer's page cache holds the hot pages of the indexes, which
	// random event IDs spread over the whole event_id index.
	writePragmas = append(writePragmas, "cache_size(-65536)")
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

	// Readers map the file (up to 1 GiB) instead of a pread per page:
	// measured ~15% faster sequential reads of the log.
	rdb, err := sql.Open("sqlite", dsn(s.path, "query_only(1)", "mmap_size(1073741824)"))
	if err != nil {
		return err
	}
	s.rdb = rdb
	readers := max(4, 2*runtime.GOMAXPROCS(0))
	rdb.SetMaxOpenConns(readers)
	rdb.SetMaxIdleConns(readers)

	s.raw = newRawPool(s.path, readers)
	s.conn, err = wdb.Conn(ctx)
	return err
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

func (s *SQLite) loadState() error {
	// data_version first: a commit by another connection after it is then
	// seen as a change by the writer's first check, never missed.
	v, err := s.readDataVersion()
	if err != nil {
		return describeOpenError(err)
	}
	s.dataVersion = v
	if err := s.readLast(); err != nil {
		return describeOpenError(err)
	}
	if s.nextPos > 0 && !s.opts.noMerkle {
		// The last event must hold exactly the hashes its position needs.
		last := int64(s.nextPos - 1)
		hashes, err := s.hashesAt(last)
		if err != nil {
			return describeOpenError(err)
		}
		want := tlog.StoredHashCount(last+1) - tlog.StoredHashIndex(0, last)
		if int64(len(hashes)) != want*tlog.HashSize {
			// Keep the ledger readable, so it can be verified and
			// exported, but never extend a tree that no longer matches.
			s.damaged = fmt.Errorf("the ledger was altered: event %d holds %d bytes of tree hashes, want %d; run dealreg verify", last, len(hashes), want*tlog.HashSize)
			s.logger.Error("ledger damaged, refusing writes", "path", s.path, "err", s.damaged)
		}
	}
	if err := s.checkLatestCheckpoint(); err != nil {
		return describeOpenError(err)
	}
	s.committed.Store(s.nextPos)
	return nil
}

// readLast sets nextPos and lastTime from the newest stored event.
func (s *SQLite) readLast() error {
	row, found, err := s.w.queryRow(s.w.lastEvent)
	if err != nil {
		return err
	}
	s.nextPos, s.lastTime = 0, 0
	if found {
		pos, _, err := int64Value(row[0])
		if err != nil {
			return err
		}
		at, _, err := int64Value(row[1])
		if err != nil {
			return err
		}
		s.nextPos, s.lastTime = uint64(pos)+1, at
	}
	return nil
}

func (s *SQLite) readDataVersion() (int64, error) {
	row, found, err := s.w.queryRow(s.w.dataVersion)
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, errors.New("PRAGMA data_version returned nothing")
	}
	v, _, err := int64Value(row[0])
	return v, err
}

// hashesAt returns the hashes column of the event at pos.
func (s *SQLite) hashesAt(pos int64) ([]byte, error) {
	row, found, err := s.w.queryRow(s.w.hashesAt, pos)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("no event at position %d", pos)
	}
	hashes, ok := row[0].([]byte)
	if !ok && row[0] != nil {
		return nil, fmt.Errorf("event %d: hashes column holds a %T", pos, row[0])
	}
	return hashes, nil
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
	err := s.closeDBs()
	if s.opts.NoSync && err == nil {
		err = s.flush()
	}
	return err
}

// flush makes a NoSync ledger durable once its connections are closed: the
// last one checkpointed the WAL into the file without flushing it.
func (s *SQLite) flush() error {
	for _, path := range []string{s.path, s.path + "-wal", filepath.Dir(s.path)} {
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // no WAL left: the checkpoint removed it
		}
		if err != nil {
			return fmt.Errorf("flush ledger: %w", err)
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return fmt.Errorf("flush ledger %s: %w", path, err)
		}
	}
	return nil
}

func (s *SQLite) closeDBs() error {
	// The writer finalized its statements when it stopped: closing the
	// last connection then checkpoints the WAL and removes it.
	var errs []error
	if s.raw != nil {
		s.raw.close()
	}
	if s.rdb != nil {
		s.prepared.close()
		errs = append(errs, s.rdb.Close())
	}
	if s.conn != nil {
		errs = append(errs, s.conn.Close())
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
	events, fields := domain.CanonicalAppend(stream, events, appendLimits)
	if err := domain.InvalidAppend(fields); err != nil {
		return domain.AppendResult{}, err
	}
	if s.damaged != nil {
		return domain.AppendResult{}, s.damaged
	}
	if s.contradicted != nil {
		return domain.AppendResult{}, s.contradicted
	}
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

// ReadStream implements domain.EventStore.
func (s *SQLite) ReadStream(ctx context.Context, stream string, opts domain.ReadStreamOptions) ([]domain.RecordedEvent, error) {
	if err := s.readable(); err != nil {
		return nil, err
	}
	q := selectRead + ` WHERE stream = ?`
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
		if opts.Direction == domain.Backwards && opts.FromEnd || opts.Direction != domain.Backwards && opts.From == 0 {
			// The whole stream was asked for: it has no event.
			return nil, domain.ErrStreamNotFound
		}
		stmt, err := s.readStmt(ctx, `SELECT 1 FROM events WHERE stream = ? LIMIT 1`)
		if err != nil {
			return nil, s.readError(err)
		}
		var one int
		err = stmt.QueryRowContext(ctx, stream).Scan(&one)
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
		q = selectRead + ` ORDER BY position DESC LIMIT ?`
	case opts.Direction == domain.Backwards:
		q = selectRead + ` WHERE position <= ? ORDER BY position DESC LIMIT ?`
		args = append(args, int64(min(opts.From, 1<<62)))
	default:
		q = selectRead + ` WHERE position >= ? ORDER BY position LIMIT ?`
		args = append(args, int64(min(opts.From, 1<<62)))
	}
	events, err := s.query(ctx, q, append(args, limit(opts.Count))...)
	if err != nil {
		return nil, fmt.Errorf("read all: %w", err)
	}
	return events, nil
}

const (
	eventColumns       = `position, event_id, stream, revision, type, schema_version, data, metadata, recorded_at`
	selectEvents       = `SELECT ` + eventColumns + ` FROM events`
	selectEventsHashes = `SELECT ` + eventColumns + `, hashes FROM events`

	// selectRead is selectEvents for the read path (see query and
	// rawread.go).
	selectRead = `SELECT ` + rawColumns + ` FROM events`
)

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

// query runs a selectRead query on a raw read connection (see rawread.go).
func (s *SQLite) query(ctx context.Context, q string, args ...any) ([]domain.RecordedEvent, error) {
	c, err := s.raw.get(ctx)
	if err != nil {
		return nil, s.readError(err)
	}
	capacity := 0
	if n, ok := args[len(args)-1].(int64); ok && n > 0 {
		capacity = int(min(n, 4096))
	}
	events, err := c.readEvents(ctx, q, args, capacity)
	s.raw.put(c)
	if err != nil {
		return nil, s.readError(err)
	}
	return events, nil
}

// textValue reads a TEXT column as the driver returns it.
func textValue(v driver.Value) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case []byte:
		return string(v), true
	}
	return "", false
}

type scanner interface{ Scan(dest ...any) error }

// scanEvent scans a row of selectEvents, with any extra columns into extra.
func scanEvent(row scanner, extra ...any) (domain.RecordedEvent, error) {
	var (
		e              domain.RecordedEvent
		pos, rev, at   int64
		id, data, meta []byte
	)
	if err := row.Scan(append([]any{&pos, &id, &e.Stream, &rev, &e.Type, &e.SchemaVersion, &data, &meta, &at}, extra...)...); err != nil {
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

// NextBatch is Next that hands over every event already read with the
// first one: a follower applies them as one batch.
func (sub *subscription) NextBatch(ctx context.Context) ([]domain.RecordedEvent, error) {
	e, err := sub.Next(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]domain.RecordedEvent, 0, 1+len(sub.buf))
	out = append(out, e)
	out = append(out, sub.buf...)
	sub.buf = nil
	return out, nil
}

func (sub *subscription) Close() error {
	sub.closed = true
	sub.buf = nil
	return nil
}
