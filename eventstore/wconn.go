package eventstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
)

// writerConn runs the writer's statements on its connection through the
// driver's own interfaces, inside database/sql's Conn.Raw for the writer's
// whole life (see SQLite.writer). database/sql's per-call work (locks,
// argument conversion, Rows and Scan) is skipped; only the driver's public
// API is used, and the statements are prepared once.
type writerConn struct {
	ctx                                 context.Context
	begin, commit, rollback             driver.Stmt
	insEvent, streamRev                 driver.Stmt
	positionByID, eventsRange, hashesAt driver.Stmt
	dataVersion, lastEvent              driver.Stmt
	insCheckpoint, lastCheckpoint       driver.Stmt // checkpoints.go

	named []driver.NamedValue // scratch for arguments
	dest  []driver.Value      // scratch for one row
}

func prepareWriterConn(ctx context.Context, dc any) (*writerConn, error) {
	pc, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return nil, fmt.Errorf("the SQLite driver (%T) cannot prepare statements", dc)
	}
	w := &writerConn{ctx: ctx, dest: make([]driver.Value, 4)}
	for _, p := range []struct {
		dst *driver.Stmt
		q   string
	}{
		{&w.begin, `BEGIN IMMEDIATE`},
		{&w.commit, `COMMIT`},
		{&w.rollback, `ROLLBACK`},
		{&w.insEvent, `INSERT INTO events (position, event_id, stream, revision, type, schema_version, data, metadata, recorded_at, hashes) VALUES (?,?,?,?,?,?,?,?,?,?)`},
		{&w.streamRev, `SELECT max(revision) FROM events WHERE stream = ?`},
		{&w.positionByID, `SELECT position FROM events WHERE event_id = ?`},
		{&w.eventsRange, `SELECT event_id, stream, revision FROM events WHERE position BETWEEN ? AND ? ORDER BY position`},
		{&w.hashesAt, `SELECT hashes FROM events WHERE position = ?`},
		{&w.dataVersion, `PRAGMA data_version`},
		{&w.lastEvent, `SELECT position, recorded_at FROM events ORDER BY position DESC LIMIT 1`},
		{&w.insCheckpoint, `INSERT INTO checkpoints (size, root, note, signed_at) VALUES (?,?,?,?)`},
		{&w.lastCheckpoint, `SELECT size, root, signed_at FROM checkpoints ORDER BY size DESC LIMIT 1`},
	} {
		st, err := pc.PrepareContext(ctx, p.q)
		if err != nil {
			w.close()
			return nil, fmt.Errorf("prepare %q: %w", p.q, err)
		}
		*p.dst = st
	}
	return w, nil
}

// close finalizes the statements: unfinalized ones would keep the
// connection, and with it the WAL, open.
func (w *writerConn) close() error {
	var errs []error
	for _, st := range []driver.Stmt{w.begin, w.commit, w.rollback, w.insEvent, w.streamRev,
		w.positionByID, w.eventsRange, w.hashesAt, w.dataVersion, w.lastEvent, w.insCheckpoint, w.lastCheckpoint} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// args converts arguments into w.named. Every argument must already be a
// driver.Value (int64, string, []byte, nil).
func (w *writerConn) args(args []driver.Value) []driver.NamedValue {
	w.named = w.named[:0]
	for i, a := range args {
		w.named = append(w.named, driver.NamedValue{Ordinal: i + 1, Value: a})
	}
	return w.named
}

func (w *writerConn) exec(st driver.Stmt, args ...driver.Value) error {
	_, err := st.(driver.StmtExecContext).ExecContext(w.ctx, w.args(args))
	return err
}

func (w *writerConn) query(st driver.Stmt, args ...driver.Value) (driver.Rows, error) {
	return st.(driver.StmtQueryContext).QueryContext(w.ctx, w.args(args))
}

// queryRow returns the first row of st's result, or found false if there is
// none. The row is valid until the next call.
func (w *writerConn) queryRow(st driver.Stmt, args ...driver.Value) (row []driver.Value, found bool, err error) {
	rows, err := w.query(st, args...)
	if err != nil {
		return nil, false, err
	}
	row = w.dest[:len(rows.Columns())]
	err = rows.Next(row)
	cerr := rows.Close()
	switch {
	case err == io.EOF:
		return nil, false, cerr
	case err != nil:
		return nil, false, err
	case cerr != nil:
		return nil, false, cerr
	}
	return row, true, nil
}

// int64Value reads an INTEGER column; NULL is valid false.
func int64Value(v driver.Value) (n int64, valid bool, err error) {
	switch v := v.(type) {
	case int64:
		return v, true, nil
	case nil:
		return 0, false, nil
	}
	return 0, false, fmt.Errorf("integer column holds a %T", v)
}
