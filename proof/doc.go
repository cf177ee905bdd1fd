// Package proof holds the formats a dispute reviewer receives from the
// ledger (receipts, dispute bundles, consistency proofs and signed
// checkpoints) and checks them offline, with the ledger's public key and the
// RFC 6962 hashing rules alone: no server, no ledger. It does no I/O.
//
// A checkpoint is a C2SP tlog-checkpoint (origin line, tree size, base64
// root hash) signed as a note (golang.org/x/mod/sumdb/note, Ed25519). A
// receipt carries one event's leaf bytes exactly as they were hashed, its
// leaf index (its ledger position), an inclusion proof and a signed
// checkpoint. See docs/proofs.md.
package proof
