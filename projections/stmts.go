package projections

import (
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
func statement(db *sql.DB, q string) (*sql.Stmt, error) {
	statements.mu.Lock()
	defer statements.mu.Unlock()
	k := stmtKey{db, q}
	if st, ok := statements.m[k]; ok {
		return st, nil
	}
	if len(statements.m) >= maxStatements {
		return nil, nil
	}
	st, err := db.Prepare(q)
	if err != nil {
		return nil, err
	}
	statements.m[k] = st
	return st, nil
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
