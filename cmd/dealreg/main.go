// Command dealreg runs the deal-registration ledger: the HTTP server
// (serve), and the auditor's tools to check and move a ledger (verify,
// export, import).
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/dealreg/dealreg/eventstore"
	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// ledgerFile is the name of the ledger inside the data directory.
const ledgerFile = "ledger.db"

// attachmentsDir holds the proof documents inside the data directory.
const attachmentsDir = "attachments"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitError carries a process exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

// run executes the command line and returns the process exit code: 0 on
// success, 1 when a check failed (verify found tampering), 2 on any other
// error.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCommand(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "dealreg:", err)
	if e, ok := err.(*exitError); ok {
		return e.code
	}
	return 2
}

func newRootCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "dealreg",
		Short:         "An event-sourced deal-registration ledger for partner programs",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(
		newServeCommand(),
		newVerifyCommand(),
		newExportCommand(),
		newImportCommand(),
		newTokenCommand(),
		newUserCommand(),
		newPartnerCommand(),
		newDemoCommand(),
		newGenerateCommand(),
		newMatchCommand(),
		newProjectionsCommand(),
		newAttachmentsCommand(),
		newReplayCommand(),
		newProofCommand(),
		newPolicyCommand(),
		newImportCRMCommand(),
	)
	return root
}

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// ledgerPath returns the ledger file in dir.
func ledgerPath(dir string) string { return filepath.Join(dir, ledgerFile) }

// stateFile is the state database of the read side (views, claim book and
// their checkpoint) inside the data directory: a cache of the ledger that
// may be deleted at any time.
const stateFile = "views.db"

func statePath(dir string) string { return filepath.Join(dir, stateFile) }

// openExisting opens the ledger in dir for a command that only reads it. It
// refuses a directory without one rather than create an empty ledger.
func openExisting(dir string) (*eventstore.SQLite, error) {
	path := ledgerPath(dir)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no ledger in %s: %w", dir, err)
	}
	return eventstore.OpenSQLite(path, eventstore.Options{Logger: newLogger(io.Discard)})
}
