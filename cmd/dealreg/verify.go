package main

import (
	"errors"
	"fmt"

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
			"recorded time never decreases. It exits 1 naming the first event that fails.",
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
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %d events verified, tree root %s\n", head.Size, head.RootHex())
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "./data", "data directory holding the ledger")
	return cmd
}
