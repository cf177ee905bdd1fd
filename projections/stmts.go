package projections

import (
	"context"
	"database/sql"
	"sync"
)

// The API's reads of views.db (a registration's row, a page of a list, a
// summary) are a handful of query texts run thousands of times a second.
// Through the driver, an unprepared query is prepared again at every call,
// which cost more than running it (a point read by primary key). So those
// queries are prepared once per state database and kept: database/sql
// prepares a kept statement on each connection once, then reuses it there.

// maxStatements bounds how many query texts are kept per process: the list
// filters combine into a few hundred texts at most; past the bound a query
// is prepared for the call as before.
const maxStatements = 512

type stmtKey struct {
	db *sql.DB
	q  string
}

var statements = struct {
	mu sync.Mutex
	m  map[stmtKey]*sql.Stmt
}{m: map[stmtKey]*sql.Stmt{}}

// statement returns q prepared on db, kept for later calls; nil (and no
// error) when the bound is reached: the caller then queries db itself.
// The lock is not held while preparing, which waits for a connection.
func statement(db *sql.DB, q string) (*sql.Stmt, error) {
	k := stmtKey{db, q}
	statements.mu.Lock()
	st, ok := statements.m[k]
	full := len(statements.m) >= maxStatements
	statements.mu.Unlock()
	if ok || full {
		return st, nil
	}
	st, err := db.Prepare(q)
	if err != nil {
		return nil, err
	}
	statements.mu.Lock()
	defer statements.mu.Unlock()
	if kept, ok := statements.m[k]; ok {
		st.Close()
		return kept, nil
	}
	statements.m[k] = st
	return st, nil
}

// kept returns the statement kept for q on db, if one was prepared.
func kept(db *sql.DB, q string) *sql.Stmt {
	statements.mu.Lock()
	defer statements.mu.Unlock()
	return statements.m[stmtKey{db, q}]
}

// keepStatements prepares the state's writes on db once, when it opens:
// inside a commit's transaction a statement can only be reused, never
// prepared on the database (that waits for another connection, and an
// in-memory state has one).
func keepStatements(db *sql.DB) {
	for _, q := range []string{putRowSQL, deleteRowSQL, saveCheckpointSQL, upsertRegistrationSQL, upsertDocSQL, getCohortSQL, putCohortSQL, deleteCohortSQL} {
		_, _ = statement(db, q) // without it, a write prepares for the call
	}
}

// query runs q on db through its kept statement.
func query(db *sql.DB, q string, args ...any) (*sql.Rows, error) {
	st, err := statement(db, q)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return db.Query(q, args...)
	}
	return st.Query(args...)
}

// queryRow runs q on db through its kept statement, for one row.
func queryRow(db *sql.DB, q string, args ...any) *sql.Row {
	st, err := statement(db, q)
	if err != nil || st == nil {
		return db.QueryRow(q, args...)
	}
	return st.QueryRow(args...)
}

// forgetStatements closes the statements kept for db, before db closes.
func forgetStatements(db *sql.DB) {
	statements.mu.Lock()
	defer statements.mu.Unlock()
	for k, st := range statements.m {
		if k.db == db {
			st.Close()
			delete(statements.m, k)
		}
	}
}

// stateDBKey carries, in a commit's context, the state database the
// commit's transaction belongs to, so that writes inside it run through
// the statements kept for that database (execTx).
type stateDBKey struct{}

// withStateDB returns ctx carrying db for the writes of a commit.
func withStateDB(ctx context.Context, db *sql.DB) context.Context {
	return context.WithValue(ctx, stateDBKey{}, db)
}

// execTx runs q inside tx: through the statement kept for the state
// database ctx carries (prepared once per connection, not at every row of
// every commit), else prepared for the call.
func execTx(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if db, ok := ctx.Value(stateDBKey{}).(*sql.DB); ok {
		if st := kept(db, q); st != nil {
			return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
		}
	}
	return tx.ExecContext(ctx, q, args...)
}

// prepareTx returns q prepared for tx, as execTx does; Close it after use.
func prepareTx(ctx context.Context, tx *sql.Tx, q string) (*sql.Stmt, error) {
	if db, ok := ctx.Value(stateDBKey{}).(*sql.DB); ok {
		if st := kept(db, q); st != nil {
			return tx.StmtContext(ctx, st), nil
		}
	}
	return tx.PrepareContext(ctx, q)
}
