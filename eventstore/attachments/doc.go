// Package attachments stores the proof documents partners upload with a
// registration (e-mail introductions, meeting confirmations, discovery
// deliverables) by content address, so that a ledger event naming a
// document's SHA-256 proves exactly which bytes were submitted.
//
// Layout on disk, under the directory given to Open:
//
//	<dir>/.tmp-*           uploads and metadata being written; removed by
//	                       Open when older than a minute (left by a crash)
//	<dir>/ab/abcd…ef       the document, named by the lowercase hex SHA-256
//	                       of its bytes and fanned out by its first two digits
//	<dir>/ab/abcd…ef.json  its metadata: {"sha256","size","content_type"}
//
// Both files are written to a temporary name, fsynced and renamed into
// place, and the fan-out directory is fsynced after each rename. The
// metadata file is renamed first, so a document visible under its final
// name always has its metadata; a metadata file without a document (a crash
// in between) is ignored and overwritten by the next upload of that content.
// Documents are never modified or deleted once stored.
package attachments
