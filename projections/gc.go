package projections

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
)

// catchUpHeap is the heap a long catch-up may grow to between collections
// (see catchUpGC).
const catchUpHeap = 3 << 30

// catchUpGC tunes the collector for a long catch-up and returns what
// restores it. A catch-up allocates a great deal (pages of events, their
// decoding, encoded rows) that dies within a batch, over a live heap of
// views and the claim book that stays: at Go's default (GOGC=100) each
// collection marks the whole live heap again after only as much garbage.
// While catching up, the heap is let grow to catchUpHeap (3 GiB) between
// collections, and never less than the default's twice the live heap:
// the percentage is set again after every batch from the live heap then,
// between 100 and 400. So the memory bound is max(3 GiB, 2 × live) while
// catching up, and Go's default afterwards, when the garbage is returned
// to the system at once. A GOGC or GOMEMLIMIT in the environment is the
// operator's choice and is left alone.
func catchUpGC() (retune func(), restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}, func() {}
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	prev := debug.SetGCPercent(100)
	retune = func() {
		metrics.Read(sample)
		live := uint64(1)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			live = max(1, sample[0].Value.Uint64())
		}
		pct := 100
		if live < catchUpHeap {
			pct = int(min(400, max(100, (catchUpHeap-live)*100/live)))
		}
		debug.SetGCPercent(pct)
	}
	retune()
	return retune, func() {
		debug.SetGCPercent(prev)
		debug.FreeOSMemory()
	}
}
