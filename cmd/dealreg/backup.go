package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
	"github.com/dealreg/dealreg/eventstore/attachments"
	"github.com/spf13/cobra"
)

// A backup is a tar archive (see docs/ledger.md): ledger.jsonl first, the
// events exactly as an events-only export writes them, then for every
// document the ledger names, in the order of its first mention, its
// metadata and its bytes under the attachment store's own layout.
const (
	backupLedger   = "ledger.jsonl"
	backupDocsDir  = "attachments"
	backupFileMode = 0o600
)

func backupDocPath(sha string) string { return path.Join(backupDocsDir, sha[:2], sha) }

// exportBackup writes the backup of the ledger in store and of the
// documents it names, stored in docsDir, to w. Every document is checked
// against its hash before anything is written: a backup never carries a
// missing or corrupt document unnoticed.
func exportBackup(ctx context.Context, store *eventstore.SQLite, docsDir string, w io.Writer) (eventstore.TreeHead, int, error) {
	tmp, err := os.CreateTemp("", "dealreg-export-*.jsonl")
	if err != nil {
		return eventstore.TreeHead{}, 0, err
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	// One read snapshot: the documents are those the exported events name.
	head, err := store.Export(ctx, tmp)
	if err != nil {
		return eventstore.TreeHead{}, 0, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return eventstore.TreeHead{}, 0, err
	}
	refs, err := exportedDocuments(tmp)
	if err != nil {
		return eventstore.TreeHead{}, 0, fmt.Errorf("export: %w", err)
	}
	if err := checkDocuments(docsDir, refs); err != nil {
		return eventstore.TreeHead{}, 0, err // a check failure: exit 1
	}
	size, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		return eventstore.TreeHead{}, 0, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return eventstore.TreeHead{}, 0, err
	}

	bw := bufio.NewWriterSize(w, 1<<16)
	tw := tar.NewWriter(bw)
	// Fixed modes and times keep the archive a function of the ledger.
	entry := func(name string, size int64) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: backupFileMode, Format: tar.FormatUSTAR})
	}
	if err := entry(backupLedger, size); err != nil {
		return eventstore.TreeHead{}, 0, err
	}
	if _, err := io.CopyN(tw, tmp, size); err != nil {
		return eventstore.TreeHead{}, 0, err
	}
	for _, r := range refs {
		if err := exportDocument(tw, entry, docsDir, r); err != nil {
			return eventstore.TreeHead{}, 0, fmt.Errorf("export: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return eventstore.TreeHead{}, 0, err
	}
	return head, len(refs), bw.Flush()
}

func exportDocument(tw *tar.Writer, entry func(string, int64) error, docsDir string, r docRef) error {
	f, b, err := attachments.ReadDocument(docsDir, r.SHA256)
	if err != nil {
		return err
	}
	defer f.Close()
	meta, err := json.Marshal(b)
	if err != nil {
		return err
	}
	if err := entry(backupDocPath(b.SHA256)+".json", int64(len(meta))); err != nil {
		return err
	}
	if _, err := tw.Write(meta); err != nil {
		return err
	}
	if err := entry(backupDocPath(b.SHA256), b.Size); err != nil {
		return err
	}
	// A document changed since it was checked fails the tar writer's
	// length check, or the import's hash check.
	_, err = io.CopyN(tw, f, b.Size)
	return err
}

// exportedDocuments returns the documents named in a JSON Lines export.
func exportedDocuments(r io.Reader) ([]docRef, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 2*eventstore.MaxEventSize+64<<10)
	var refs []docRef
	seen := map[string]bool{}
	for sc.Scan() {
		var rec domain.RecordedEvent
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, err
		}
		a, ok, err := documentOf(rec)
		if err != nil {
			return nil, err
		}
		if ok && !seen[a.SHA256] {
			seen[a.SHA256] = true
			refs = append(refs, docRef{Attachment: a, Stream: rec.Stream, Position: rec.Position})
		}
	}
	return refs, sc.Err()
}

// isBackup reports whether the stream starting with head is a backup
// archive rather than an events-only export (JSON Lines).
func isBackup(head []byte) bool {
	return len(head) >= 263 && bytes.Equal(head[257:262], []byte("ustar"))
}

