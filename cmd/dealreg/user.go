package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
)

// newUserCommand manages the people who sign in to the portal and the
// console. An invitation prints a link the invitee opens once to choose a
// password; --password sets it at once (demos, scripts), read from stdin
// when "-".
func newUserCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage portal and console users"}
	var dataDir, email, name, role, partner, lang, password, baseURL string
	var partnerAdmin bool
	invite := &cobra.Command{
		Use:   "invite",
		Short: "Invite a person and print the link that sets their password (shown once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if password == "-" {
				b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), domain.MaxPasswordLen+2))
				if err != nil {
					return err
				}
				password = strings.TrimRight(string(b), "\r\n")
			}
			return withService(cmd.Context(), cmd, dataDir, true, func(svc *app.Service) error {
				invite := func() (app.Invitation, error) {
					return svc.InviteUser(cmd.Context(), cliCall(), domain.UserPersonal{Name: name, Email: email}, domain.Role(role), partner, lang)
				}
				if partnerAdmin {
					if domain.Role(role) != domain.RolePartner {
						return fmt.Errorf("--partner-admin is for the partner role")
					}
					invite = func() (app.Invitation, error) {
						return svc.InvitePartnerAdmin(cmd.Context(), cliCall(), domain.UserPersonal{Name: name, Email: email}, partner, lang)
					}
				}
				inv, err := invite()
				if err != nil {
					return describeCLIError(err)
				}
				if password != "" {
					if _, err := svc.AcceptInvitation(cmd.Context(), inv.Secret, password, app.DefaultArgon2); err != nil {
						return describeCLIError(err)
					}
					fmt.Fprintf(cmd.OutOrStdout(), "user %s (%s, role %s) can sign in at %s/login\n", inv.Email, inv.ID, inv.Role, baseURL)
					return nil
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s/invite/%s\n", baseURL, inv.Secret)
				fmt.Fprintf(cmd.ErrOrStderr(), "user %s (%s, role %s) invited; send them the link above, shown only once\n", inv.Email, inv.ID, inv.Role)
				return nil
			})
		},
	}
	invite.Flags().StringVar(&dataDir, "data", "./data", "data directory holding the ledger")
	invite.Flags().StringVar(&email, "email", "", "the person's e-mail address, their sign-in name")
	invite.Flags().StringVar(&name, "name", "", "the person's name")
	invite.Flags().StringVar(&role, "role", "", "partner, channel_manager, channel_director, executive, channel_leader, channel_marketing, auditor, direct_sales or admin")
	invite.Flags().StringVar(&partner, "partner", "", "partner ID (required for the partner role)")
	invite.Flags().StringVar(&lang, "lang", "en", "language of the pages: en or es")
	invite.Flags().BoolVar(&partnerAdmin, "partner-admin", false, "the partner user may invite colleagues of its partner from the portal")
	invite.Flags().StringVar(&password, "password", "", "set this password now instead of printing an invitation link (\"-\": read it from stdin)")
	invite.Flags().StringVar(&baseURL, "url", "http://127.0.0.1:8080", "the portal's address, for the printed link")
	_ = invite.MarkFlagRequired("email")
	_ = invite.MarkFlagRequired("name")
	_ = invite.MarkFlagRequired("role")
	cmd.AddCommand(invite)
	return cmd
}
