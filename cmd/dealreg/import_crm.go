package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/dealreg/dealreg/app"
)

// newImportCRMCommand imports the CRM's existing opportunities from a CSV
// file into the direct pipeline, through the same path as
// POST /v1/direct-opportunities:batch (app.ImportDirect): validated all
// or nothing, idempotent by CRM ID (docs/crm.md).
func newImportCRMCommand() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "import-crm FILE.csv",
		Short: "Import CRM opportunities (CSV) into the direct pipeline, idempotent by CRM ID",
		Long: "Import CRM opportunities into the direct pipeline, so the duplicate check sees them before approvals.\n\n" +
			"The CSV's header names its columns: crm_id, company_name, country and owner are required; domain, tax_id, region,\n" +
			"industry, product_lines (separated by ;), amount, currency, buying_stage and first_contact_date (YYYY-MM-DD) may follow.\n" +
			"Every row is checked first: one bad row imports nothing and is named (rows[N], N from 1, the line after the header).\n" +
			"At most 1000 rows a file. A row imported before is reported existing and not appended again.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			opps, err := app.ParseCRMCSV(f)
			if err != nil {
				return describeCLIError(err)
			}
			return withService(cmd.Context(), cmd, dataDir, false, func(svc *app.Service) error {
				res, err := svc.ImportDirect(cmd.Context(), cliCall(), opps)
				if err != nil {
					return describeCLIError(err)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "%d imported, %d existing\n", res.Imported, res.Existing)
				return printJSON(cmd.OutOrStdout(), res)
			})
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "./data", "data directory holding the ledger")
	return cmd
}
