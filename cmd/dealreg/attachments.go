package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
	"github.com/dealreg/dealreg/eventstore/attachments"
	"github.com/spf13/cobra"
)

// docRef is a document the ledger names: its first RegistrationAttachmentAdded.
type docRef struct {
	domain.Attachment
	Stream   string
	Position uint64
}

// ledgerDocuments returns every document the ledger's
// RegistrationAttachmentAdded events name, once each, in the order of
// their first mention.
func ledgerDocuments(ctx context.Context, store *eventstore.SQLite) ([]docRef, error) {
	var refs []docRef
	seen := map[string]bool{}
	const page = 1000
	for from := uint64(0); ; {
		recs, err := store.ReadAll(ctx, domain.ReadAllOptions{From: from, Count: page})
		if err != nil {
			return nil, err
		}
		for _, rec := range recs {
			a, ok, err := documentOf(rec)
			if err != nil {
				return nil, err
			}
			if ok && !seen[a.SHA256] {
				seen[a.SHA256] = true
				refs = append(refs, docRef{Attachment: a, Stream: rec.Stream, Position: rec.Position})
			}
		}
		if len(recs) < page {
			return refs, nil
		}
		from = recs[len(recs)-1].Position + 1
	}
}

// documentOf returns the document a RegistrationAttachmentAdded event names.
func documentOf(rec domain.RecordedEvent) (domain.Attachment, bool, error) {
	if rec.Type != (domain.RegistrationAttachmentAdded{}).EventType() {
		return domain.Attachment{}, false, nil
	}
	ev, err := domain.DecodeEvent(rec.Type, rec.SchemaVersion, rec.Data)
	if err != nil {
		return domain.Attachment{}, false, fmt.Errorf("position %d: %w", rec.Position, err)
	}
	added, ok := ev.(domain.RegistrationAttachmentAdded)
	if !ok {
		return domain.Attachment{}, false, fmt.Errorf("position %d: unexpected %T", rec.Position, ev)
	}
	return added.Attachment, true, nil
}

// checkDocuments checks that every document in refs is stored intact in
// the attachment directory dir. It returns a check failure (exit 1) naming
// the first missing or corrupt one.
func checkDocuments(dir string, refs []docRef) error {
	for _, r := range refs {
		_, err := attachments.VerifyDocument(dir, r.SHA256)
		switch {
		case err == nil:
			continue
		case domain.ErrorCode(err) == domain.ENOTFOUND:
			return &exitError{code: 1, err: fmt.Errorf("attachment %s (named at position %d, %s) is missing from %s", r.SHA256, r.Position, r.Stream, dir)}
		case errors.Is(err, attachments.ErrCorrupt):
			return &exitError{code: 1, err: fmt.Errorf("attachment %s (named at position %d, %s): %w", r.SHA256, r.Position, r.Stream, err)}
		default:
			return err
		}
	}
	return nil
}

func newAttachmentsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "attachments",
		Short: "Maintain the proof documents stored beside the ledger",
	}
	cmd.AddCommand(newAttachmentsGCCommand())
	return cmd
}

func newAttachmentsGCCommand() *cobra.Command {
	var dataDir string
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "gc",
		Short: "Remove stored documents no ledger event names",
		Long: "gc removes the documents that no RegistrationAttachmentAdded event names and\n" +
			"that are older than the grace period, metadata left without its document and\n" +
			"stale temporary files: what a crash between storing a document and appending\n" +
			"its event leaves. Documents in use by an upload in flight are newer than the\n" +
			"grace period; run it with serve stopped to rule out even that race.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := openExisting(dataDir)
			if err != nil {
				return err
			}
			defer store.Close()
			dir := filepath.Join(dataDir, attachmentsDir)
			if _, err := os.Stat(dir); err != nil {
				fmt.Fprintln(cmd.OutOrStdout(), "no attachments stored")
				return nil
			}
			// The ledger is read before the sweep: an event appended after
			// it names a document Publish made recent.
			now := time.Now()
			refs, err := ledgerDocuments(cmd.Context(), store)
			if err != nil {
				return err
			}
			named := make(map[string]bool, len(refs))
			for _, r := range refs {
				named[r.SHA256] = true
			}
			docs, err := attachments.Open(dir, attachments.Options{})
			if err != nil {
				return err
			}
			c, err := docs.Collect(cmd.Context(), func(sha string) bool { return named[sha] }, grace, now)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed %d documents (%d bytes), %d metadata files, %d temporary files; kept %d documents\n",
				c.Documents, c.Bytes, c.Metadata, c.Temps, c.Kept)
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "./data", "data directory holding the ledger")
	cmd.Flags().DurationVar(&grace, "grace", attachments.DefaultCollectGrace, "keep unnamed documents younger than this")
	return cmd
}
