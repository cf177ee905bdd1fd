package eventstore

// applicationID marks a SQLite file as a dealreg ledger (PRAGMA
// application_id), so that opening some other database fails clearly.
const applicationID = 0x64726567 // "dreg"

// migrations[v] brings a ledger from schema version v-1 to v. The version is
// kept in PRAGMA user_version. Never edit a released migration: add one.
var migrations = []string{
	1: `
CREATE TABLE events (
	position       INTEGER PRIMARY KEY,  -- global position, 0-based, no gaps; also the Merkle leaf index
	event_id       BLOB    NOT NULL UNIQUE,
	stream         TEXT    NOT NULL,
	revision       INTEGER NOT NULL,
	type           TEXT    NOT NULL,
	schema_version INTEGER NOT NULL,
	data           TEXT    NOT NULL,
	metadata       TEXT    NOT NULL,
	recorded_at    INTEGER NOT NULL,     -- Unix nanoseconds, assigned at commit, never decreasing
	-- hashes: the RFC 6962 Merkle tree hashes this event completes, 32 bytes
	-- each, as golang.org/x/mod/sumdb/tlog.StoredHashes returns them: its leaf
	-- hash, then one hash per level of every subtree it closes.
	hashes         BLOB    NOT NULL,
	UNIQUE (stream, revision)
);
`,
	2: `
-- Signed checkpoints (docs/proofs.md): every checkpoint the store signed,
-- in the transaction of the commit it covers. Never updated or deleted.
-- Keyed by size: one B-tree, appended at its end (no second index to
-- write in every commit), and never two checkpoints of one size.
CREATE TABLE checkpoints (
	size      INTEGER PRIMARY KEY,  -- tree size: the events it covers
	root      BLOB    NOT NULL,     -- RFC 6962 root hash of those events
	note      BLOB    NOT NULL,     -- the signed note (C2SP tlog-checkpoint), as served
	signed_at INTEGER NOT NULL      -- Unix ns: the recorded time of the commit it covers
);
`,
}

// SchemaVersion is the ledger schema version this build writes.
var SchemaVersion = len(migrations) - 1
