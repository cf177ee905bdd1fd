package eventstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"sync"
	"time"

	"github.com/dealreg/dealreg/domain"
	"github.com/google/uuid"
	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// The read path (ReadAll, ReadStream and so subscriptions) runs on
// connections opened through SQLite's own API, as modernc.org/sqlite/lib
// transpiles it to Go, one level below the database/sql driver. Through the
// driver a row of nine columns cost ≈ 3.8 µs: a type call and a value call
// per column, every value boxed in an interface, every text and blob copied
// into an allocation of its own, and a mutex around each call. Here a row
// is ≈ 1.3 µs (BenchmarkReadAll/envelope): the connection is used by one
// goroutine at a time, so it is opened without SQLite's mutex; data and
// metadata are copied straight from SQLite's page into a shared buffer; the
// few distinct stream and type names are allocated once per read; and the
// file is memory-mapped, as the driver's readers were. Every value is copied
// out before the next step, so no memory owned by SQLite outlives the call
// that produced it, and this file holds no unsafe code (libc.GoBytes gives
// the views).

// rawConn is one read-only connection. It is not safe for concurrent use.
type rawConn struct {
	tls   *libc.TLS
	db    uintptr
	stmts map[string]uintptr // prepared once per query text
}

// rawPool hands out read connections: at most max are open at once (a read
// beyond that waits for one), and those not in use stay open for the next.
type rawPool struct {
	path  string
	slots chan struct{} // one per open connection allowed

	mu     sync.Mutex
	idle   []*rawConn
	closed bool
}

func newRawPool(path string, max int) *rawPool {
	return &rawPool{path: path, slots: make(chan struct{}, max)}
}

func (p *rawPool) get(ctx context.Context) (*rawConn, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.slots
		return nil, domain.ErrClosed
	}
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	c, err := openRawConn(p.path)
	if err != nil {
		<-p.slots
		return nil, err
	}
	return c, nil
}

func (p *rawPool) put(c *rawConn) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.close()
	} else {
		p.idle = append(p.idle, c)
		p.mu.Unlock()
	}
	<-p.slots
}

// close closes the idle connections; one in use closes when it is put back.
func (p *rawPool) close() {
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
}

// rawPragmas set up a reader: it never writes, maps up to 1 GiB of the
// file instead of a pread per page, and waits for locks as the driver's
// connections do.
const rawPragmas = `PRAGMA query_only = 1; PRAGMA mmap_size = 1073741824; PRAGMA busy_timeout = 10000;`

func openRawConn(path string) (*rawConn, error) {
	c := &rawConn{tls: libc.NewTLS(), stmts: make(map[string]uintptr)}
	cpath, err := libc.CString(path)
	if err != nil {
		c.tls.Close()
		return nil, err
	}
	defer libc.Xfree(c.tls, cpath)
	out := libc.Xmalloc(c.tls, pointerSize)
	if out == 0 {
		c.tls.Close()
		return nil, errors.New("sqlite: out of memory")
	}
	defer libc.Xfree(c.tls, out)
	// The file exists (the writer created it). Read-write without create,
	// as the driver opens, so that the WAL index can be shared; query_only
	// keeps it from writing.
	rc := sqlite3.Xsqlite3_open_v2(c.tls, cpath, out, sqlite3.SQLITE_OPEN_READWRITE|sqlite3.SQLITE_OPEN_NOMUTEX, 0)
	c.db = readPointer(out)
	if rc != sqlite3.SQLITE_OK {
		err := c.errorOf(rc)
		c.close()
		return nil, fmt.Errorf("open reader: %w", err)
	}
	if err := c.exec(rawPragmas); err != nil {
		c.close()
		return nil, fmt.Errorf("open reader: %w", err)
	}
	return c, nil
}

// readPointer reads the pointer SQLite stored at p (an out parameter of
// pointerSize bytes, allocated by the caller).
func readPointer(p uintptr) uintptr {
	b := libc.GoBytes(p, pointerSize)
	if pointerSize == 4 {
		return uintptr(binary.NativeEndian.Uint32(b))
	}
	return uintptr(binary.NativeEndian.Uint64(b))
}

