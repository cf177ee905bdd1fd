package projections

import (
	"context"
	"database/sql"
	"strings"
)

// RowWrites collects what a handler's Write stores in table rows (see
// PutRow, DeleteRow) and writes it with multi-row statements: one
// statement, prepared once per write, for every rowsPerStatement rows,
// instead of one parsed statement per row. A catch-up batch writes
// hundreds of thousands of rows, and parsing and binding a statement per
// row was half the cost of writing them. A key is put or deleted at most
// once per RowWrites (the handlers collect them from maps).
type RowWrites struct {
	puts []any            // view, key, body, ...
	dels map[string][]any // view -> keys
}

// rowsPerStatement is how many rows one multi-row statement of RowWrites
// writes: few enough to stay far below SQLite's bound on a statement's
// variables. (A statement writing several rows keeps a journal of the
// pages it changes, so it can be undone alone: worth it for small rows,
// not for the registrations' large ones, written one a statement.)
const rowsPerStatement = 128

// Put stores body as the row key of view.
func (w *RowWrites) Put(view, key string, body []byte) { w.puts = append(w.puts, view, key, body) }

// Delete removes the row key of view.
func (w *RowWrites) Delete(view, key string) {
	if w.dels == nil {
		w.dels = map[string][]any{}
	}
	w.dels[view] = append(w.dels[view], key)
}

// Len returns how many rows w puts or deletes.
func (w *RowWrites) Len() int {
	n := len(w.puts) / 3
	for _, keys := range w.dels {
		n += len(keys)
	}
	return n
}

// Write stores w inside tx.
func (w *RowWrites) Write(ctx context.Context, tx *sql.Tx) error {
	err := execChunked(ctx, tx, w.puts, 3, rowsPerStatement, func(rows int) string {
		return "INSERT INTO rows (view, key, body) VALUES " + placeholders(rows, 3) +
			" ON CONFLICT (view, key) DO UPDATE SET body = excluded.body"
	})
	if err != nil {
		return err
	}
	for view, keys := range w.dels {
		err := execChunked(ctx, tx, keys, 1, rowsPerStatement, func(rows int) string {
			return "DELETE FROM rows WHERE view = ? AND key IN (" + strings.TrimSuffix(strings.Repeat("?, ", rows), ", ") + ")"
		}, view)
		if err != nil {
			return err
		}
	}
	return nil
}

// execChunked runs the statement query(n) over args, cols arguments a
// row, per rows at a time (fewer in the last), each preceded by lead.
// Each statement is prepared once (or taken from those the state keeps:
// prepareTx).
func execChunked(ctx context.Context, tx *sql.Tx, args []any, cols, per int, query func(rows int) string, lead ...any) error {
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, s := range stmts {
			s.Close()
		}
	}()
	buf := make([]any, 0, len(lead)+per*cols)
	for len(args) > 0 {
		n := min(len(args)/cols, per)
		stmt, ok := stmts[n]
		if !ok {
			var err error
			if stmt, err = prepareTx(ctx, tx, query(n)); err != nil {
				return err
			}
			stmts[n] = stmt
		}
		buf = append(append(buf[:0], lead...), args[:n*cols]...)
		if _, err := stmt.ExecContext(ctx, buf...); err != nil {
			return err
		}
		args = args[n*cols:]
	}
	return nil
}

// placeholders returns rows groups of cols placeholders: "(?, ?), (?, ?)".
func placeholders(rows, cols int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}
