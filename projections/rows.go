package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	json "github.com/goccy/go-json"
)

// rowSet is how a small view keeps its state in the state database: each
// entity is one JSON row of table rows under the view's name. The view
// stays in memory, marks what an event changed, and writes the marked
// entities when its batch commits; Load reads them all back.
type rowSet struct {
	view  string
	mu    sync.Mutex
	dirty map[string]func() any // key -> the value to store now; nil deletes
}

func newRowSet(view string) *rowSet { return &rowSet{view: view, dirty: map[string]func() any{}} }

// mark records that key changed; value is called at flush time.
func (r *rowSet) mark(key string, value func() any) {
	r.mu.Lock()
	r.dirty[key] = value
	r.mu.Unlock()
}

func (r *rowSet) reset() {
	r.mu.Lock()
	clear(r.dirty)
	r.mu.Unlock()
}

// flush encodes the marked rows and returns the write that stores them
// (see Handler.Flush); lock guards the values read.
func (r *rowSet) flush(lock sync.Locker) (Write, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.dirty) == 0 {
		return nil, nil
	}
	var w RowWrites
	lock.Lock()
	for key, value := range r.dirty {
		if value == nil {
			w.Delete(r.view, key)
			continue
		}
		body, err := json.Marshal(value())
		if err != nil {
			lock.Unlock()
			return nil, err
		}
		w.Put(r.view, key, body)
	}
	lock.Unlock()
	clear(r.dirty)
	return w.Write, nil
}

const (
	putRowSQL = `INSERT INTO rows (view, key, body) VALUES (?, ?, ?)
		ON CONFLICT (view, key) DO UPDATE SET body = excluded.body`
	deleteRowSQL = "DELETE FROM rows WHERE view = ? AND key = ?"
)

// PutRow stores body as the row key of view, inside tx: the way a Handler
// outside this package keeps entities in the state database.
func PutRow(ctx context.Context, tx *sql.Tx, view, key string, body []byte) error {
	_, err := execTx(ctx, tx, putRowSQL, view, key, body)
	return err
}

// DeleteRow removes the row key of view, inside tx.
func DeleteRow(ctx context.Context, tx *sql.Tx, view, key string) error {
	_, err := execTx(ctx, tx, deleteRowSQL, view, key)
	return err
}

// LoadRows calls fn with every row of view, in key order.
//
// The scan reads through a connection whose memory map is turned off for
// it: the state database is mapped for fast queries, but a load reads each
// row once, and through the map every page read would stay in the
// process's resident memory long after the load.
func LoadRows(ctx context.Context, db *sql.DB, view string, fn func(key string, body []byte) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var mapped int64
	// An in-memory database answers no row: nothing is mapped.
	if err := conn.QueryRowContext(ctx, "PRAGMA mmap_size").Scan(&mapped); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if mapped > 0 {
		if _, err := conn.ExecContext(ctx, "PRAGMA mmap_size = 0"); err != nil {
			return err
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA mmap_size = %d", mapped))
	}
	rows, err := conn.QueryContext(ctx, "SELECT key, body FROM rows WHERE view = ? ORDER BY key", view)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var body []byte
		if err := rows.Scan(&key, &body); err != nil {
			return err
		}
		if err := fn(key, body); err != nil {
			return err
		}
	}
	return rows.Err()
}
