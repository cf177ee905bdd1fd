package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// replayLine is one event of `dealreg replay --json`.
type replayLine struct {
	projections.HistoryEntry
	Stream        string `json:"stream"`
	PolicyVersion int    `json:"policy_version,omitempty"`
}

func newReplayCommand() *cobra.Command {
	var dataDir, asOf, registration, partner string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "replay",
		Short: "Print the ledger's history as an auditor reads it: who, when, what, under which policy version",
		Long: `replay reads the ledger in order and prints one line per event: its global
position, recorded time, stream, type, who acted (token, name and role), the policy
version the decision names, and what happened. --as-of stops at a moment;
--registration keeps one registration's events; --partner keeps every event of a
partner's registrations and every event naming the partner. --json prints one JSON
object per event instead. A progress bar shows on a terminal. It only reads.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var until time.Time
			if asOf != "" {
				t, err := time.Parse(time.RFC3339Nano, asOf)
				if err != nil {
					return fmt.Errorf("--as-of: want an RFC 3339 time such as 2026-03-31T23:59:59Z: %w", err)
				}
				until = t
			}
			if registration != "" {
				if _, err := uuid.Parse(registration); err != nil {
					return fmt.Errorf("--registration: not a registration ID: %w", err)
				}
			}
			store, err := openExisting(dataDir)
			if err != nil {
				return err
			}
			defer store.Close()
			return replay(cmd, store, until, registration, partner, asJSON)
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "./data", "data directory holding the ledger")
	cmd.Flags().StringVar(&asOf, "as-of", "", "stop after the last event recorded at or before this RFC 3339 time")
	cmd.Flags().StringVar(&registration, "registration", "", "only this registration's events")
	cmd.Flags().StringVar(&partner, "partner", "", "only this partner's registrations and the events naming it")
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per event")
	return cmd
}

func replay(cmd *cobra.Command, store domain.EventStore, until time.Time, registration, partner string, asJSON bool) error {
	ctx := cmd.Context()
	out := cmd.OutOrStdout()
	head := uint64(0)
	if h, ok := store.(interface{ Head() uint64 }); ok {
		head = h.Head()
	}
	bar := newProgress(cmd.ErrOrStderr(), "replay")
	defer bar.done()
	var stream string
	if registration != "" {
		stream = domain.RegistrationStream(uuid.MustParse(registration))
	}
	partnerStreams := map[string]bool{}
	partnerKey := []byte(`"partner_id":` + quoteJSON(partner))
	keep := func(rec domain.RecordedEvent) bool {
		if partner == "" {
			return true
		}
		if partnerStreams[rec.Stream] {
			return true
		}
		if bytes.Contains(rec.Data, partnerKey) {
			if strings.HasPrefix(rec.Stream, "registration-") {
				partnerStreams[rec.Stream] = true // its later events name no partner
			}
			return true
		}
		return false
	}
	if stream != "" {
		recs, err := store.ReadStream(ctx, stream, domain.ReadStreamOptions{})
		if err != nil {
			return fmt.Errorf("registration %s: %w", registration, err)
		}
		for _, rec := range recs {
			if !until.IsZero() && rec.RecordedAt.After(until) {
				return nil
			}
			if err := printEvent(out, rec, asJSON); err != nil {
				return err
			}
		}
		return nil
	}
	const page = 4096
	for from := uint64(0); ; {
		recs, err := store.ReadAll(ctx, domain.ReadAllOptions{From: from, Count: page})
		if err != nil {
			return err
		}
		for _, rec := range recs {
			if !until.IsZero() && rec.RecordedAt.After(until) {
				return nil
			}
			if !keep(rec) {
				continue
			}
			if err := printEvent(out, rec, asJSON); err != nil {
				return err
			}
		}
		if len(recs) < page {
			return nil
		}
		from = recs[len(recs)-1].Position + 1
		bar.update(from, head)
	}
}

func printEvent(w io.Writer, rec domain.RecordedEvent, asJSON bool) error {
	e, err := projections.Describe(rec)
	if err != nil {
		return err
	}
	var pv struct {
		PolicyVersion int `json:"policy_version"`
	}
	_ = json.Unmarshal(rec.Data, &pv) // an event without one has none
	if asJSON {
		e.Data = rec.Data
		b, err := json.Marshal(replayLine{HistoryEntry: e, Stream: rec.Stream, PolicyVersion: pv.PolicyVersion})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	who := e.ActorID
	if e.ActorName != "" || e.Role != "" {
		who += " (" + strings.TrimSpace(e.ActorName+", "+string(e.Role)) + ")"
		who = strings.Replace(who, "(, ", "(", 1)
	}
	if who == "" {
		who = "-"
	}
	policy := ""
	if pv.PolicyVersion > 0 {
		policy = fmt.Sprintf(" [policy v%d]", pv.PolicyVersion)
	}
	_, err = fmt.Fprintf(w, "#%d %s %s %s by %s%s: %s\n", rec.Position, rec.RecordedAt.UTC().Format(time.RFC3339), rec.Stream, rec.Type, who, policy, e.Summary)
	return err
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
