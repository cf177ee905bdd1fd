package main

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/dealreg/dealreg/eventstore"
	"github.com/spf13/cobra"
)

func newExportCommand() *cobra.Command {
	var dataDir, out string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the ledger as JSON Lines (one recorded event per line)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
				defer f.Close()
				w = f
			}
			head, err := store.Export(cmd.Context(), w)
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
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "./data", "data directory holding the ledger")
	cmd.Flags().StringVarP(&out, "out", "o", "", "file to write (must not exist); standard output if empty")
	return cmd
}

func newImportCommand() *cobra.Command {
	var dataDir, in string
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Load a JSON Lines export into a new ledger, reproducing its hashes",
		Long: "import rebuilds a ledger from an export. The data directory must not hold a\n" +
			"ledger yet. The import is written to a temporary file first and moved into\n" +
			"place only when every event was loaded, so a failed import leaves nothing.",
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
			head, err := importLedger(cmd, dataDir, bufio.NewReaderSize(r, 1<<16))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "imported %d events, tree root %s\n", head.Size, head.RootHex())
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "./data", "data directory for the new ledger")
	cmd.Flags().StringVarP(&in, "in", "i", "", "export file to read; standard input if empty")
	return cmd
}

func importLedger(cmd *cobra.Command, dataDir string, r io.Reader) (eventstore.TreeHead, error) {
	tmp := ledgerPath(dataDir) + ".importing"
	removeTmp := func() {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(tmp + suffix)
		}
	}
	removeTmp()
	store, err := eventstore.OpenSQLite(tmp, eventstore.Options{Logger: newLogger(io.Discard)})
	if err != nil {
		return eventstore.TreeHead{}, err
	}
	head, err := store.Import(cmd.Context(), r)
	if err == nil {
		_, err = store.Verify(cmd.Context())
	}
	if closeErr := store.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		removeTmp()
		return eventstore.TreeHead{}, err
	}
	// Closing the last connection checkpointed the WAL into the file, so
	// the file alone is the whole ledger.
	if _, err := os.Stat(tmp + "-wal"); err == nil {
		removeTmp()
		return eventstore.TreeHead{}, fmt.Errorf("import: the write-ahead log was not checkpointed")
	}
	if err := os.Rename(tmp, ledgerPath(dataDir)); err != nil {
		removeTmp()
		return eventstore.TreeHead{}, err
	}
	// The rename is durable only once the directory entry is on disk: until
	// then a crash could leave no ledger, or the temporary file, behind.
	if err := syncDir(dataDir); err != nil {
		return eventstore.TreeHead{}, fmt.Errorf("import: make the ledger's name durable: %w", err)
	}
	return head, nil
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
