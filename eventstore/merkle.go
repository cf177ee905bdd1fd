package eventstore

import (
	"fmt"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/proof"
	"golang.org/x/mod/sumdb/tlog"
)

// LeafData returns the bytes of e that are hashed into the Merkle tree: every
// field of the recorded event, each length-prefixed (uvarint) in a fixed
// order, so that no two different events share leaf bytes (proof.Leaf).
func LeafData(e domain.RecordedEvent) []byte {
	return leafOf(e).Encode()
}

func leafOf(e domain.RecordedEvent) proof.Leaf {
	return proof.Leaf{
		EventID: e.ID, Stream: e.Stream, Revision: e.Revision, Position: e.Position, Type: e.Type,
		SchemaVersion: uint64(e.SchemaVersion), RecordedAt: e.RecordedAt.UnixNano(), Data: e.Data, Metadata: e.Metadata,
	}
}

// hashCache keeps the most recently stored tree hashes in memory. Computing
// the stored hashes of record n reads, on average, one earlier hash, almost
// always one written moments before, so a small window of recent hashes
// answers nearly every read; older ones fall back to the database.
type hashCache struct {
	size int64
	ring []tlog.Hash
	// next is one past the highest stored-hash index held; the ring holds
	// indexes [next-len, next).
	next int64
	held int64
}

func newHashCache(size int) *hashCache {
	return &hashCache{size: int64(size), ring: make([]tlog.Hash, size)}
}

// get returns the hash at index i if the cache holds it.
func (c *hashCache) get(i int64) (tlog.Hash, bool) {
	if i >= c.next || i < c.next-c.held {
		return tlog.Hash{}, false
	}
	return c.ring[i%c.size], true
}

// reset empties the cache.
func (c *hashCache) reset() { c.next, c.held = 0, 0 }

// put records hashes stored at consecutive indexes starting at first. Hashes
// must be put in index order; a gap resets the cache.
func (c *hashCache) put(first int64, hashes []tlog.Hash) {
	if first != c.next {
		c.next, c.held = first, 0
	}
	for _, h := range hashes {
		c.ring[c.next%c.size] = h
		c.next++
		if c.held < c.size {
			c.held++
		}
	}
}

// overlayReader answers tlog's hash reads from hashes pending in the current
// transaction, then the cache, then the database.
type overlayReader struct {
	pendingFirst int64
	pending      []tlog.Hash
	cache        *hashCache
	load         func(index int64) (tlog.Hash, error)
}

func (r *overlayReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		if off := idx - r.pendingFirst; off >= 0 && off < int64(len(r.pending)) {
			out[i] = r.pending[off]
			continue
		}
		if h, ok := r.cache.get(idx); ok {
			out[i] = h
			continue
		}
		h, err := r.load(idx)
		if err != nil {
			return nil, fmt.Errorf("read tree hash %d: %w", idx, err)
		}
		out[i] = h
	}
	return out, nil
}