// pointerSize is the size of a C pointer (a uintptr) on this platform.
const pointerSize = bits.UintSize / 8

func (c *rawConn) close() {
	for _, st := range c.stmts {
		sqlite3.Xsqlite3_finalize(c.tls, st)
	}
	c.stmts = nil
	if c.db != 0 {
		sqlite3.Xsqlite3_close_v2(c.tls, c.db)
		c.db = 0
	}
	c.tls.Close()
}

// errorOf describes result code rc with the connection's message.
func (c *rawConn) errorOf(rc int32) error {
	msg := ""
	if c.db != 0 {
		msg = libc.GoString(sqlite3.Xsqlite3_errmsg(c.tls, c.db))
	}
	if msg == "" {
		msg = libc.GoString(sqlite3.Xsqlite3_errstr(c.tls, rc))
	}
	return fmt.Errorf("sqlite: %s (%d)", msg, rc)
}

func (c *rawConn) exec(sql string) error {
	csql, err := libc.CString(sql)
	if err != nil {
		return err
	}
	defer libc.Xfree(c.tls, csql)
	if rc := sqlite3.Xsqlite3_exec(c.tls, c.db, csql, 0, 0, 0); rc != sqlite3.SQLITE_OK {
		return c.errorOf(rc)
	}
	return nil
}

func (c *rawConn) prepare(q string) (uintptr, error) {
	if st, ok := c.stmts[q]; ok {
		return st, nil
	}
	cq, err := libc.CString(q)
	if err != nil {
		return 0, err
	}
	defer libc.Xfree(c.tls, cq)
	out := libc.Xmalloc(c.tls, pointerSize)
	if out == 0 {
		return 0, errors.New("sqlite: out of memory")
	}
	defer libc.Xfree(c.tls, out)
	if rc := sqlite3.Xsqlite3_prepare_v2(c.tls, c.db, cq, -1, out, 0); rc != sqlite3.SQLITE_OK {
		return 0, c.errorOf(rc)
	}
	st := readPointer(out)
	c.stmts[q] = st
	return st, nil
}

// sqliteTransient tells a bind call to copy the value (SQLITE_TRANSIENT).
const sqliteTransient = ^uintptr(0)

func (c *rawConn) bind(st uintptr, args []any) error {
	for i, a := range args {
		var rc int32
		switch v := a.(type) {
		case int64:
			rc = sqlite3.Xsqlite3_bind_int64(c.tls, st, int32(i+1), v)
		case string:
			cs, err := libc.CString(v)
			if err != nil {
				return err
			}
			rc = sqlite3.Xsqlite3_bind_text(c.tls, st, int32(i+1), cs, int32(len(v)), sqliteTransient)
			libc.Xfree(c.tls, cs)
		default:
			return fmt.Errorf("bind: argument %d is a %T", i+1, a)
		}
		if rc != sqlite3.SQLITE_OK {
			return c.errorOf(rc)
		}
	}
	return nil
}

// rawColumns is what a raw read selects, in this order.
const rawColumns = `position, event_id, stream, revision, type, schema_version, data, metadata, recorded_at`

// readEvents runs q (selecting rawColumns) with args and decodes its rows.
func (c *rawConn) readEvents(ctx context.Context, q string, args []any, capacity int) ([]domain.RecordedEvent, error) {
	st, err := c.prepare(q)
	if err != nil {
		return nil, err
	}
	defer sqlite3.Xsqlite3_reset(c.tls, st) // ends the read transaction
	if err := c.bind(st, args); err != nil {
		return nil, err
	}
	d := rowDecoder{c: c, st: st, names: make(map[string]string)}
	out := make([]domain.RecordedEvent, 0, capacity)
	for n := 0; ; n++ {
		if n%256 == 255 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		switch rc := sqlite3.Xsqlite3_step(c.tls, st); rc {
		case sqlite3.SQLITE_ROW:
			e, err := d.event()
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		case sqlite3.SQLITE_DONE:
			return out, nil
		default:
			return nil, c.errorOf(rc)
		}
	}
}

