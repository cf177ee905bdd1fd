// Package eventstore holds the embedded ledger: an event store on one SQLite
// file with KurrentDB semantics (optimistic concurrency, a global order,
// catch-up subscriptions), group commit for durable appends, and an RFC 6962
// Merkle tree over the events in global order for tamper evidence.
//
// The file is an ordinary SQLite database (WAL mode) that auditors can open
// with any SQLite tool; docs/ledger-format.md describes its tables and the
// exact bytes that are hashed into the tree.
package eventstore
