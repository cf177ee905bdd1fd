package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/dealreg/dealreg/eventstore"
	"github.com/spf13/cobra"
)

func newVerifyCommand() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Re-hash every event and check the ledger's Merkle tree",
		Long: "verify re-hashes every event of the ledger, checks every stored Merkle tree hash,\n" +
			"that positions have no gaps, that stream revisions are consecutive and that\n" +
			"recorded time never decreases, then that every document a\n" +
			"RegistrationAttachmentAdded event names is stored in the data directory with\n" +
			"the right SHA-256. It exits 1 naming the first event or document that fails.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := openExisting(dataDir)
			if err != nil {
				return err
			}
			defer store.Close()
			head, err := store.Verify(cmd.Context())
			var ve *eventstore.VerifyError
			if errors.As(err, &ve) {
				return &exitError{code: 1, err: err}
			}
			if err != nil {
				return err
			}
			refs, err := ledgerDocuments(cmd.Context(), store)
			if err != nil {
				return err
			}
			if err := checkDocuments(filepath.Join(dataDir, attachmentsDir), refs); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %d events verified, tree root %s\n", head.Size, head.RootHex())
			if len(refs) > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "ok: %d attachments verified\n", len(refs))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "./data", "data directory holding the ledger")
	return cmd
}
