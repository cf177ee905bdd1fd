package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
)

// generateStart is the default first day of a generated programme: fixed,
// so that a seed alone decides the ledger.
const generateStart = "2025-06-02"

func newGenerateCommand() *cobra.Command {
	var (
		dataDir, start string
		events, span   int
		seed           uint64
	)
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Build a large, realistic ledger for measurements (deterministic for a seed)",
		Long: `generate fills an empty ledger with a partner programme of about --events
events: hundreds of partners in tiers and countries, territory grants,
registrations through whole lifecycles (drafts, returns, reviews, approvals,
rejections, extensions, renewals, closes, withdrawals, expiries), duplicates
and conflicts decided by the desk, direct-sales deals and reviewers' account
decisions. It runs the same commands as the HTTP API, so events have exactly
the shapes the server writes, with a simulated clock that starts on --start
and spreads the arrivals over --days. The same --seed (and flags) builds the
same ledger, byte for byte. Commits are not flushed one by one (the file is
flushed once at the end): a machine crash during generation may leave a
broken ledger, which is generated again. See docs/generate.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, err := time.Parse(time.DateOnly, start)
			if err != nil {
				return fmt.Errorf("--start: want a date such as %s: %w", generateStart, err)
			}
			if events < 100 {
				return fmt.Errorf("--events: want at least 100, got %d", events)
			}
			if span < 30 {
				return fmt.Errorf("--days: want at least 30, got %d", span)
			}
			return generate(cmd.Context(), cmd, dataDir, uint64(events), seed, from, span)
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "./data", "data directory; the ledger in it must be empty or absent")
	cmd.Flags().IntVar(&events, "events", 100_000, "about how many events to generate")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "seed of every random choice: the same seed builds the same ledger")
	cmd.Flags().StringVar(&start, "start", generateStart, "first day of the simulated programme (UTC)")
	cmd.Flags().IntVar(&span, "days", 540, "days over which new registrations arrive")
	return cmd
}

func generate(ctx context.Context, cmd *cobra.Command, dataDir string, target, seed uint64, start time.Time, span int) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	clock := domain.NewManualClock(start)
	store, err := eventstore.OpenSQLite(ledgerPath(dataDir), eventstore.Options{Clock: clock, Logger: quiet, NoSync: true})
	if err != nil {
		return err
	}
	defer store.Close()
	if store.Head() != 0 {
		return fmt.Errorf("the ledger in %s already holds %d events; generate fills only an empty one", dataDir, store.Head())
	}
	ids := &seededIDs{clock: clock, rng: rand.New(rand.NewPCG(seed, 0x1d5))}
	// Warnings (a verdict that took too long) would mean the ledger may
	// differ between runs: they are shown.
	svc := app.New(app.Config{Store: store, Clock: clock, IDs: ids.next, Logger: slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err := svc.Start(ctx, false); err != nil {
		return err
	}
	g := &gen{
		ctx: ctx, svc: svc, store: store, clock: clock, target: target, start: start, days: span,
		rng:     rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)),
		stories: map[uuid.UUID]*story{}, directs: map[uuid.UUID]*directStory{},
	}
	g.names = newNames(g.rng)
	// Decoding the ledger over and over makes short-lived garbage; the
	// heap stays small, so collect less often.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	bar := newProgressBar(cmd.ErrOrStderr(), target, start)
	began := time.Now()
	err = g.run(bar.update)
	bar.done()
	svc.Stop()
	if err != nil {
		return err
	}
	counts, err := countTypes(ctx, store)
	if err != nil {
		return err
	}
	if err := store.Close(); err != nil { // flushes the ledger once
		return err
	}
	elapsed := time.Since(began)
	head := store.Head()
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "generate: %d events, %d partners, %d stories, %s to %s, in %s (%.0f events/s), seed %d, into %s\n",
		head, len(g.partners), g.started, start.Format(time.DateOnly), clock.Now().Format(time.DateOnly),
		elapsed.Round(time.Millisecond), float64(head)/elapsed.Seconds(), seed, dataDir)
	types := make([]string, 0, len(counts))
	for t := range counts {
		types = append(types, t)
	}
	slices.Sort(types)
	for _, t := range types {
		fmt.Fprintf(w, "  %-32s %d\n", t, counts[t])
	}
	if g.refused > 0 {
		fmt.Fprintf(w, "  (%d steps were refused as out of turn and skipped)\n", g.refused)
	}
	return nil
}

// countTypes counts the ledger's events by type.
func countTypes(ctx context.Context, store *eventstore.SQLite) (map[string]int, error) {
	counts := map[string]int{}
	for from := uint64(0); ; {
		page, err := store.ReadAll(ctx, domain.ReadAllOptions{From: from, Count: 4096})
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			return counts, nil
		}
		for _, r := range page {
			counts[r.Type]++
		}
		from = page[len(page)-1].Position + 1
	}
}

// progressBar draws a one-line bar on a terminal, at most ten times a
// second; elsewhere (a pipe, a log file) it stays silent and the summary
// on stdout says what was made.
type progressBar struct {
	w      io.Writer
	on     bool
	target uint64
	start  time.Time // of the simulation
	began  time.Time
	last   time.Time
}

func newProgressBar(w io.Writer, target uint64, start time.Time) *progressBar {
	return &progressBar{w: w, on: isTerminal(w), target: target, start: start, began: time.Now()}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (b *progressBar) update(head uint64, now time.Time) {
	if !b.on {
		return
	}
	t := time.Now()
	if t.Sub(b.last) < 100*time.Millisecond {
		return
	}
	b.last = t
	frac := min(float64(head)/float64(b.target), 1)
	const width = 30
	filled := int(frac * width)
	rate := float64(head) / t.Sub(b.began).Seconds()
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(b.target-min(head, b.target))/rate) * time.Second).Round(time.Second).String()
	}
	fmt.Fprintf(b.w, "\r[%s%s] %3.0f%% %d/%d events, %.0f/s, day %d, ETA %s   ",
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), 100*frac, head, b.target, rate,
		int(now.Sub(b.start)/domain.Day), eta)
}

func (b *progressBar) done() {
	if b.on {
		fmt.Fprintln(b.w)
	}
}
