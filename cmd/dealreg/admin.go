package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
)

// withService opens the ledger in dataDir (creating it when create is
// set), starts a Service on it without the scheduler, runs fn and closes
// everything. It is safe while `dealreg serve` runs on the same directory:
// the store notices the other writer.
func withService(ctx context.Context, cmd *cobra.Command, dataDir string, create bool, fn func(*app.Service) error) error {
	logger := newLogger(cmd.ErrOrStderr())
	path := ledgerPath(dataDir)
	if !create {
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("no ledger in %s (start one with dealreg serve --data %s)", dataDir, dataDir)
		}
	} else if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	store, err := eventstore.OpenSQLite(path, eventstore.Options{Logger: logger})
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Damaged(); err != nil {
		return err
	}
	svc := app.New(app.Config{Store: store, Logger: logger, DirectoryOnly: true})
	if err := svc.Start(ctx, false); err != nil {
		return err
	}
	defer svc.Stop()
	return fn(svc)
}

// cliCall is the identity of commands typed at the console: an admin,
// named after the operating-system user.
func cliCall() app.Call {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return app.Call{Caller: app.Caller{
		Actor: domain.Actor{ID: "cli:" + name, Role: domain.RoleAdmin},
		Name:  fmt.Sprintf("dealreg CLI (%s@%s)", name, host),
	}}
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newTokenCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage API tokens"}
	var dataDir, role, partner, name string
	var asJSON bool
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an API token and print it (once: only its hash is stored)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" {
				name = role
				if partner != "" {
					name = role + ":" + partner
				}
			}
			return withService(cmd.Context(), cmd, dataDir, true, func(svc *app.Service) error {
				t, err := svc.CreateToken(cmd.Context(), cliCall(), name, domain.Role(role), partner)
				if err != nil {
					return describeCLIError(err)
				}
				if asJSON {
					return printJSON(cmd.OutOrStdout(), t)
				}
				fmt.Fprintln(cmd.OutOrStdout(), t.Secret)
				fmt.Fprintf(cmd.ErrOrStderr(), "token %s (%s, role %s) created; the secret above is shown only once\n", t.ID, t.Name, t.Role)
				return nil
			})
		},
	}
	create.Flags().StringVar(&dataDir, "data", "./data", "data directory holding the ledger")
	create.Flags().StringVar(&role, "role", "", "partner, channel_manager, channel_director, executive, channel_leader, channel_marketing, auditor, direct_sales or admin")
	create.Flags().StringVar(&partner, "partner", "", "partner ID (required for the partner role)")
	create.Flags().StringVar(&name, "name", "", "who or what uses the token, for the audit trail")
	create.Flags().BoolVar(&asJSON, "json", false, "print the token and its details as JSON")
	_ = create.MarkFlagRequired("role")
	cmd.AddCommand(create)
	return cmd
}

func newPartnerCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "partner", Short: "Manage partners"}
	var dataDir, id, name, tier, regions string
	add := &cobra.Command{
		Use:   "add",
		Short: "Enrol a partner",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p := domain.Partner{ID: id, Name: name, Tier: domain.PartnerTier(tier)}
			if regions != "" {
				p.Regions = strings.Split(regions, ",")
			}
			return withService(cmd.Context(), cmd, dataDir, true, func(svc *app.Service) error {
				v, err := svc.AddPartner(cmd.Context(), cliCall(), p)
				if err != nil {
					return describeCLIError(err)
				}
				return printJSON(cmd.OutOrStdout(), v)
			})
		},
	}
	add.Flags().StringVar(&dataDir, "data", "./data", "data directory holding the ledger")
	add.Flags().StringVar(&id, "id", "", "partner ID: lower-case letters, digits, '.', '_', '-'")
	add.Flags().StringVar(&name, "name", "", "partner name")
	add.Flags().StringVar(&tier, "tier", string(domain.TierRegistered), "registered, silver, gold or platinum")
	add.Flags().StringVar(&regions, "regions", "", "comma-separated regions the partner sells in")
	cmd.AddCommand(add)
	return cmd
}

// describeCLIError spells out a domain error's field errors for the console.
func describeCLIError(err error) error {
	fields := domain.ErrorFields(err)
	if len(fields) == 0 {
		return fmt.Errorf("%s", domain.ErrorMessage(err))
	}
	var b strings.Builder
	b.WriteString(domain.ErrorMessage(err))
	for _, f := range fields {
		fmt.Fprintf(&b, "\n  %s: %s", f.Field, f.Message)
	}
	return fmt.Errorf("%s", b.String())
}
