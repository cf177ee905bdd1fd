package eventstore

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/dealreg/dealreg/domain"
	"golang.org/x/mod/sumdb/tlog"
)

// TreeHead is the size and root hash of the ledger's Merkle tree.
type TreeHead struct {
	Size uint64    `json:"size"`
	Root tlog.Hash `json:"-"`
}

// RootHex returns the root hash in hex, as printed by the CLI.
func (h TreeHead) RootHex() string { return hex.EncodeToString(h.Root[:]) }

// VerifyError names the first event of the ledger that fails verification.
type VerifyError struct {
	Position uint64
	Stream   string
	Revision uint64
	Reason   string
}

func (e *VerifyError) Error() string {
	if e.Stream == "" {
		return fmt.Sprintf("ledger verification failed at position %d: %s", e.Position, e.Reason)
	}
	return fmt.Sprintf("ledger verification failed at position %d (stream %q, revision %d): %s", e.Position, e.Stream, e.Revision, e.Reason)
}

// readTx runs fn in one read transaction, so that everything it reads is one
// consistent snapshot of the ledger even while appends go on.
func (s *SQLite) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := s.readable(); err != nil {
		return err
	}
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return s.readError(err)
	}
	defer tx.Rollback()
	return fn(tx)
}

func txHashLoader(ctx context.Context, tx *sql.Tx) func(int64) (tlog.Hash, error) {
	return func(idx int64) (tlog.Hash, error) {
		pos, level := hashOwner(idx)
		var hashes []byte
		if err := tx.QueryRowContext(ctx, `SELECT hashes FROM events WHERE position = ?`, pos).Scan(&hashes); err != nil {
			return tlog.Hash{}, err
		}
		return hashAtLevel(hashes, level)
	}
}

