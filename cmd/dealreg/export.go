package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dealreg/dealreg/eventstore"
	"github.com/spf13/cobra"
)

func newExportCommand() *cobra.Command {
	var dataDir, out string
	var eventsOnly bool
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write a backup: the ledger and the proof documents it names, as one tar archive",
		Long: "export writes a backup of the data directory as a tar archive: ledger.jsonl (one\n" +
			"recorded event per line) and every document a RegistrationAttachmentAdded event\n" +
			"names, each checked against its SHA-256 first (see docs/ledger.md). With\n" +
			"--events-only it writes the JSON Lines alone, without the documents.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			store, err := openExisting(dataDir)
			if err != nil {
				return err
			}
			defer store.Close()
			w := cmd.OutOrStdout()
			var f *os.File
			if out != "" && out != "-" {
				if f, err = os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
					return err
				}
				defer func() {
					f.Close()
					if err != nil {
						os.Remove(out) // never leave a partial backup
					}
				}()
				w = f
			}
			var head eventstore.TreeHead
			docs := 0
			if eventsOnly {
				head, err = store.Export(cmd.Context(), w)
			} else {
				head, docs, err = exportBackup(cmd.Context(), store, filepath.Join(dataDir, attachmentsDir), w)
			}
			if err != nil {
				return err
			}
			if f != nil {
				if err := f.Sync(); err != nil {
					return err
				}
				if err := f.Close(); err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "exported %d events, tree root %s\n", head.Size, head.RootHex())
			if !eventsOnly {
				fmt.Fprintf(cmd.ErrOrStderr(), "exported %d attachments\n", docs)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "./data", "data directory holding the ledger")
	cmd.Flags().StringVarP(&out, "out", "o", "", "file to write (must not exist); standard output if empty")
	cmd.Flags().BoolVar(&eventsOnly, "events-only", false, "write the events as JSON Lines, without the documents")
	return cmd
}

func newImportCommand() *cobra.Command {
	var dataDir, in string
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Restore a backup (or a JSON Lines export) into a new ledger, reproducing its hashes",
		Long: "import rebuilds a data directory from a backup written by export, or the ledger\n" +
			"alone from an --events-only export. The data directory must not hold a ledger\n" +
			"yet. The ledger and the documents (each checked against its SHA-256) are written\n" +
			"to temporary names first and moved into place only when every event was loaded\n" +
			"and every document the ledger names is there intact, so a failed import leaves\n" +
			"nothing.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := os.Stat(ledgerPath(dataDir)); err == nil {
				return fmt.Errorf("%s already holds a ledger: import only into an empty data directory", dataDir)
			}
			if err := os.MkdirAll(dataDir, 0o700); err != nil {
				return err
			}
			r := cmd.InOrStdin()
			if in != "" && in != "-" {
				f, err := os.Open(in)
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			br := bufio.NewReaderSize(r, 1<<16)
			head, _ := br.Peek(512) // shorter at the end of a small export
			if isBackup(head) {
				th, docs, err := importBackup(cmd, dataDir, br)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "imported %d events, tree root %s\n", th.Size, th.RootHex())
				fmt.Fprintf(cmd.ErrOrStderr(), "imported %d attachments\n", docs)
				return nil
			}
			th, refs, err := importLedger(cmd, dataDir, br)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "imported %d events, tree root %s\n", th.Size, th.RootHex())
			if len(refs) > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: the ledger names %d attachments an events-only export does not carry; verify reports them missing\n", len(refs))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "./data", "data directory for the new ledger")
	cmd.Flags().StringVarP(&in, "in", "i", "", "backup or export file to read; standard input if empty")
	return cmd
}

// stagedLedger is an imported ledger verified under a temporary name.
type stagedLedger struct {
	tmp, final string
	head       eventstore.TreeHead
	refs       []docRef // the documents it names
	installed  bool
}

// prepareLedger imports the export read from r into a temporary ledger in
// dataDir, verifies it and checkpoints it into one file.
func prepareLedger(cmd *cobra.Command, dataDir string, r io.Reader) (*stagedLedger, error) {
	st := &stagedLedger{tmp: ledgerPath(dataDir) + ".importing", final: ledgerPath(dataDir)}
	st.discard()
	store, err := eventstore.OpenSQLite(st.tmp, eventstore.Options{Logger: newLogger(io.Discard)})
	if err != nil {
		return nil, err
	}
	st.head, err = store.Import(cmd.Context(), r)
	if err == nil {
		_, err = store.Verify(cmd.Context())
	}
	if err == nil {
		st.refs, err = ledgerDocuments(cmd.Context(), store)
	}
	if closeErr := store.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		st.discard()
		return nil, err
	}
	// Closing the last connection checkpointed the WAL into the file, so
	// the file alone is the whole ledger.
	if _, err := os.Stat(st.tmp + "-wal"); err == nil {
		st.discard()
		return nil, fmt.Errorf("import: the write-ahead log was not checkpointed")
	}
	return st, nil
}

// discard removes the temporary ledger unless it was installed.
func (st *stagedLedger) discard() {
	if st.installed {
		return
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(st.tmp + suffix)
	}
}

// install moves the ledger into place, durably.
func (st *stagedLedger) install() error {
	if err := os.Rename(st.tmp, st.final); err != nil {
		return err
	}
	st.installed = true
	// The rename is durable only once the directory entry is on disk: until
	// then a crash could leave no ledger, or the temporary file, behind.
	if err := syncDir(filepath.Dir(st.final)); err != nil {
		return fmt.Errorf("import: make the ledger's name durable: %w", err)
	}
	return nil
}

func importLedger(cmd *cobra.Command, dataDir string, r io.Reader) (eventstore.TreeHead, []docRef, error) {
	st, err := prepareLedger(cmd, dataDir, r)
	if err != nil {
		return eventstore.TreeHead{}, nil, err
	}
	defer st.discard()
	if err := st.install(); err != nil {
		return eventstore.TreeHead{}, nil, err
	}
	return st.head, st.refs, nil
}

// syncDir flushes a directory, making the creations, renames and removals
// of names in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}
