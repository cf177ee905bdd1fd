package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// import-crm imports a CSV through app.ImportDirect: a bad row imports
// nothing and is named; a good file is imported once, and again it
// appends nothing.
func TestImportCRM(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runCLI(t, "", "partner", "add", "--data", dir, "--id", "acme", "--name", "Acme Integradores", "--tier", "gold")
	require.Equal(t, 0, code, errOut)
	bad := filepath.Join(t.TempDir(), "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("crm_id,company_name,domain,country,owner,amount,currency,first_contact_date\n"+
		"006A,Hospital Central,hospitalcentral.mx,MX,carlos@vendor.example,90000,USD,2026-01-10\n"+
		"006B,Clínica del Norte,clinicadelnorte.mx,MX,carlos@vendor.example,lots,USD,2026-13-01\n"), 0o600))
	code, _, errOut = runCLI(t, "", "import-crm", "--data", dir, bad)
	require.NotEqual(t, 0, code)
	require.Contains(t, errOut, "rows[2].amount")
	require.Contains(t, errOut, "rows[2].first_contact_date")

	good := filepath.Join(t.TempDir(), "good.csv")
	require.NoError(t, os.WriteFile(good, []byte("crm_id,company_name,domain,country,owner,product_lines,amount,currency\n"+
		"006A,Hospital Central,hospitalcentral.mx,MX,carlos@vendor.example,HR Management;Payroll,90000,USD\n"+
		"006B,Clínica del Norte,clinicadelnorte.mx,MX,carlos@vendor.example,,,\n"), 0o600))
	code, out, errOut := runCLI(t, "", "import-crm", "--data", dir, good)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, errOut, "2 imported, 0 existing")
	require.Equal(t, 2, strings.Count(strings.ReplaceAll(out, " ", ""), `"status":"imported"`))
	code, _, errOut = runCLI(t, "", "import-crm", "--data", dir, good)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, errOut, "0 imported, 2 existing")
}
