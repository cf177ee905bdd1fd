package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"github.com/dealreg/dealreg/proof"
)

func newProofCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "proof",
		Short: "Check receipts, dispute bundles and consistency proofs offline",
	}
	cmd.AddCommand(newProofVerifyCommand())
	return cmd
}

func newProofVerifyCommand() *cobra.Command {
	var key, older string
	cmd := &cobra.Command{
		Use:   "verify FILE...",
		Short: "Verify receipts or a dispute bundle with the ledger's public key alone",
		Long: "verify checks each FILE (a receipt, a receipt list, a dispute bundle or a\n" +
			"consistency proof, as the API serves them) with no server and no ledger: the\n" +
			"checkpoint's Ed25519 signature with --key, that the event shown is the leaf,\n" +
			"that the inclusion proof leads from the leaf to the signed root, and, with\n" +
			"--checkpoint, that an older checkpoint you kept is a prefix of the file's\n" +
			"(the ledger was not rewritten since). It prints which event came first by\n" +
			"ledger position. Any failure is explained in words and exits 1.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			if key == "" {
				return fmt.Errorf("--key is required: the ledger's verifier key (GET /v1/ledger/key, or DATA/signing.pub)")
			}
			v, err := readVerifierKey(key)
			if err != nil {
				return err
			}
			var olderCheckpoint *proof.Checkpoint
			if older != "" {
				c, err := readOlderCheckpoint(older, v)
				if err != nil {
					return &exitError{code: 1, err: fmt.Errorf("--checkpoint %s: %w", older, err)}
				}
				olderCheckpoint = &c
			}
			return verifyProofFiles(cmd.OutOrStdout(), files, v, olderCheckpoint)
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "the ledger's verifier key, or a file holding it")
	cmd.Flags().StringVar(&older, "checkpoint", "", "an older signed checkpoint you kept (its note, the JSON of GET /v1/ledger/checkpoint, or an older receipt): check the ledger was not rewritten since")
	return cmd
}

// readOlderCheckpoint reads a signed checkpoint from a file: the note
// itself, or any JSON document with a "checkpoint" field (a checkpoint, a
// receipt, a bundle).
func readOlderCheckpoint(path string, v note.Verifier) (proof.Checkpoint, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return proof.Checkpoint{}, err
	}
	var doc struct {
		Checkpoint string `json:"checkpoint"`
	}
	if json.Unmarshal(raw, &doc) == nil && doc.Checkpoint != "" {
		raw = []byte(doc.Checkpoint)
	}
	return proof.OpenCheckpoint(raw, v)
}

func verifyProofFiles(out io.Writer, files []string, v note.Verifier, older *proof.Checkpoint) error {
	var all []proof.VerifiedEvent
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		rep, err := proof.Verify(raw, v, older)
		if err != nil {
			return &exitError{code: 1, err: fmt.Errorf("%s does not verify: %w", file, err)}
		}
		fmt.Fprintf(out, "ok: %s: %s signed by %s for the first %d events of the ledger\n", file, describeFormat(rep.Format), v.Name(), rep.Checkpoint.Size)
		for _, ev := range rep.Events {
			fmt.Fprintf(out, "ok:   %s: %s\n", ev.Label, describeLeaf(ev.Leaf))
		}
		if rep.Older != nil {
			fmt.Fprintf(out, "ok:   consistent with the older checkpoint of %d events: nothing before it was changed or removed\n", rep.Older.Size)
		}
		for _, ev := range rep.Events {
			ev.Label = file + " " + ev.Label
			all = append(all, ev)
		}
	}
	if len(all) > 1 {
		fmt.Fprintln(out, "order in the ledger (the lower position was recorded first):")
		for i, ev := range proof.Order(all) {
			fmt.Fprintf(out, "  %d. position %d: %s (%s)\n", i+1, ev.Leaf.Position, ev.Label, ev.Leaf.Type)
		}
	}
	return nil
}

func describeFormat(f string) string {
	switch f {
	case proof.ReceiptFormat:
		return "receipt"
	case proof.ReceiptListFormat:
		return "receipt list"
	case proof.BundleFormat:
		return "dispute bundle"
	case proof.ConsistencyFormat:
		return "consistency proof"
	}
	return f
}

func describeLeaf(l proof.Leaf) string {
	var meta struct {
		Actor   string `json:"actor_id"`
		Partner string `json:"partner_id"`
	}
	_ = json.Unmarshal(l.Metadata, &meta)
	who := ""
	if meta.Partner != "" {
		who = ", partner " + meta.Partner
	} else if meta.Actor != "" {
		who = ", by " + meta.Actor
	}
	return fmt.Sprintf("%s of %s at position %d, recorded %s%s", l.Type, l.Stream, l.Position,
		time.Unix(0, l.RecordedAt).UTC().Format(time.RFC3339Nano), who)
}
