package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// dirSnapshot describes every entry under dir, temporary files included:
// its path, mode and, for a file, the SHA-256 of its content.
func dirSnapshot(tb testing.TB, dir string) map[string]string {
	tb.Helper()
	out := map[string]string{}
	require.NoError(tb, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		info, err := d.Info()
		if err != nil {
			return err
		}
		desc := info.Mode().String()
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			desc += " " + hex.EncodeToString(sum[:])
		}
		out[rel] = desc
		return nil
	}))
	return out
}

// A refused upload keeps nothing: the attachment directory is byte for
// byte as it was, whichever check refuses it, before or after the body is
// read, and nothing is appended.
func TestAttachments_RefusedUploadKeepsNothing(t *testing.T) {
	h := newHarness(t)
	open := h.register(t, "acme", "Stark Industries", "stark.example", http.StatusCreated)
	withdrawn := h.register(t, "acme", "Wayne Enterprises", "wayne.example", http.StatusCreated)
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations/"+withdrawn.ID.String()+"/withdraw", map[string]any{"reason": "lost interest"}, http.StatusOK, nil)
	openPath := "/v1/registrations/" + open.ID.String() + "/attachments"
	withdrawnPath := "/v1/registrations/" + withdrawn.ID.String() + "/attachments"

	stored := []byte("%PDF-1.7\nalready stored\n%%EOF\n")
	h.mustDo(t, "acme", http.MethodPost, openPath+"?filename=stored.pdf", stored, http.StatusCreated, nil, "Content-Type", "application/pdf")
	h.mustDo(t, "acme", http.MethodPost, openPath+"?filename=keyed.pdf", []byte("%PDF-1.7\nkeyed\n%%EOF\n"), http.StatusCreated, nil,
		"Content-Type", "application/pdf", "Idempotency-Key", "keyed-upload")
	// Two documents of 1 MiB leave less than 1 MiB of the 3 MiB quota.
	big := func(c byte) []byte { return bytes.Repeat([]byte{c}, 1<<20) }
	h.mustDo(t, "acme", http.MethodPost, openPath+"?filename=a.txt", big('a'), http.StatusCreated, nil, "Content-Type", "text/plain")
	h.mustDo(t, "acme", http.MethodPost, openPath+"?filename=b.txt", big('b'), http.StatusCreated, nil, "Content-Type", "text/plain")

	fresh := []byte("%PDF-1.7\nnever stored\n%%EOF\n")
	for _, tc := range []struct {
		name, who, path string
		body            []byte
		status          int
		code            string
		field           string // the field error's code, if one is expected
		header          []string
	}{
		{"Withdrawn", "acme", withdrawnPath, fresh, 409, domain.ECONFLICT, "", nil},
		{"WithdrawnWithKey", "acme", withdrawnPath, fresh, 409, domain.ECONFLICT, "", []string{"Idempotency-Key", "withdrawn-upload"}},
		{"FilenameTooLong", "acme", openPath + "?filename=" + strings.Repeat("n", 300) + ".pdf", fresh, 400, domain.EINVALID, domain.FieldTooLong, nil},
		{"FilenameControl", "acme", openPath + "?filename=a%01b.pdf", fresh, 400, domain.EINVALID, domain.FieldInvalid, nil},
		{"FilenameTooLongWithKey", "acme", openPath + "?filename=" + strings.Repeat("n", 300) + ".pdf", fresh, 400, domain.EINVALID, domain.FieldTooLong, []string{"Idempotency-Key", "long-name"}},
		{"OtherPartner", "globex", openPath, fresh, 404, domain.ENOTFOUND, "", nil},
		{"NotThePartner", "manager", openPath, fresh, 403, domain.EFORBIDDEN, "", nil},
		{"UnacceptedType", "acme", openPath, []byte("<html><script>alert(1)</script></html>"), 400, domain.EINVALID, "unsupported_type", nil},
		{"TooLarge", "acme", openPath, bytes.Repeat([]byte("z"), 1<<20+1), 413, domain.ETOOLARGE, "too_large", nil},
		{"AlreadyAttached", "acme", openPath, stored, 409, domain.ECONFLICT, "", nil},
		{"QuotaByContentLength", "acme", openPath, big('c'), 413, domain.ETOOLARGE, domain.FieldQuotaExceeded, nil},
		{"QuotaOnceRead", "acme", openPath, big('c'), 413, domain.ETOOLARGE, domain.FieldQuotaExceeded, []string{"Idempotency-Key", "quota-upload"}},
		{"KeyReusedForAnotherDocument", "acme", openPath + "?filename=keyed.pdf", fresh, 409, domain.ECONFLICT, "", []string{"Idempotency-Key", "keyed-upload"}},
		{"BadKey", "acme", openPath, fresh, 400, domain.EINVALID, "", []string{"Idempotency-Key", "bad key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, head := dirSnapshot(t, h.docs), h.eventCount()
			header := append([]string{"Content-Type", "application/pdf"}, tc.header...)
			if tc.code == domain.ETOOLARGE || tc.name == "UnacceptedType" {
				header[1] = "text/plain"
			}
			p := h.problem(t, tc.who, http.MethodPost, tc.path, tc.body, tc.status, tc.code, header...)
			if tc.field != "" {
				require.NotEmpty(t, p.Errors, "%+v", p)
				require.Equal(t, tc.field, p.Errors[0].Code, "%+v", p)
			}
			require.Equal(t, before, dirSnapshot(t, h.docs), "the refused upload left something behind")
			require.Equal(t, head, h.eventCount(), "the refused upload appended")
		})
	}

	// The quota counts the registration's own documents: the same 1 MiB
	// goes onto another registration, and shares the stored bytes.
	other := h.register(t, "acme", "Oscorp", "oscorp.example", http.StatusCreated)
	before := dirSnapshot(t, h.docs)
	h.mustDo(t, "acme", http.MethodPost, "/v1/registrations/"+other.ID.String()+"/attachments?filename=a.txt", big('a'), http.StatusCreated, nil, "Content-Type", "text/plain")
	require.Equal(t, before, dirSnapshot(t, h.docs), "the same bytes are stored once")
}
