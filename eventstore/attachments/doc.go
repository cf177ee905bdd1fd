// Package attachments stores the proof documents partners upload with a
// registration (e-mail introductions, meeting confirmations, discovery
// deliverables) by content address, so that a ledger event naming a
// document's SHA-256 proves exactly which bytes were submitted.
//
// Layout on disk, under the directory given to Open:
//
//	<dir>/.tmp-*           uploads staged or being written; removed by Open
//	                       and Collect when older than a minute (left by a crash)
//	<dir>/ab/abcd…ef       the document, named by the lowercase hex SHA-256
//	                       of its bytes and fanned out by its first two digits
//	<dir>/ab/abcd…ef.json  its metadata: {"sha256","size","content_type"}
//
// Both files are written to a temporary name, fsynced and renamed into
// place, and the fan-out directory is fsynced after each rename. The
// metadata file is renamed first, so a document visible under its final
// name always has its metadata; a metadata file without a document (a crash
// in between) is ignored and overwritten by the next upload of that content.
// Documents are never modified once stored.
//
// A document an event will name is staged (Stage: read, hashed, sniffed
// and fsynced under a temporary name) and published (Staged.Publish: the
// renames above) only once the command naming it is decided, so that a
// refused command keeps nothing. A crash between Publish and the append
// can leave a document no event names; Collect removes such orphans once
// they are older than a grace period. Backups use VerifyDocument,
// ReadDocument and Restore (see docs/ledger.md).
package attachments