// importBackup rebuilds the data directory from a backup archive. The
// ledger and the documents are written to temporary names first (the
// documents each checked against their hash) and moved into place only
// when every document the ledger names is there intact, so a failed import
// leaves nothing.
func importBackup(cmd *cobra.Command, dataDir string, r io.Reader) (eventstore.TreeHead, int, error) {
	ctx := cmd.Context()
	tr := tar.NewReader(r)
	hdr, err := tr.Next()
	if err != nil {
		return eventstore.TreeHead{}, 0, fmt.Errorf("import: read the backup: %w", err)
	}
	if hdr.Name != backupLedger || hdr.Typeflag != tar.TypeReg {
		return eventstore.TreeHead{}, 0, fmt.Errorf("import: the backup starts with %q, not %s", hdr.Name, backupLedger)
	}
	staged, err := prepareLedger(cmd, dataDir, tr)
	if err != nil {
		return eventstore.TreeHead{}, 0, err
	}
	defer staged.discard()

	docsDir := filepath.Join(dataDir, attachmentsDir)
	stagingDir := docsDir + ".importing"
	if err := os.RemoveAll(stagingDir); err != nil {
		return eventstore.TreeHead{}, 0, err
	}
	defer os.RemoveAll(stagingDir) // a no-op once moved into place
	staging, err := attachments.Open(stagingDir, attachments.Options{})
	if err != nil {
		return eventstore.TreeHead{}, 0, err
	}
	var restored []string
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return eventstore.TreeHead{}, 0, fmt.Errorf("import: read the backup: %w", err)
		}
		b, err := readBackupMeta(tr, hdr)
		if err != nil {
			return eventstore.TreeHead{}, 0, fmt.Errorf("import: %w", err)
		}
		if hdr, err = tr.Next(); err != nil {
			return eventstore.TreeHead{}, 0, fmt.Errorf("import: attachment %s: no document after its metadata: %w", b.SHA256, err)
		}
		if hdr.Name != backupDocPath(b.SHA256) || hdr.Typeflag != tar.TypeReg {
			return eventstore.TreeHead{}, 0, fmt.Errorf("import: attachment %s: %q follows its metadata, not its document", b.SHA256, hdr.Name)
		}
		if err := staging.Restore(ctx, tr, b); err != nil {
			return eventstore.TreeHead{}, 0, fmt.Errorf("import: %w", err)
		}
		restored = append(restored, b.SHA256)
	}
	if err := checkDocuments(stagingDir, staged.refs); err != nil {
		return eventstore.TreeHead{}, 0, fmt.Errorf("import: the backup is incomplete: %w", err)
	}

	// The documents go into place before the ledger that names them.
	if _, err := os.Stat(docsDir); errors.Is(err, os.ErrNotExist) {
		if err := os.Rename(stagingDir, docsDir); err != nil {
			return eventstore.TreeHead{}, 0, err
		}
		if err := syncDir(dataDir); err != nil {
			return eventstore.TreeHead{}, 0, err
		}
	} else {
		if err := mergeDocuments(ctx, stagingDir, docsDir, restored); err != nil {
			return eventstore.TreeHead{}, 0, err
		}
	}
	if err := staged.install(); err != nil {
		return eventstore.TreeHead{}, 0, err
	}
	return staged.head, len(restored), nil
}

// readBackupMeta reads the metadata entry hdr of a document.
func readBackupMeta(tr *tar.Reader, hdr *tar.Header) (attachments.Blob, error) {
	sha, ok := strings.CutSuffix(hdr.Name, ".json")
	sha = path.Base(sha)
	if !ok || len(sha) != 64 || hdr.Name != backupDocPath(sha)+".json" || hdr.Typeflag != tar.TypeReg || hdr.Size > 4<<10 {
		return attachments.Blob{}, fmt.Errorf("unexpected entry %q in the backup", hdr.Name)
	}
	dec := json.NewDecoder(io.LimitReader(tr, hdr.Size))
	dec.DisallowUnknownFields()
	var b attachments.Blob
	if err := dec.Decode(&b); err != nil {
		return attachments.Blob{}, fmt.Errorf("attachment %s: metadata: %w", sha, err)
	}
	if b.SHA256 != sha {
		return attachments.Blob{}, fmt.Errorf("attachment %s: its metadata names %s", sha, b.SHA256)
	}
	return b, nil
}

// mergeDocuments restores the documents shas from the store in from into
// the existing store in to (which keeps what it already holds intact).
func mergeDocuments(ctx context.Context, from, to string, shas []string) error {
	dst, err := attachments.Open(to, attachments.Options{})
	if err != nil {
		return err
	}
	for _, sha := range shas {
		f, b, err := attachments.ReadDocument(from, sha)
		if err != nil {
			return err
		}
		err = dst.Restore(ctx, f, b)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
