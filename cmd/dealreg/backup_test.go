package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
	"github.com/dealreg/dealreg/eventstore/attachments"
)

var (
	backupAdmin   = app.Call{Caller: app.Caller{Actor: domain.Actor{ID: "cli:test", Role: domain.RoleAdmin}, Name: "test"}}
	backupPartner = app.Call{Caller: app.Caller{Actor: domain.Actor{ID: "acme-user", Role: domain.RolePartner, PartnerID: "acme"}, Name: "acme"}}
)

// openDataDir opens the service and the attachment store of dataDir.
func openDataDir(t *testing.T, dataDir string) (*eventstore.SQLite, *app.Service, *attachments.Store) {
	t.Helper()
	store, err := eventstore.OpenSQLite(ledgerPath(dataDir), eventstore.Options{})
	require.NoError(t, err)
	svc := app.New(app.Config{Store: store, Logger: newLogger(io.Discard)})
	require.NoError(t, svc.Start(context.Background(), false))
	docs, err := attachments.Open(filepath.Join(dataDir, attachmentsDir), attachments.Options{})
	require.NoError(t, err)
	return store, svc, docs
}

// seedDocuments writes a ledger in dataDir with a registration of partner
// acme carrying each of docs, and returns the registration.
func seedDocuments(t *testing.T, dataDir string, docs ...[]byte) string {
	t.Helper()
	ctx := context.Background()
	store, svc, files := openDataDir(t, dataDir)
	defer store.Close()
	defer svc.Stop()
	_, err := svc.AddPartner(ctx, backupAdmin, domain.Partner{ID: "acme", Name: "Acme Integradores", Tier: domain.TierGold})
	require.NoError(t, err)
	now := time.Now()
	id, _, err := svc.Create(ctx, backupPartner, domain.TypeOpportunity, domain.Details{
		Account: domain.Account{CompanyName: "Stark Industries", Domain: "stark.example", Country: "ES"},
		Opportunity: domain.Opportunity{
			ProductLines:      []string{"Analytics"},
			EstimatedValue:    domain.Money{Amount: decimal.NewFromInt(50000), Currency: "EUR"},
			ExpectedCloseDate: now.Add(30 * domain.Day),
		},
		Relationship: domain.Relationship{HowFound: domain.SourceInbound, FirstContactDate: now.Add(-domain.Day)},
	}, false)
	require.NoError(t, err)
	for i, doc := range docs {
		b, err := files.Put(ctx, bytes.NewReader(doc), "application/pdf")
		require.NoError(t, err)
		_, err = svc.Attach(ctx, backupPartner, id, domain.Attachment{SHA256: b.SHA256, Size: b.Size, ContentType: b.ContentType, Filename: string(rune('a'+i)) + ".pdf"}, app.AttachOptions{})
		require.NoError(t, err)
	}
	return id.String()
}

func hashOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

var (
	backupPDF1 = []byte("%PDF-1.7\nmeeting confirmation\n%%EOF\n")
	backupPDF2 = []byte("%PDF-1.7\ndiscovery deliverable\n%%EOF\n")
)

// download fetches document sha of registration id from a server over
// dataDir, as the registering partner.
func download(t *testing.T, dataDir, id, sha string) []byte {
	t.Helper()
	store, svc, docs := openDataDir(t, dataDir)
	defer store.Close()
	defer svc.Stop()
	tok, err := svc.CreateToken(context.Background(), backupAdmin, "acme", domain.RolePartner, "acme")
	require.NoError(t, err)
	srv := httptest.NewServer(api.NewServer(api.Config{Store: store, App: svc, Attachments: docs, Logger: newLogger(io.Discard)}).Handler())
	defer srv.Close()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/registrations/"+id+"/attachments/"+sha, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok.Secret)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s", body)
	return body
}

