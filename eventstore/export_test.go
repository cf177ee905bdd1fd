package eventstore

// Test hooks: options that only tests and benchmarks may set.

// WithoutMerkle turns the Merkle tree off, to measure its cost.
func WithoutMerkle(o Options) Options { o.noMerkle = true; return o }

// WithMaxPageCount caps the file size in pages, to simulate a full disk.
func WithMaxPageCount(o Options, pages int) Options { o.maxPageCount = pages; return o }
