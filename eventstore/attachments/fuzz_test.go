package attachments_test

import (
	"bytes"
	"context"
	"io"
	"mime"
	"testing"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore/attachments"
	"github.com/stretchr/testify/require"
)

// FuzzPut checks that Put never panics, fails only with a client error, and
// that whatever it accepts reads back byte for byte under its digest.
func FuzzPut(f *testing.F) {
	for _, seed := range []struct {
		body     []byte
		declared string
	}{
		{pdfDoc, "application/pdf"}, {pngDoc, "application/pdf"}, {htmlDoc, "text/plain"},
		{textDoc, "text/plain; charset=utf-8"}, {csvDoc, "text/csv; charset=\"x\""}, {emlDoc, "message/rfc822"},
		{docxDoc, docx}, {zipDoc, "application/pdf"}, {elfDoc, "application/pdf"}, {peDoc, docx},
		{binaryDoc, "text/csv"}, {nil, ""}, {[]byte("MZ"), "text/plain"}, {[]byte("a"), ";;;"},
	} {
		f.Add(seed.body, seed.declared)
	}
	s, _ := MustOpenStore(f, attachments.Options{MaxSize: 4096})
	f.Fuzz(func(t *testing.T, body []byte, declared string) {
		b, err := s.Put(context.Background(), bytes.NewReader(body), declared)
		if err != nil {
			code := domain.ErrorCode(err)
			require.Contains(t, []string{domain.EINVALID, domain.ETOOLARGE}, code, "error: %v", err)
			if len(body) == 0 {
				require.Equal(t, domain.EINVALID, code)
			}
			if len(body) > 4096 {
				require.Equal(t, domain.ETOOLARGE, code)
			}
			return
		}
		require.NotEmpty(t, body)
		require.Equal(t, sum(body), b.SHA256)
		require.Equal(t, int64(len(body)), b.Size)
		_, _, err = mime.ParseMediaType(b.ContentType)
		require.NoError(t, err, "stored content type %q", b.ContentType)

		rc, got, err := s.Open(b.SHA256)
		require.NoError(t, err)
		defer rc.Close()
		require.Equal(t, b, got)
		data, err := io.ReadAll(rc)
		require.NoError(t, err)
		require.Equal(t, body, data)
	})
}
