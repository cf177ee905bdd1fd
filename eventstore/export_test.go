package eventstore

// Test hooks: options that only tests and benchmarks may set.

// WithoutMerkle turns the Merkle tree off, to measure its cost.
func WithoutMerkle(o Options) Options { o.noMerkle = true; return o }

// WithoutSync commits without flushing (Options.NoSync), to measure what an
// append costs besides the disk's flush.
func WithoutSync(o Options) Options { o.NoSync = true; return o }

// WithMaxPageCount caps the file size in pages, to simulate a full disk.
func WithMaxPageCount(o Options, pages int) Options { o.maxPageCount = pages; return o }

// BatchStats returns how many group commits succeeded and how many requests
// they carried.
func BatchStats(s *SQLite) (commits, requests uint64) {
	return s.commits.Load(), s.committedReqs.Load()
}
