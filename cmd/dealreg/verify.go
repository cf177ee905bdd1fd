package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/dealreg/dealreg/eventstore"
	"github.com/spf13/cobra"
)

func newVerifyCommand() *cobra.Command {
	var dataDir, key string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Re-hash every event and check the ledger's Merkle tree",
		Long: "verify re-hashes every event of the ledger, checks every stored Merkle tree hash,\n" +
			"that positions have no gaps, that stream revisions are consecutive and that\n" +
			"recorded time never decreases, then that every document a\n" +
			"RegistrationAttachmentAdded event names is stored in the data directory with\n" +
			"the right SHA-256, and that every signed checkpoint the ledger stored verifies\n" +
			"with the ledger's key (--key, default DATA/signing.pub) and matches the tree:\n" +
			"a ledger cut or rewritten after a checkpoint was signed contradicts it. It exits\n" +
			"1 naming the first event, document or checkpoint that fails.",
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
			if err := verifyCheckpoints(cmd, store, dataDir, key); err != nil {
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
	cmd.Flags().StringVar(&key, "key", "", "the ledger's verifier key, or a file holding it (default: DATA/signing.pub)")
	return cmd
}

// verifyCheckpoints checks every stored checkpoint (proofs.md).
func verifyCheckpoints(cmd *cobra.Command, store *eventstore.SQLite, dataDir, key string) error {
	v, err := ledgerVerifier(dataDir, key)
	if err != nil {
		return err
	}
	n, err := store.VerifyCheckpoints(cmd.Context(), v)
	var ce *eventstore.CheckpointError
	if errors.As(err, &ce) {
		return &exitError{code: 1, err: fmt.Errorf("the ledger contradicts a checkpoint it signed: %w", err)}
	}
	if err != nil {
		return err
	}
	switch {
	case n == 0:
	case v == nil:
		fmt.Fprintf(cmd.OutOrStdout(), "ok: %d signed checkpoints match the tree (signatures not checked: no key; give --key)\n", n)
	default:
		fmt.Fprintf(cmd.OutOrStdout(), "ok: %d signed checkpoints verified with %s and match the tree\n", n, v.Name())
	}
	return nil
}
