package eventstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/proof"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Signed checkpoints. With Options.Signer set, every commit that appends
// signs a checkpoint (C2SP tlog-checkpoint as a signed note) of the tree
// after it and stores it in the same transaction, so the checkpoint covering
// an event is durable before its append returns. The writer signs only the
// tree it holds and refuses to open for appends on a ledger that contradicts
// its newest stored checkpoint, so it never signs two checkpoints that are
// inconsistent with each other. See docs/proofs.md.

// CheckpointError names a stored checkpoint that the ledger contradicts, or
// that does not verify.
type CheckpointError struct {
	Size     int64 // its row's key in the checkpoints table
	SignedAt time.Time
	Reason   string
}

func (e *CheckpointError) Error() string {
	return fmt.Sprintf("stored checkpoint of tree size %d (signed at %s) fails: %s", e.Size, e.SignedAt.Format(time.RFC3339Nano), e.Reason)
}

// ErrNoSigner is returned when a checkpoint is needed and the store holds
// no signing key.
var ErrNoSigner = errors.New("the ledger has no signing key: no checkpoint can be signed")

// StoredCheckpoint is a checkpoint the store signed.
type StoredCheckpoint struct {
	Size     int64
	Root     tlog.Hash
	Note     []byte // the signed note
	SignedAt time.Time
}

// Contradiction returns the stored checkpoint the ledger contradicted when it
// was opened, or nil. Such a ledger refuses appends.
func (s *SQLite) Contradiction() error {
	if s.contradicted == nil {
		return nil
	}
	return s.contradicted
}

// readSignedSize loads the size of the largest stored checkpoint (writer
// goroutine).
func (s *SQLite) readSignedSize() error {
	row, found, err := s.w.queryRow(s.w.lastCheckpoint)
	if err != nil {
		return err
	}
	s.signedSize = -1
	if found {
		n, _, err := int64Value(row[0])
		if err != nil {
			return err
		}
		s.signedSize = n
	}
	return nil
}

// checkLatestCheckpoint, at open, compares the newest stored checkpoint with
// the tree: one that covers more events than the ledger holds, or whose root
// differs from the tree's at its size, means the ledger was cut or rewritten
// after it was signed. Verify checks every checkpoint; this checks the one
// that every later signature would have to extend.
func (s *SQLite) checkLatestCheckpoint() error {
	row, found, err := s.w.queryRow(s.w.lastCheckpoint)
	s.signedSize = -1
	if err != nil || !found {
		return err
	}
	size, _, err := int64Value(row[0])
	if err != nil {
		return err
	}
	rootBytes, _ := row[1].([]byte)
	var root tlog.Hash
	copy(root[:], rootBytes)
	at, _, err := int64Value(row[2])
	if err != nil {
		return err
	}
	s.signedSize = size
	cerr := &CheckpointError{Size: size, SignedAt: time.Unix(0, at).UTC()}
	switch {
	case len(rootBytes) != tlog.HashSize:
		cerr.Reason = "its root column is not a 32-byte hash"
	case size > int64(s.nextPos):
		cerr.Reason = fmt.Sprintf("it covers %d events but the ledger holds only %d: events were deleted", size, s.nextPos)
	case !s.opts.noMerkle && size > 0:
		r := &overlayReader{cache: s.cache, load: s.loadHash}
		got, err := tlog.TreeHash(size, r)
		if err != nil {
			cerr.Reason = fmt.Sprintf("the tree hashes it needs cannot be read (%v): the ledger was altered", err)
		} else if got != root {
			cerr.Reason = fmt.Sprintf("the ledger's tree of its first %d events has another root hash: events were changed or rewritten", size)
		}
	}
	if cerr.Reason != "" {
		s.contradicted = cerr
		s.logger.Error("ledger contradicts a signed checkpoint, refusing writes", "path", s.path, "err", cerr)
	}
	return nil
}