func snapshotSize(ctx context.Context, tx *sql.Tx) (uint64, error) {
	var maxPos sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT max(position) FROM events`).Scan(&maxPos); err != nil {
		return 0, err
	}
	if !maxPos.Valid {
		return 0, nil
	}
	return uint64(maxPos.Int64) + 1, nil
}

// TreeHead returns the current size and root hash of the Merkle tree.
func (s *SQLite) TreeHead(ctx context.Context) (TreeHead, error) {
	var head TreeHead
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		n, err := snapshotSize(ctx, tx)
		if err != nil {
			return err
		}
		head.Size = n
		r := &overlayReader{cache: newHashCache(1), load: txHashLoader(ctx, tx)}
		head.Root, err = tlog.TreeHash(int64(n), r)
		return err
	})
	if err != nil {
		return TreeHead{}, fmt.Errorf("tree head: %w", err)
	}
	return head, nil
}

// eachEvent calls fn for every event of the snapshot in position order. A row
// that cannot be decoded is reported as a *VerifyError at its position.
func eachEvent(ctx context.Context, tx *sql.Tx, fn func(e domain.RecordedEvent, hashes []byte) error) error {
	const page = 4096
	next := int64(0)
	for {
		rows, err := tx.QueryContext(ctx, selectEventsHashes+` WHERE position >= ? ORDER BY position LIMIT ?`, next, page)
		if err != nil {
			return err
		}
		n := 0
		for rows.Next() {
			var hashes []byte
			e, err := scanEvent(rows, &hashes)
			if err != nil {
				rows.Close()
				return &VerifyError{Position: uint64(next), Reason: err.Error()}
			}
			if err := fn(e, hashes); err != nil {
				rows.Close()
				return err
			}
			next = int64(e.Position) + 1
			n++
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return err
		}
		if n < page {
			return nil
		}
	}
}

// Verify checks the whole ledger: SQLite's own structure, that positions have
// no gaps, that stream revisions are consecutive, that recorded time never
// decreases, and that re-hashing every event reproduces every stored hash of
// the Merkle tree. It returns the tree head on success and a *VerifyError
// naming the first failing event otherwise.
func (s *SQLite) Verify(ctx context.Context) (TreeHead, error) {
	var head TreeHead
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var check string
		if err := tx.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&check); err != nil {
			return fmt.Errorf("quick_check: %w", err)
		}
		if check != "ok" {
			return fmt.Errorf("the SQLite file is damaged: %s", check)
		}
		cache := newHashCache(1 << 14)
		reader := &overlayReader{cache: cache, load: txHashLoader(ctx, tx)}
		revisions := make(map[string]uint64)
		var want uint64
		var lastTime int64
		err := eachEvent(ctx, tx, func(e domain.RecordedEvent, stored []byte) error {
			fail := func(format string, args ...any) error {
				return &VerifyError{Position: e.Position, Stream: e.Stream, Revision: e.Revision, Reason: fmt.Sprintf(format, args...)}
			}
			if e.Position != want {
				return &VerifyError{Position: want, Reason: fmt.Sprintf("event missing: the next stored position is %d", e.Position)}
			}
			if r, ok := revisions[e.Stream]; (ok && e.Revision != r) || (!ok && e.Revision != 0) {
				return fail("stream revision %d out of sequence (want %d)", e.Revision, r)
			}
			revisions[e.Stream] = e.Revision + 1
			at := e.RecordedAt.UnixNano()
			if at < lastTime {
				return fail("recorded time %s is earlier than the previous event's", e.RecordedAt)
			}
			lastTime = at
			hashes, err := tlog.StoredHashes(int64(e.Position), LeafData(e), reader)
			if err != nil {
				return fail("recompute tree hashes: %v", err)
			}
			first := tlog.StoredHashIndex(0, int64(e.Position))
			if len(stored) != len(hashes)*tlog.HashSize {
				return fail("the event holds %d bytes of tree hashes, want %d", len(stored), len(hashes)*tlog.HashSize)
			}
			for i, h := range hashes {
				if string(stored[i*tlog.HashSize:(i+1)*tlog.HashSize]) != string(h[:]) {
					if i == 0 {
						return fail("the event's bytes no longer match its hash in the Merkle tree")
					}
					return fail("tree hash %d (level %d) does not match the events before it", first+int64(i), i)
				}
			}
			if !json.Valid(e.Data) || !json.Valid(e.Metadata) {
				return fail("data or metadata is not valid JSON")
			}
			cache.put(first, hashes)
			want++
			return nil
		})
		if err != nil {
			return err
		}
		head.Size = want
		head.Root, err = tlog.TreeHash(int64(want), reader)
		return err
	})
	if err != nil {
		var ve *VerifyError
		if errors.As(err, &ve) {
			return TreeHead{}, err
		}
		return TreeHead{}, fmt.Errorf("verify: %w", err)
	}
	return head, nil
}

// Export writes every event, in position order, as JSON Lines (one
// domain.RecordedEvent per line) from one consistent snapshot, and returns
// the tree head of what it wrote.
func (s *SQLite) Export(ctx context.Context, w io.Writer) (TreeHead, error) {
	var head TreeHead
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		bw := bufio.NewWriterSize(w, 1<<16)
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		if err := eachEvent(ctx, tx, func(e domain.RecordedEvent, _ []byte) error {
			head.Size++
			return enc.Encode(e)
		}); err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		r := &overlayReader{cache: newHashCache(1), load: txHashLoader(ctx, tx)}
		var err error
		head.Root, err = tlog.TreeHash(int64(head.Size), r)
		return err
	})
	if err != nil {
		return TreeHead{}, fmt.Errorf("export: %w", err)
	}
	return head, nil
}

// Import loads a JSON Lines export into this ledger, which must be empty.
// Every event keeps its ID, stream, revision, position and recorded time, so
// the rebuilt Merkle tree has the same root as the exported one. Callers
// should import into a new file and discard it on error: an import that
// fails midway leaves the events committed before the failure.
func (s *SQLite) Import(ctx context.Context, r io.Reader) (TreeHead, error) {
	if s.Head() != 0 {
		return TreeHead{}, errors.New("import: the ledger is not empty")
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 2*MaxEventSize+64<<10)
	revisions := make(map[string]uint64)
	var lastTime int64
	var chunk []domain.RecordedEvent
	line := 0
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		events := chunk
		chunk = nil
		req := &writeReq{done: make(chan writeResult, 1), fn: func(b *batch) error {
			for _, e := range events {
				if err := b.insert(e); err != nil {
					return err
				}
				b.lastTime = e.RecordedAt.UnixNano()
			}
			return nil
		}}
		if err := s.enqueue(ctx, req); err != nil {
			return err
		}
		return (<-req.done).err
	}
	for sc.Scan() {
		line++
		var e domain.RecordedEvent
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return TreeHead{}, fmt.Errorf("import: line %d: %w", line, err)
		}
		if err := validateImported(e, uint64(line-1), revisions, lastTime); err != nil {
			return TreeHead{}, fmt.Errorf("import: line %d: %w", line, err)
		}
		revisions[e.Stream] = e.Revision + 1
		lastTime = e.RecordedAt.UnixNano()
		chunk = append(chunk, e)
		if len(chunk) == 1000 {
			if err := flush(); err != nil {
				return TreeHead{}, fmt.Errorf("import: line %d: %w", line, err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return TreeHead{}, fmt.Errorf("import: line %d: %w", line+1, err)
	}
	if err := flush(); err != nil {
		return TreeHead{}, fmt.Errorf("import: %w", err)
	}
	return s.TreeHead(ctx)
}

func validateImported(e domain.RecordedEvent, pos uint64, revisions map[string]uint64, lastTime int64) error {
	if e.Position != pos {
		return fmt.Errorf("position %d, want %d", e.Position, pos)
	}
	if want := revisions[e.Stream]; e.Revision != want {
		return fmt.Errorf("stream %q revision %d, want %d", e.Stream, e.Revision, want)
	}
	if e.RecordedAt.UnixNano() < lastTime {
		return errors.New("recorded time goes backwards")
	}
	canon, fields := domain.CanonicalAppend(e.Stream, []domain.EventData{{
		ID: e.ID, Type: e.Type, SchemaVersion: e.SchemaVersion, Data: e.Data, Metadata: e.Metadata,
	}}, appendLimits)
	if err := domain.InvalidAppend(fields); err != nil {
		return err
	}
	// The ledger only ever stores canonical JSON: anything else was not
	// exported by dealreg and would not reproduce the original hashes.
	if !bytes.Equal(canon[0].Data, e.Data) || !bytes.Equal(canon[0].Metadata, e.Metadata) {
		return errors.New("data or metadata is not in canonical (compact) JSON form")
	}
	return nil
}
