package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dealreg/dealreg/app"
)

func newProjectionsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "projections", Short: "Maintain the read side (the state database beside the ledger)"}
	var dataDir, cpuProfile string
	rebuild := &cobra.Command{
		Use:   "rebuild [NAME]",
		Short: "Rebuild the views from the ledger: all of them, or the one named",
		Long: `rebuild replays the ledger into the state database (views.db): with no NAME
every view, the claim book and their checkpoint from scratch; with NAME only
that view, up to the checkpoint the others are at. The views are ` + strings.Join(app.ViewNames(), ", ") + `.
Stop serve first. An interrupted rebuild leaves a state that the next start
discards and rebuilds.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := ""
			if len(args) == 1 {
				name = args[0]
				if _, ok := app.Views[name]; !ok {
					return fmt.Errorf("no view %q; the views are %s", name, strings.Join(app.ViewNames(), ", "))
				}
			}
			// The state belongs to serve while it runs: take its lock.
			unlock, err := lockDataDir(dataDir)
			if err != nil {
				return err
			}
			defer unlock()
			store, err := openExisting(dataDir)
			if err != nil {
				return err
			}
			defer store.Close()
			if cpuProfile != "" {
				out, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer out.Close()
				if err := pprof.StartCPUProfile(out); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			start := time.Now()
			bar := newProgress(cmd.ErrOrStderr(), "rebuild")
			err = app.Rebuild(cmd.Context(), app.Config{Store: store, Logger: newLogger(io.Discard), StatePath: statePath(dataDir)}, name, bar.update)
			bar.done()
			if err != nil {
				return err
			}
			what := "every view"
			if name != "" {
				what = name
			}
			elapsed := time.Since(start)
			fmt.Fprintf(cmd.OutOrStdout(), "rebuilt %s from %d events in %s (%.0f events/s)\n", what, store.Head(), elapsed.Round(time.Millisecond),
				float64(store.Head())/max(elapsed.Seconds(), 1e-9))
			return nil
		},
	}
	rebuild.Flags().StringVar(&dataDir, "data", "./data", "data directory holding the ledger")
	rebuild.Flags().StringVar(&cpuProfile, "cpu-profile", "", "write a CPU profile of the rebuild to this file (go tool pprof reads it)")
	cmd.AddCommand(rebuild)
	return cmd
}

// progress draws a progress bar on a terminal, and nothing elsewhere.
type progress struct {
	w     io.Writer
	label string
	tty   bool
	last  time.Time
}

func newProgress(w io.Writer, label string) *progress {
	p := &progress{w: w, label: label}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// update shows done out of total, at most ten times a second.
func (p *progress) update(done, total uint64) {
	if !p.tty || total == 0 || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	const width = 40
	frac := min(float64(done)/float64(total), 1)
	n := int(frac * width)
	fmt.Fprintf(p.w, "\r%s [%s%s] %5.1f%% %d/%d", p.label, strings.Repeat("#", n), strings.Repeat(".", width-n), 100*frac, done, total)
}

func (p *progress) done() {
	if p.tty && !p.last.IsZero() {
		fmt.Fprintln(p.w)
	}
}