// signCheckpoint signs and stores a checkpoint of the batch's tree if the
// store has a signer and the tree grew past the largest checkpoint.
func (b *batch) signCheckpoint() error {
	s := b.s
	if s.opts.Signer == nil || s.opts.noMerkle || s.contradicted != nil || int64(b.nextPos) <= b.signedSize {
		return nil
	}
	size := int64(b.nextPos)
	b.reader.pending = b.pending
	root, err := tlog.TreeHash(size, &b.reader)
	if err != nil {
		return fmt.Errorf("checkpoint of %d events: %w", size, err)
	}
	signed, err := proof.Sign(proof.Checkpoint{Origin: s.opts.Signer.Name(), Size: size, Root: root}, s.opts.Signer)
	if err != nil {
		return fmt.Errorf("sign checkpoint of %d events: %w", size, err)
	}
	if err := s.w.exec(s.w.insCheckpoint, size, root[:], signed, b.lastTime); err != nil {
		return fmt.Errorf("store checkpoint of %d events: %w", size, err)
	}
	b.signedSize = size
	return nil
}

// SignHead makes sure a stored checkpoint covers every event committed so
// far (events appended by a process without the key have none yet): it
// signs one in a commit of its own if needed.
func (s *SQLite) SignHead(ctx context.Context) error {
	if s.opts.Signer == nil {
		return ErrNoSigner
	}
	if s.contradicted != nil {
		return s.contradicted
	}
	r := &writeReq{fn: func(*batch) error { return nil }, done: make(chan writeResult, 1)}
	if err := s.enqueue(ctx, r); err != nil {
		return err
	}
	select {
	case res := <-r.done:
		return res.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

const checkpointColumns = `size, root, note, signed_at`

func scanCheckpoint(row interface{ Scan(...any) error }) (StoredCheckpoint, error) {
	var c StoredCheckpoint
	var root []byte
	var at int64
	if err := row.Scan(&c.Size, &root, &c.Note, &at); err != nil {
		return c, err
	}
	copy(c.Root[:], root)
	c.SignedAt = time.Unix(0, at).UTC()
	return c, nil
}

func (s *SQLite) checkpointWhere(ctx context.Context, where string, args ...any) (StoredCheckpoint, bool, error) {
	if err := s.readable(); err != nil {
		return StoredCheckpoint{}, false, err
	}
	stmt, err := s.readStmt(ctx, `SELECT `+checkpointColumns+` FROM checkpoints `+where)
	if err != nil {
		return StoredCheckpoint{}, false, fmt.Errorf("read checkpoint: %w", s.readError(err))
	}
	c, err := scanCheckpoint(stmt.QueryRowContext(ctx, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return StoredCheckpoint{}, false, nil
	}
	if err != nil {
		return StoredCheckpoint{}, false, fmt.Errorf("read checkpoint: %w", s.readError(err))
	}
	return c, true, nil
}

// LatestCheckpoint returns the largest stored checkpoint.
func (s *SQLite) LatestCheckpoint(ctx context.Context) (StoredCheckpoint, bool, error) {
	return s.checkpointWhere(ctx, `ORDER BY size DESC LIMIT 1`)
}

// CheckpointOfSize returns the stored checkpoint of exactly size events.
func (s *SQLite) CheckpointOfSize(ctx context.Context, size int64) (StoredCheckpoint, bool, error) {
	return s.checkpointWhere(ctx, `WHERE size = ?`, size)
}

// covering returns the latest checkpoint, signing one first if it does not
// cover position pos.
func (s *SQLite) covering(ctx context.Context, pos uint64) (StoredCheckpoint, error) {
	c, found, err := s.LatestCheckpoint(ctx)
	if err != nil {
		return c, err
	}
	if !found || c.Size <= int64(pos) {
		if err := s.SignHead(ctx); err != nil {
			return c, err
		}
		if c, found, err = s.LatestCheckpoint(ctx); err != nil {
			return c, err
		}
		if !found || c.Size <= int64(pos) {
			return c, domain.Errorf(domain.ENOTFOUND, "no event at position %d", pos)
		}
	}
	return c, nil
}

// txHashReader reads stored tree hashes in one read transaction, many rows
// per query, remembering what it read (proofs of nearby trees share most).
type txHashReader struct {
	ctx  context.Context
	s    *SQLite
	tx   *sql.Tx
	seen map[int64]tlog.Hash
}

// preparedHashLists is how many positions an IN list of queryHashes may
// hold to be prepared once and kept (one statement per length): an
// inclusion proof reads a few dozen rows at most, and preparing its query
// cost as much as running it.
const preparedHashLists = 64

// hashListQuery is the query of the hashes of n events.
func hashListQuery(n int) string {
	return `SELECT position, hashes FROM events WHERE position IN (?` + strings.Repeat(`,?`, n-1) + `)`
}

// queryHashes reads the hashes of the events at positions: through the
// statement kept for that many (prepareHashLists), else prepared for the
// call.
func (r *txHashReader) queryHashes(positions []any) (*sql.Rows, error) {
	q := hashListQuery(len(positions))
	if st := r.s.keptStmt(q); st != nil {
		return r.tx.StmtContext(r.ctx, st).QueryContext(r.ctx, positions...)
	}
	return r.tx.QueryContext(r.ctx, q, positions...)
}

// prepareHashLists prepares and keeps the queries of 1 to
// preparedHashLists events' hashes, outside any transaction.
func (s *SQLite) prepareHashLists(ctx context.Context) error {
	if s.keptStmt(hashListQuery(preparedHashLists)) != nil {
		return nil
	}
	for n := 1; n <= preparedHashLists; n++ {
		if _, err := s.readStmt(ctx, hashListQuery(n)); err != nil {
			return err
		}
	}
	return nil
}

func (r *txHashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var missing []int64
	for _, idx := range indexes {
		if _, ok := r.seen[idx]; !ok {
			missing = append(missing, idx)
		}
	}
	if len(missing) > 0 {
		if len(r.seen) > 1<<16 {
			clear(r.seen)
		}
		owners := make(map[int64][]int64) // position -> stored-hash indexes
		args := make([]any, 0, len(missing))
		for _, idx := range missing {
			pos, _ := hashOwner(idx)
			if _, ok := owners[pos]; !ok {
				args = append(args, pos)
			}
			owners[pos] = append(owners[pos], idx)
		}
		rows, err := r.queryHashes(args)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var pos int64
			var hashes []byte
			if err := rows.Scan(&pos, &hashes); err != nil {
				rows.Close()
				return nil, err
			}
			for _, idx := range owners[pos] {
				_, level := hashOwner(idx)
				h, err := hashAtLevel(hashes, level)
				if err != nil {
					rows.Close()
					return nil, fmt.Errorf("event %d: %w", pos, err)
				}
				r.seen[idx] = h
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	for i, idx := range indexes {
		h, ok := r.seen[idx]
		if !ok {
			pos, _ := hashOwner(idx)
			return nil, fmt.Errorf("tree hash %d: no event at position %d", idx, pos)
		}
		out[i] = h
	}
	return out, nil
}

func (s *SQLite) proofTx(ctx context.Context, fn func(tx *sql.Tx, r *txHashReader) error) error {
	if err := s.prepareHashLists(ctx); err != nil {
		return s.readError(err)
	}
	return s.readTx(ctx, func(tx *sql.Tx) error {
		return fn(tx, &txHashReader{ctx: ctx, s: s, tx: tx, seen: make(map[int64]tlog.Hash)})
	})
}

func rawHashes(hs []tlog.Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = append([]byte(nil), hs[i][:]...)
	}
	return out
}

// Receipts returns a receipt for each event at positions, all against one
// checkpoint: the latest, signed first if it does not cover them all. With
// since > 0, each carries a consistency proof from the tree of since events.
// Proofs come from the stored hashes (tlog.ProveRecord, tlog.ProveTree);
// nothing is re-hashed.
func (s *SQLite) Receipts(ctx context.Context, positions []uint64, since int64) ([]proof.Receipt, error) {
	var maxPos uint64
	for _, p := range positions {
		maxPos = max(maxPos, p)
	}
	c, err := s.covering(ctx, maxPos)
	if err != nil {
		return nil, err
	}
	if since > c.Size {
		return nil, &domain.Error{Code: domain.EINVALID, Message: "since is beyond the checkpoint", Fields: []domain.FieldError{
			{Field: "since", Code: domain.FieldOutOfRange, Message: "must be at most the checkpoint's size, " + strconv.FormatInt(c.Size, 10)},
		}}
	}
	eventAt, err := s.readStmt(ctx, selectRead+` WHERE position = ?`)
	if err != nil {
		return nil, fmt.Errorf("receipts: %w", s.readError(err))
	}
	out := make([]proof.Receipt, 0, len(positions))
	err = s.proofTx(ctx, func(tx *sql.Tx, r *txHashReader) error {
		var consistency *proof.ConsistencyProof
		if since > 0 {
			p, err := tlog.ProveTree(c.Size, since, r)
			if err != nil {
				return fmt.Errorf("consistency proof %d→%d: %w", since, c.Size, err)
			}
			consistency = &proof.ConsistencyProof{FromSize: since, Proof: rawHashes(p)}
		}
		for _, pos := range positions {
			e, err := scanEvent(tx.StmtContext(ctx, eventAt).QueryRowContext(ctx, int64(pos)))
			if err != nil {
				return fmt.Errorf("event %d: %w", pos, err)
			}
			p, err := tlog.ProveRecord(c.Size, int64(pos), r)
			if err != nil {
				return fmt.Errorf("inclusion proof of %d in %d: %w", pos, c.Size, err)
			}
			leaf := leafOf(e)
			out = append(out, proof.Receipt{
				Format: proof.ReceiptFormat, Event: leaf.Event(), Leaf: leaf.Encode(), LeafIndex: int64(pos),
				RecordedAt: e.RecordedAt.UTC(), InclusionProof: rawHashes(p), Checkpoint: string(c.Note), Consistency: consistency,
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("receipts: %w", err)
	}
	return out, nil
}

// SignedCheckpoint returns the stored signed checkpoint of size events, or
// with size 0 the latest (signing one first if none covers the ledger's
// head). No checkpoint of that size is domain.ENOTFOUND.
func (s *SQLite) SignedCheckpoint(ctx context.Context, size int64) ([]byte, error) {
	if size == 0 {
		head := s.Head()
		if head == 0 {
			return nil, domain.Errorf(domain.ENOTFOUND, "the ledger is empty: no checkpoint yet")
		}
		c, err := s.covering(ctx, head-1)
		return c.Note, err
	}
	c, found, err := s.CheckpointOfSize(ctx, size)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, domain.Errorf(domain.ENOTFOUND, "no checkpoint of size %d", size)
	}
	return c.Note, nil
}

// Consistency returns a consistency proof from the tree of from events to
// the stored checkpoint of to events (to 0: the latest).
func (s *SQLite) Consistency(ctx context.Context, from, to int64) (proof.Consistency, error) {
	var c StoredCheckpoint
	var found bool
	var err error
	if to == 0 {
		c, found, err = s.LatestCheckpoint(ctx)
	} else {
		c, found, err = s.CheckpointOfSize(ctx, to)
	}
	if err != nil {
		return proof.Consistency{}, err
	}
	if !found {
		return proof.Consistency{}, domain.Errorf(domain.ENOTFOUND, "no checkpoint of size %d", to)
	}
	if from < 1 || from > c.Size {
		return proof.Consistency{}, &domain.Error{Code: domain.EINVALID, Message: "invalid query parameters", Fields: []domain.FieldError{
			{Field: "from", Code: domain.FieldOutOfRange, Message: "must be from 1 to the checkpoint's size, " + strconv.FormatInt(c.Size, 10)},
		}}
	}
	doc := proof.Consistency{Format: proof.ConsistencyFormat, FromSize: from, ToSize: c.Size, Checkpoint: string(c.Note)}
	if fc, ok, err := s.CheckpointOfSize(ctx, from); err != nil {
		return proof.Consistency{}, err
	} else if ok {
		doc.FromCheckpoint = string(fc.Note)
	}
	err = s.proofTx(ctx, func(_ *sql.Tx, r *txHashReader) error {
		p, err := tlog.ProveTree(c.Size, from, r)
		doc.Proof = rawHashes(p)
		return err
	})
	if err != nil {
		return proof.Consistency{}, fmt.Errorf("consistency proof %d→%d: %w", from, c.Size, err)
	}
	return doc, nil
}

// VerifyCheckpoints checks every stored checkpoint, smallest first: its
// signature with v (nil: signatures are not checked), that its note says
// what its row says, that the ledger holds the events it covers, and that
// the tree of those events has its root. Run it after Verify, which shows
// the stored hashes match the events. It returns how many it checked, or a
// *CheckpointError naming the first that fails.
func (s *SQLite) VerifyCheckpoints(ctx context.Context, v note.Verifier) (int, error) {
	n := 0
	err := s.proofTx(ctx, func(tx *sql.Tx, r *txHashReader) error {
		size, err := snapshotSize(ctx, tx)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+checkpointColumns+` FROM checkpoints ORDER BY size`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanCheckpoint(rows)
			if err != nil {
				return err
			}
			bad := func(format string, args ...any) error {
				return &CheckpointError{Size: c.Size, SignedAt: c.SignedAt, Reason: fmt.Sprintf(format, args...)}
			}
			var body proof.Checkpoint
			if v != nil {
				if body, err = proof.OpenCheckpoint(c.Note, v); err != nil {
					return bad("%v", err)
				}
			} else {
				text, _, _ := strings.Cut(string(c.Note), "\n\n")
				if body, err = proof.ParseCheckpoint(text + "\n"); err != nil {
					return bad("%v", err)
				}
			}
			if body.Size != c.Size || body.Root != c.Root {
				return bad("its signed note says %d events with another root than its row: the row was edited", body.Size)
			}
			if c.Size > int64(size) {
				return bad("it covers %d events but the ledger holds only %d: events were deleted after it was signed", c.Size, size)
			}
			root, err := tlog.TreeHash(c.Size, r)
			if err != nil {
				return bad("the tree hashes it needs cannot be read: %v", err)
			}
			if root != c.Root {
				return bad("the ledger's first %d events have another root hash: the ledger was rewritten at or before position %d after it was signed", c.Size, c.Size-1)
			}
			n++
		}
		return rows.Err()
	})
	return n, err
}

// readStmts are the read pool's prepared statements, by query text:
// preparing a statement through the driver costs more than running a
// point query (a checkpoint, an event, a row of tree hashes), so the
// queries a receipt makes are prepared once and kept, each on every
// connection of the pool that runs it (database/sql re-prepares a Stmt on
// a connection once, then reuses it there).
type readStmts struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// readStmt returns query prepared on the read pool. It must not be called
// inside a read transaction: preparing takes a connection of the pool,
// which the transactions may hold all of (see keptStmt). The lock is not
// held while preparing.
func (s *SQLite) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st := s.keptStmt(query); st != nil {
		return st, nil
	}
	st, err := s.rdb.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s.prepared.mu.Lock()
	defer s.prepared.mu.Unlock()
	if kept, ok := s.prepared.stmts[query]; ok {
		st.Close()
		return kept, nil
	}
	if s.prepared.stmts == nil {
		s.prepared.stmts = make(map[string]*sql.Stmt)
	}
	s.prepared.stmts[query] = st
	return st, nil
}

// keptStmt returns query's statement if one was prepared, for use inside
// a read transaction.
func (s *SQLite) keptStmt(query string) *sql.Stmt {
	s.prepared.mu.Lock()
	defer s.prepared.mu.Unlock()
	return s.prepared.stmts[query]
}

func (p *readStmts) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, st := range p.stmts {
		st.Close()
	}
	p.stmts = nil
}
