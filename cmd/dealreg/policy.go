package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
)

func newPolicyCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Work with policy drafts before they are proposed"}
	var dataDir, draftFile, fromText, toText string
	simulate := &cobra.Command{
		Use:   "simulate --draft FILE --from T [--to T]",
		Short: "Replay a period's submissions under a draft policy and print what would differ",
		Long: `simulate reads the policy document in FILE (as POST /v1/policies takes it) and
replays the registrations first submitted from T (RFC 3339) up to --to (or the
head of the ledger) under it: each submission's eligibility and automatic
approval or routing, against the ledger as it stood before it, and each
approval's protection end and benefits. It prints the differences and their
totals as JSON (the answer of POST /v1/policies/simulate). It only reads the
ledger, so it may run beside serve.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			doc, err := os.ReadFile(draftFile)
			if err != nil {
				return fmt.Errorf("read draft: %w", err)
			}
			draft, err := domain.ParsePolicy(doc)
			if err != nil {
				if de, ok := err.(*domain.Error); ok {
					for _, f := range de.Fields {
						fmt.Fprintf(cmd.ErrOrStderr(), "  %s: %s\n", f.Field, f.Message)
					}
				}
				return fmt.Errorf("draft %s: %w", draftFile, err)
			}
			from, err := time.Parse(time.RFC3339Nano, fromText)
			if err != nil {
				return fmt.Errorf("--from: want an RFC 3339 time such as 2026-04-01T00:00:00Z")
			}
			var to time.Time
			if toText != "" {
				if to, err = time.Parse(time.RFC3339Nano, toText); err != nil {
					return fmt.Errorf("--to: want an RFC 3339 time such as 2026-07-01T00:00:00Z")
				}
				if !from.Before(to) {
					return fmt.Errorf("--to must be after --from")
				}
			}
			store, err := openExisting(dataDir)
			if err != nil {
				return err
			}
			defer store.Close()
			sim, err := app.SimulatePolicy(cmd.Context(), store, draft, from.UTC(), to.UTC())
			if err != nil {
				return err
			}
			out, err := json.MarshalIndent(api.PresentSimulation(sim), "", "  ")
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(out))
			return nil
		},
	}
	simulate.Flags().StringVar(&dataDir, "data", "./data", "data directory holding the ledger")
	simulate.Flags().StringVar(&draftFile, "draft", "", "the draft policy document (JSON)")
	simulate.Flags().StringVar(&fromText, "from", "", "start of the period, included (RFC 3339)")
	simulate.Flags().StringVar(&toText, "to", "", "end of the period, excluded (RFC 3339); default: the head of the ledger")
	_ = simulate.MarkFlagRequired("draft")
	_ = simulate.MarkFlagRequired("from")
	cmd.AddCommand(simulate)
	return cmd
}