// rowDecoder turns the current row of st into a RecordedEvent, copying every
// value out of SQLite's memory.
type rowDecoder struct {
	c     *rawConn
	st    uintptr
	names map[string]string // stream and type names, allocated once each
	buf   []byte            // data and metadata of the events decoded so far
	read  int               // bytes of data and metadata copied so far
}

func (d *rowDecoder) event() (domain.RecordedEvent, error) {
	var e domain.RecordedEvent
	pos, err := d.int(0, "position")
	if err != nil {
		return e, err
	}
	e.Position = uint64(pos)
	bad := func(column string) (domain.RecordedEvent, error) {
		return domain.RecordedEvent{}, fmt.Errorf("event at position %d: %s has an unexpected type", pos, column)
	}
	id, ok := d.bytes(1, false)
	if !ok || len(id) != len(e.ID) {
		return bad("event_id")
	}
	e.ID = uuid.UUID(id)
	if e.Stream, ok = d.name(2); !ok {
		return bad("stream")
	}
	rev, err := d.int(3, "revision")
	if err != nil {
		return e, err
	}
	if e.Type, ok = d.name(4); !ok {
		return bad("type")
	}
	sv, err := d.int(5, "schema_version")
	if err != nil {
		return e, err
	}
	data, ok := d.bytes(6, true)
	if !ok {
		return bad("data")
	}
	meta, ok := d.bytes(7, true)
	if !ok {
		return bad("metadata")
	}
	e.Data, e.Metadata = d.keep(data, meta)
	at, err := d.int(8, "recorded_at")
	if err != nil {
		return e, err
	}
	e.Revision, e.SchemaVersion = uint64(rev), int(sv)
	e.RecordedAt = time.Unix(0, at).UTC()
	return e, nil
}

func (d *rowDecoder) int(col int32, name string) (int64, error) {
	if t := sqlite3.Xsqlite3_column_type(d.c.tls, d.st, col); t != sqlite3.SQLITE_INTEGER {
		return 0, fmt.Errorf("event row: %s has an unexpected type (%d)", name, t)
	}
	return sqlite3.Xsqlite3_column_int64(d.c.tls, d.st, col), nil
}

// bytes returns a view of a TEXT or BLOB column (text too when text is
// set), valid until the next step: copy it before then.
func (d *rowDecoder) bytes(col int32, text bool) ([]byte, bool) {
	switch sqlite3.Xsqlite3_column_type(d.c.tls, d.st, col) {
	case sqlite3.SQLITE_BLOB:
	case sqlite3.SQLITE_TEXT:
		if !text {
			return nil, false
		}
	default:
		return nil, false
	}
	return d.view(col), true
}

// view returns the bytes of the current row's column col, valid until the
// next step.
func (d *rowDecoder) view(col int32) []byte {
	p := sqlite3.Xsqlite3_column_blob(d.c.tls, d.st, col)
	n := sqlite3.Xsqlite3_column_bytes(d.c.tls, d.st, col)
	if p == 0 || n <= 0 {
		return []byte{}
	}
	return libc.GoBytes(p, int(n))
}

// name returns a TEXT column as a string, the same string for the same
// name within one read.
func (d *rowDecoder) name(col int32) (string, bool) {
	if sqlite3.Xsqlite3_column_type(d.c.tls, d.st, col) != sqlite3.SQLITE_TEXT {
		return "", false
	}
	b := d.view(col)
	if s, ok := d.names[string(b)]; ok {
		return s, true
	}
	s := string(b)
	d.names[s] = s
	return s, true
}

// keep copies data and metadata into the read's buffer and returns the
// copies, each capped so that appending to one never writes into another.
// The buffer grows geometrically with what was read, so a read of a few
// events holds little memory and a page of thousands few allocations.
func (d *rowDecoder) keep(data, meta []byte) ([]byte, []byte) {
	need := len(data) + len(meta)
	if cap(d.buf)-len(d.buf) < need {
		d.buf = make([]byte, 0, max(need, min(d.read, 1<<20)))
	}
	d.read += need
	start := len(d.buf)
	d.buf = append(d.buf, data...)
	mid := len(d.buf)
	d.buf = append(d.buf, meta...)
	return d.buf[start:mid:mid], d.buf[mid:len(d.buf):len(d.buf)]
}