// A backup carries the proof documents: export, import into a fresh
// directory, and the documents download byte for byte.
func TestExportImport_Attachments(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "restored")
	id := seedDocuments(t, src, backupPDF1, backupPDF2)
	backup := filepath.Join(t.TempDir(), "backup.tar")

	code, _, exported := runCLI(t, "", "export", "--data", src, "--out", backup)
	require.Equal(t, 0, code, exported)
	require.Contains(t, exported, "exported 2 attachments")
	code, _, imported := runCLI(t, "", "import", "--data", dst, "--in", backup)
	require.Equal(t, 0, code, imported)
	require.Contains(t, imported, "imported 2 attachments")
	e, i := rootRE.FindStringSubmatch(exported), rootRE.FindStringSubmatch(imported)
	require.Equal(t, e[1:], i[1:], "the restored ledger has the same size and tree root")

	code, out, errOut := runCLI(t, "", "verify", "--data", dst)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "ok: 2 attachments verified")

	// A backup of the restored directory is the same archive.
	again := filepath.Join(t.TempDir(), "again.tar")
	code, _, _ = runCLI(t, "", "export", "--data", dst, "--out", again)
	require.Equal(t, 0, code)
	want, err := os.ReadFile(backup)
	require.NoError(t, err)
	got, err := os.ReadFile(again)
	require.NoError(t, err)
	require.Equal(t, want, got)
	for _, doc := range [][]byte{backupPDF1, backupPDF2} {
		require.Equal(t, doc, download(t, dst, id, hashOf(doc)))
	}

	t.Run("TamperedDocumentRefused", func(t *testing.T) {
		// One byte of the second document changes; the archive stays a
		// well-formed tar.
		tampered := bytes.Replace(want, []byte("discovery deliverable"), []byte("discovery deliverablE"), 1)
		require.NotEqual(t, want, tampered)
		dir := t.TempDir()
		code, _, errOut := runCLI(t, string(tampered), "import", "--data", dir)
		require.Equal(t, 2, code, errOut)
		require.Contains(t, errOut, hashOf(backupPDF2))
		require.Contains(t, errOut, "corrupt")
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		require.Empty(t, entries, "a failed import leaves nothing behind")
	})
	t.Run("MissingDocumentRefused", func(t *testing.T) {
		var buf bytes.Buffer
		tr, tw := tar.NewReader(bytes.NewReader(want)), tar.NewWriter(&buf)
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
			if filepath.Base(hdr.Name) == hashOf(backupPDF1) || filepath.Base(hdr.Name) == hashOf(backupPDF1)+".json" {
				continue
			}
			require.NoError(t, tw.WriteHeader(hdr))
			_, err = io.Copy(tw, tr)
			require.NoError(t, err)
		}
		require.NoError(t, tw.Close())
		dir := t.TempDir()
		code, _, errOut := runCLI(t, buf.String(), "import", "--data", dir)
		require.Equal(t, 2, code, errOut)
		require.Contains(t, errOut, hashOf(backupPDF1))
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		require.Empty(t, entries, "a failed import leaves nothing behind")
	})
	t.Run("EventsOnly", func(t *testing.T) {
		code, stdout, _ := runCLI(t, "", "export", "--data", src, "--events-only")
		require.Equal(t, 0, code)
		tr := tar.NewReader(bytes.NewReader(want))
		_, err := tr.Next()
		require.NoError(t, err)
		ledger, err := io.ReadAll(tr)
		require.NoError(t, err)
		require.Equal(t, string(ledger), stdout, "the archive's ledger.jsonl is the events-only export")

		// It still imports, warning that the documents are not in it.
		dir := t.TempDir()
		code, _, errOut := runCLI(t, stdout, "import", "--data", dir)
		require.Equal(t, 0, code, errOut)
		require.Contains(t, errOut, "names 2 attachments")
		code, _, errOut = runCLI(t, "", "verify", "--data", dir)
		require.Equal(t, 1, code, errOut)
		require.Contains(t, errOut, "missing")
	})
}

// verify checks the documents the ledger names: it fails naming a deleted
// one and a corrupted one.
func TestVerify_Attachments(t *testing.T) {
	dir := t.TempDir()
	seedDocuments(t, dir, backupPDF1, backupPDF2)
	code, out, errOut := runCLI(t, "", "verify", "--data", dir)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "ok: 2 attachments verified")

	doc := func(b []byte) string { s := hashOf(b); return filepath.Join(dir, attachmentsDir, s[:2], s) }
	t.Run("Corrupt", func(t *testing.T) {
		path := doc(backupPDF2)
		require.NoError(t, os.Chmod(path, 0o600))
		require.NoError(t, os.WriteFile(path, bytes.ToUpper(backupPDF2), 0o600))
		code, _, errOut := runCLI(t, "", "verify", "--data", dir)
		require.Equal(t, 1, code, errOut)
		require.Contains(t, errOut, hashOf(backupPDF2))
		require.Contains(t, errOut, "corrupt")

		code, _, errOut = runCLI(t, "", "export", "--data", dir, "--out", filepath.Join(t.TempDir(), "b.tar"))
		require.Equal(t, 1, code, "export refuses to back up a corrupt document: %s", errOut)
	})
	t.Run("Missing", func(t *testing.T) {
		require.NoError(t, os.Remove(doc(backupPDF1)))
		code, _, errOut := runCLI(t, "", "verify", "--data", dir)
		require.Equal(t, 1, code, errOut)
		require.Contains(t, errOut, hashOf(backupPDF1))
		require.Contains(t, errOut, "missing")
	})
}

// attachments gc removes what no event names and keeps what one does.
func TestAttachmentsGC(t *testing.T) {
	dir := t.TempDir()
	seedDocuments(t, dir, backupPDF1)
	docs, err := attachments.Open(filepath.Join(dir, attachmentsDir), attachments.Options{})
	require.NoError(t, err)
	orphan, err := docs.Put(context.Background(), bytes.NewReader(backupPDF2), "application/pdf")
	require.NoError(t, err)

	code, out, errOut := runCLI(t, "", "attachments", "gc", "--data", dir)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "removed 0 documents", "within the grace period")

	code, out, errOut = runCLI(t, "", "attachments", "gc", "--data", dir, "--grace", "0s")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "removed 1 documents")
	_, err = docs.Stat(orphan.SHA256)
	require.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))
	_, err = docs.Stat(hashOf(backupPDF1))
	require.NoError(t, err, "a document the ledger names is kept")
	code, _, errOut = runCLI(t, "", "verify", "--data", dir)
	require.Equal(t, 0, code, errOut)
}
