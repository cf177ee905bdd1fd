package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/google/uuid"
	_ "modernc.org/sqlite" // the database/sql driver of the state database

	"github.com/dealreg/dealreg/domain"
)

// SchemaVersion is the version of the state database's layout and of what
// the views keep in it. Bump it whenever a view changes what it stores or
// how it folds an event: a state database of another version is discarded
// and rebuilt from the ledger, never trusted.
const SchemaVersion = 15

// State is the durable home of the read side: a SQLite database beside the
// ledger (views.db) that holds every view's state together with the one
// checkpoint they share, written in the same transaction. It is a cache of
// the ledger, never a source of truth: Open discards it whenever it cannot
// prove that it was built from this ledger by this schema.
type State struct {
	path string
	db   *sql.DB
	// next is the checkpoint read at open: the next global position to
	// apply. fingerprint is the ID of the event just before it.
	next uint64
	// Discarded says why a stored state was thrown away at open, or "".
	Discarded string
}

// stateSchema creates the tables. The registrations table carries the
// columns the API filters and sorts by, each behind an index, and
// registration_docs the view and detail as JSON; small views keep one JSON
// row per entity in rows.
const stateSchema = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rows (
	view TEXT NOT NULL,
	key  TEXT NOT NULL,
	body BLOB NOT NULL,
	PRIMARY KEY (view, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS registrations (
	pos          INTEGER PRIMARY KEY,  -- of RegistrationDrafted: the list order, so a page is one range of the table
	id           TEXT NOT NULL UNIQUE,
	partner_id   TEXT NOT NULL,
	status       TEXT NOT NULL,
	type         TEXT NOT NULL,
	country      TEXT NOT NULL,
	region       TEXT NOT NULL,
	awaiting     INTEGER NOT NULL,
	last_sub_pos INTEGER NOT NULL,
	protected    INTEGER NOT NULL,
	lapses_at    INTEGER NOT NULL,
	industry     TEXT NOT NULL,     -- the vertical, lower case
	stage        TEXT NOT NULL,     -- buying stage
	close_q      TEXT NOT NULL,     -- expected-close quarter, "2026-Q3" ("" without a date)
	currency     TEXT NOT NULL,
	value_e4     INTEGER NOT NULL,  -- estimated value in ten-thousandths (amounts have at most 4 decimals): sums are exact
	products     TEXT NOT NULL,     -- product lines, lower case, each between '|': "|hr management|payroll|"
	progress_at  INTEGER NOT NULL,  -- last progress (update, approval, extension, renewal), unix ns; 0 if none
	account_key  TEXT NOT NULL,     -- the company name normalised (match.Normalise), for the ownership query
	domain_key   TEXT NOT NULL,     -- the registrable web domain, "" without one
	updated_pos  INTEGER NOT NULL,  -- of the latest event: the order of sort=updated
	expires_at   INTEGER NOT NULL   -- lapses_at while protected, else the largest integer: the order of sort=expires
);
-- Each registration's view and detail as JSON, apart from the columns above
-- so that a filter, a sort or the summary reads narrow rows (about 150 bytes
-- instead of 3 KB): a query finds its rows in registrations, then reads the
-- JSON of the rows it answers with only.
CREATE TABLE IF NOT EXISTS registration_docs (
	pos    INTEGER PRIMARY KEY,     -- registrations.pos
	view   BLOB NOT NULL,
	detail BLOB NOT NULL
);
-- Every version of each registration's filter and summary columns (history.go):
-- the list and the summary as of a past position.
CREATE TABLE IF NOT EXISTS registration_history (
	valid_from  INTEGER PRIMARY KEY, -- position of the event that made this version
	valid_to    INTEGER NOT NULL,    -- position of the next version's event; the largest integer while current
	reg_pos     INTEGER NOT NULL,    -- the registration (registrations.pos)
	partner_id  TEXT NOT NULL,
	status      TEXT NOT NULL,
	type        TEXT NOT NULL,
	country     TEXT NOT NULL,
	region      TEXT NOT NULL,
	industry    TEXT NOT NULL,
	stage       TEXT NOT NULL,
	close_q     TEXT NOT NULL,
	currency    TEXT NOT NULL,
	value_e4    INTEGER NOT NULL,
	products    TEXT NOT NULL,
	protected   INTEGER NOT NULL,
	lapses_at   INTEGER NOT NULL,
	progress_at INTEGER NOT NULL
);
` + analyticsSchema + stateIndexes

// stateIndexes are the registrations table's secondary indexes: what each
// query of queries.go and summary.go reads. A catch-up from an empty state
// drops them and builds them once at its end (see State.dropIndexes).
const stateIndexes = `
CREATE INDEX IF NOT EXISTS registrations_partner ON registrations (partner_id, pos);
CREATE INDEX IF NOT EXISTS registrations_status ON registrations (status, pos);
CREATE INDEX IF NOT EXISTS registrations_queue ON registrations (last_sub_pos) WHERE awaiting = 1;
CREATE INDEX IF NOT EXISTS registrations_lapse ON registrations (lapses_at) WHERE protected = 1;
CREATE INDEX IF NOT EXISTS registrations_account ON registrations (account_key, pos);
CREATE INDEX IF NOT EXISTS registrations_domain ON registrations (domain_key, pos) WHERE domain_key != '';
-- The orders of List's sorts (sort.go); each ends with pos, the rowid.
CREATE INDEX IF NOT EXISTS registrations_updated ON registrations (updated_pos);
CREATE INDEX IF NOT EXISTS registrations_value ON registrations (currency, value_e4);
CREATE INDEX IF NOT EXISTS registrations_expires ON registrations (expires_at);
-- An as-of list walks the versions in the registrations' order.
CREATE INDEX IF NOT EXISTS registration_history_list ON registration_history (reg_pos, valid_to);
` + analyticsIndexes

// secondaryIndexes names the indexes of stateIndexes.
var secondaryIndexes = []string{"registrations_partner", "registrations_status", "registrations_queue", "registrations_lapse",
	"registrations_account", "registrations_domain",
	"registrations_updated", "registrations_value", "registrations_expires", "registration_history_list"}

func init() { secondaryIndexes = append(secondaryIndexes, analyticsIndexNames...) }

// dropIndexes drops the secondary indexes, for a catch-up from an empty
// state: maintaining seven indexes row by row, over upserts in random key
// order, costs several times what building each once from the finished
// table does. Nothing is lost if the process stops before createIndexes:
// every open lays stateIndexes over the tables again.
func (s *State) dropIndexes(ctx context.Context) error {
	for _, name := range secondaryIndexes {
		if _, err := s.db.ExecContext(ctx, "DROP INDEX IF EXISTS "+name); err != nil { // names are ours
			return fmt.Errorf("drop index %s: %w", name, err)
		}
	}
	return nil
}

// createIndexes builds the secondary indexes dropIndexes dropped.
func (s *State) createIndexes(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, stateIndexes); err != nil {
		return fmt.Errorf("create indexes: %w", err)
	}
	return nil
}

// LedgerHead is what OpenState needs of the ledger to trust a stored
// state: its head, and the event at a position.
type LedgerHead interface {
	ReadAll(ctx context.Context, opts domain.ReadAllOptions) ([]domain.RecordedEvent, error)
}

// OpenState opens (creating if needed) the state database at path and
// checks it against ledger. A state written by another schema version, or
// whose checkpoint is past the ledger's head or names an event the ledger
// does not hold at that position (a restored or a different ledger), is
// removed and started empty; State.Discarded says why. A path of ""
// opens a private in-memory database (as-of replays, tests).
func OpenState(ctx context.Context, path string, ledger LedgerHead) (*State, error) {
	s := &State{path: path}
	var why string
	if err := s.open(ctx); err != nil {
		// Tables of another layout (a state written by an older binary,
		// whose schema this one's cannot be laid over): discarded below,
		// like any other state of another schema.
		var layout *layoutError
		if !errors.As(err, &layout) {
			return nil, err
		}
		why = "its tables are not those of schema " + strconv.Itoa(SchemaVersion) + " (" + layout.err.Error() + ")"
	} else if why, err = s.check(ctx, ledger); err != nil {
		s.db.Close()
		return nil, err
	}
	if why != "" {
		if s.db != nil {
			s.db.Close()
		}
		if err := removeDB(path); err != nil {
			return nil, fmt.Errorf("discard state %s: %w", path, err)
		}
		if err := s.open(ctx); err != nil {
			return nil, err
		}
		s.next, s.Discarded = 0, why
	}
	return s, nil
}

func removeDB(path string) error {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

func (s *State) open(ctx context.Context) error {
	dsn := "file::memory:?_txlock=immediate"
	if s.path != "" {
		// synchronous=NORMAL in WAL mode: a crash may lose the latest
		// commits but never tears one, so state and checkpoint stay
		// together and the tail is applied again from the ledger.
		dsn = "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(s.path) +
			"?_txlock=immediate&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-32768)&_pragma=mmap_size(1073741824)&_pragma=temp_store(MEMORY)"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("open state: %w", err)
	}
	if s.path == "" {
		// Each connection to :memory: is its own database.
		db.SetMaxOpenConns(1)
	} else {
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(maxIdleConns)
	}
	db.SetConnMaxLifetime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return fmt.Errorf("open state %s: %w", s.path, err)
	}
	if _, err := db.ExecContext(ctx, stateSchema); err != nil {
		db.Close()
		return &layoutError{err: err}
	}
	s.db = db
	keepStatements(db)
	return nil
}

// layoutError is a state database whose tables the schema cannot be laid
// over: it was written by a binary of another schema.
type layoutError struct{ err error }

func (e *layoutError) Error() string { return "state database layout: " + e.err.Error() }

// check returns why the stored state cannot be trusted, or "".
func (s *State) check(ctx context.Context, ledger LedgerHead) (string, error) {
	meta := map[string]string{}
	rows, err := s.db.QueryContext(ctx, "SELECT k, v FROM meta")
	if err != nil {
		return "", fmt.Errorf("read state: %w", err)
	}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return "", err
		}
		meta[k] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", err
	}
	if len(meta) == 0 {
		return "", nil // new
	}
	if view, ok := meta["rebuilding"]; ok {
		return fmt.Sprintf("a rebuild of %s was interrupted", view), nil
	}
	if meta["schema"] != strconv.Itoa(SchemaVersion) {
		return fmt.Sprintf("schema version %q, this binary writes %d", meta["schema"], SchemaVersion), nil
	}
	next, err := strconv.ParseUint(meta["next"], 10, 64)
	if err != nil {
		return "checkpoint unreadable", nil
	}
	if next == 0 {
		return "", nil
	}
	if ledger == nil {
		return "no ledger to check the checkpoint against", nil
	}
	evs, err := ledger.ReadAll(ctx, domain.ReadAllOptions{From: next - 1, Count: 1})
	if err != nil {
		return "", fmt.Errorf("check state checkpoint: %w", err)
	}
	if len(evs) == 0 || evs[0].Position != next-1 {
		return fmt.Sprintf("checkpoint %d is ahead of the ledger", next), nil
	}
	if evs[0].ID.String() != meta["fingerprint"] {
		return fmt.Sprintf("the ledger holds another event at position %d than the state was built from", next-1), nil
	}
	s.next = next
	return "", nil
}

// Checkpoint returns the next global position the stored state needs.
func (s *State) Checkpoint() uint64 { return s.next }

// DB returns the database, for the views' queries.
func (s *State) DB() *sql.DB { return s.db }

// maxIdleConns is how many idle connections to views.db are kept.
const maxIdleConns = 8

// releaseIdle closes the idle connections, and with them their page
// caches; later queries open new ones as they need them.
func (s *State) releaseIdle() {
	if s.path == "" {
		return // each connection to :memory: is its own database
	}
	s.db.SetMaxIdleConns(0)
	s.db.SetMaxIdleConns(maxIdleConns)
}

// Path returns the file the state lives in ("" in memory).
func (s *State) Path() string { return s.path }

const saveCheckpointSQL = `INSERT INTO meta (k, v) VALUES ('schema', ?), ('next', ?), ('fingerprint', ?)
		ON CONFLICT (k) DO UPDATE SET v = excluded.v`

// saveCheckpoint records, inside tx, that every event below next (the
// last one being last) is applied.
func saveCheckpoint(ctx context.Context, tx *sql.Tx, next uint64, last uuid.UUID) error {
	_, err := execTx(ctx, tx, saveCheckpointSQL, strconv.Itoa(SchemaVersion), strconv.FormatUint(next, 10), last.String())
	return err
}

// Reset empties the state: every view and the checkpoint.
func (s *State) Reset(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, "DELETE FROM meta; DELETE FROM rows; DELETE FROM registrations; DELETE FROM registration_docs; DELETE FROM registration_history; DELETE FROM analytics_facts; DELETE FROM analytics_cohorts;")
	s.next = 0
	return err
}

// StartRebuild empties what the named views keep (tables is the SQL table
// a view owns, rows the names it keeps rows under) and marks the state as
// being rebuilt, in one transaction: a state whose rebuild is interrupted
// is discarded at the next open, never trusted. FinishRebuild clears the
// mark.
func (s *State) StartRebuild(ctx context.Context, name string, tables, rows []string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, t := range tables {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil { // names are ours, never input
			return err
		}
	}
	for _, r := range rows {
		if _, err := tx.ExecContext(ctx, "DELETE FROM rows WHERE view = ?", r); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO meta (k, v) VALUES ('rebuilding', ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v", name); err != nil {
		return err
	}
	return tx.Commit()
}

// FinishRebuild clears the mark StartRebuild set.
func (s *State) FinishRebuild(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, "DELETE FROM meta WHERE k = 'rebuilding'")
	return err
}

// Close closes the database.
func (s *State) Close() error {
	forgetStatements(s.db)
	return s.db.Close()
}
