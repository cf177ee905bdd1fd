package attachments_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore/attachments"
	"github.com/stretchr/testify/require"
)

const (
	docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	pptx = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
)

// Document fixtures: just enough of each format for the sniffer.
var (
	pdfDoc  = []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")
	pngDoc  = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 32)...)
	jpegDoc = append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), make([]byte, 32)...)
	gifDoc  = []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")
	htmlDoc = []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>")
	textDoc = []byte("Intro call with ACME on 3 March, see thread below.\n")
	csvDoc  = []byte("account,amount\nACME,125000\n")
	emlDoc  = []byte("From: rep@partner.example\r\nTo: buyer@acme.example\r\nSubject: Intro\r\n\r\nHello.\r\n")
	elfDoc  = append([]byte("\x7fELF\x02\x01\x01\x00"), make([]byte, 56)...)
	peDoc   = func() []byte {
		b := make([]byte, 0x100)
		copy(b, "MZ")
		b[0x3c] = 0x80
		copy(b[0x80:], "PE\x00\x00")
		return b
	}()
	oleDoc    = append([]byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), make([]byte, 56)...) // e.g. an Outlook .msg
	binaryDoc = []byte{0x00, 0x01, 0x02, 0x03, 0xfe, 0xff}
	zipDoc    = mustZip("notes.txt", "hello")
	docxDoc   = mustZip("[Content_Types].xml", `<?xml version="1.0"?><Types/>`)
)

func mustZip(name, content string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(name)
	if err != nil {
		panic(err)
	}
	if _, err := io.WriteString(w, content); err != nil {
		panic(err)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// MustOpenStore opens a store in a new temporary directory.
func MustOpenStore(tb testing.TB, opts ...attachments.Options) (*attachments.Store, string) {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "attachments")
	return MustOpenDir(tb, dir, opts...), dir
}

// MustOpenDir opens the store in dir.
func MustOpenDir(tb testing.TB, dir string, opts ...attachments.Options) *attachments.Store {
	tb.Helper()
	var o attachments.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	s, err := attachments.Open(dir, o)
	require.NoError(tb, err)
	return s
}

// MustPut stores body and returns its Blob.
func MustPut(tb testing.TB, s *attachments.Store, body []byte, declared string) attachments.Blob {
	tb.Helper()
	b, err := s.Put(context.Background(), bytes.NewReader(body), declared)
	require.NoError(tb, err)
	return b
}

func requireCode(tb testing.TB, err error, code string) {
	tb.Helper()
	require.Error(tb, err)
	require.Equal(tb, code, domain.ErrorCode(err), "error: %v", err)
}

func requireNoTemps(tb testing.TB, dir string) {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(tb, err)
	for _, e := range entries {
		require.False(tb, strings.HasPrefix(e.Name(), ".tmp-"), "temp file left: %s", e.Name())
	}
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func TestStore_PutContentType(t *testing.T) {
	tests := []struct {
		name     string
		body     []byte
		declared string
		want     string // effective content type; empty when refused
		detected string // for refusals, the type the message must name
	}{
		{"PDFDeclaredPDF", pdfDoc, "application/pdf", "application/pdf", ""},
		{"PDFUndeclared", pdfDoc, "", "application/pdf", ""},
		{"PDFDeclaredOctetStream", pdfDoc, "application/octet-stream", "application/pdf", ""},
		{"PNGDeclaredPDF", pngDoc, "application/pdf", "image/png", ""},
		{"JPEGDeclaredWrongly", jpegDoc, "image/jpg", "image/jpeg", ""},
		{"GIFMalformedDeclaration", gifDoc, ";;;/", "image/gif", ""},
		{"DOCXDeclaredDOCX", docxDoc, docx, docx, ""},
		{"DOCXDeclaredWithParams", docxDoc, docx + "; name=offer.docx", docx, ""},
		{"XLSXDeclaredXLSX", docxDoc, xlsx, xlsx, ""},
		{"PPTXDeclaredPPTX", docxDoc, pptx, pptx, ""},
		{"TextUndeclared", textDoc, "", "text/plain; charset=utf-8", ""},
		{"TextDeclaredLatin1", textDoc, "Text/Plain; Charset=ISO-8859-1; format=flowed", "text/plain; charset=iso-8859-1", ""},
		{"TextDeclaredPDF", textDoc, "application/pdf", "text/plain; charset=utf-8", ""},
		{"TextDeclaredHTML", textDoc, "text/html", "text/plain; charset=utf-8", ""},
		{"CSVDeclaredCSV", csvDoc, "text/csv", "text/csv; charset=utf-8", ""},
		{"CSVDeclaredWithParams", csvDoc, "text/csv; header=present; charset=windows-1252", "text/csv; charset=windows-1252", ""},
		{"CSVOddCharsetDropped", csvDoc, `text/csv; charset="a b"`, "text/csv; charset=utf-8", ""},
		{"EmailDeclaredRFC822", emlDoc, "message/rfc822", "message/rfc822", ""},
		{"EmailUndeclared", emlDoc, "", "text/plain; charset=utf-8", ""},

		{"HTMLDeclaredText", htmlDoc, "text/plain", "", "text/html"},
		{"HTMLDeclaredPDF", htmlDoc, "application/pdf", "", "text/html"},
		{"ZIPDeclaredPDF", zipDoc, "application/pdf", "", "application/zip"},
		{"ZIPUndeclared", zipDoc, "", "", "application/zip"},
		{"ZIPDeclaredZIP", zipDoc, "application/zip", "", "application/zip"},
		{"ELFDeclaredPDF", elfDoc, "application/pdf", "", "application/x-elf"},
		{"ELFDeclaredText", elfDoc, "text/plain", "", "application/x-elf"},
		{"PEDeclaredDOCX", peDoc, docx, "", "application/vnd.microsoft.portable-executable"},
		{"ScriptDeclaredText", []byte("#!/bin/sh\necho hi\n"), "text/plain", "", "text/x-script"},
		{"BinaryDeclaredCSV", binaryDoc, "text/csv", "", "application/octet-stream"},
		{"BinaryDeclaredPNG", binaryDoc, "image/png", "", "application/octet-stream"},
		{"BinaryUndeclared", binaryDoc, "", "", "application/octet-stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, dir := MustOpenStore(t)
			b, err := s.Put(context.Background(), bytes.NewReader(tt.body), tt.declared)
			if tt.want == "" {
				requireCode(t, err, domain.EINVALID)
				require.Contains(t, domain.ErrorMessage(err), tt.detected)
				fields := domain.ErrorFields(err)
				require.Len(t, fields, 1)
				require.Equal(t, "file", fields[0].Field)
				require.Contains(t, fields[0].Message, tt.detected)
				_, err := s.Stat(sum(tt.body))
				requireCode(t, err, domain.ENOTFOUND)
				requireNoTemps(t, dir)
				return
			}
			require.NoError(t, err)
			require.Equal(t, attachments.Blob{SHA256: sum(tt.body), Size: int64(len(tt.body)), ContentType: tt.want}, b)
			requireNoTemps(t, dir)
		})
	}
}

// TestStore_CustomAllowList shows that a binary type the sniffer cannot
// recognise is accepted as declared, but a program declared as it is not.
func TestStore_CustomAllowList(t *testing.T) {
	s, _ := MustOpenStore(t, attachments.Options{Allowed: []string{"application/vnd.ms-outlook", "application/pdf"}})

	b := MustPut(t, s, oleDoc, "application/vnd.ms-outlook")
	require.Equal(t, "application/vnd.ms-outlook", b.ContentType)

	_, err := s.Put(context.Background(), bytes.NewReader(elfDoc), "application/vnd.ms-outlook")
	requireCode(t, err, domain.EINVALID)

	_, err = s.Put(context.Background(), bytes.NewReader(textDoc), "text/plain")
	requireCode(t, err, domain.EINVALID) // text/plain is not in this list
}

func TestOpen_InvalidOptions(t *testing.T) {
	_, err := attachments.Open(t.TempDir(), attachments.Options{MaxSize: -1})
	require.Error(t, err)
	_, err = attachments.Open(t.TempDir(), attachments.Options{Allowed: []string{"pdf"}})
	require.Error(t, err)
	_, err = attachments.Open("", attachments.Options{})
	require.Error(t, err)
}

func TestOpen_CreatesDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	MustOpenDir(t, dir)
	info, err := os.Stat(dir)
	require.NoError(t, err)
	require.True(t, info.IsDir())
	require.Zero(t, info.Mode().Perm()&^0o750, "mode %v, want at most 0750 (less under a umask)", info.Mode().Perm())
}

// countingReader counts the bytes read from an endless stream of PDF-ish bytes.
type countingReader struct{ n int64 }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = "%PDF-"[int(r.n+int64(i))%5]
	}
	r.n += int64(len(p))
	return len(p), nil
}

func TestStore_PutSizeLimit(t *testing.T) {
	const limit = 1024
	body := func(n int) []byte {
		return append(append([]byte{}, pdfDoc...), bytes.Repeat([]byte{'x'}, n-len(pdfDoc))...)
	}

	t.Run("AtLimit", func(t *testing.T) {
		s, dir := MustOpenStore(t, attachments.Options{MaxSize: limit})
		b := MustPut(t, s, body(limit), "application/pdf")
		require.Equal(t, int64(limit), b.Size)
		requireNoTemps(t, dir)
	})
	t.Run("OneOver", func(t *testing.T) {
		s, dir := MustOpenStore(t, attachments.Options{MaxSize: limit})
		_, err := s.Put(context.Background(), bytes.NewReader(body(limit+1)), "application/pdf")
		requireCode(t, err, domain.ETOOLARGE)
		require.Contains(t, domain.ErrorMessage(err), "1 KiB")
		require.Equal(t, "file", domain.ErrorFields(err)[0].Field)
		_, err = s.Stat(sum(body(limit + 1)))
		requireCode(t, err, domain.ENOTFOUND)
		requireNoTemps(t, dir)
	})
	t.Run("EndlessReadsOneOver", func(t *testing.T) {
		s, dir := MustOpenStore(t, attachments.Options{MaxSize: limit})
		r := &countingReader{}
		_, err := s.Put(context.Background(), r, "application/pdf")
		requireCode(t, err, domain.ETOOLARGE)
		require.Equal(t, int64(limit+1), r.n)
		requireNoTemps(t, dir)
	})
	t.Run("DefaultIs20MiB", func(t *testing.T) {
		s, _ := MustOpenStore(t)
		r := &countingReader{}
		_, err := s.Put(context.Background(), r, "application/pdf")
		requireCode(t, err, domain.ETOOLARGE)
		require.Equal(t, int64(20<<20+1), r.n)
	})
}

func TestStore_PutEmpty(t *testing.T) {
	s, dir := MustOpenStore(t)
	_, err := s.Put(context.Background(), bytes.NewReader(nil), "application/pdf")
	requireCode(t, err, domain.EINVALID)
	require.Equal(t, "file", domain.ErrorFields(err)[0].Field)
	requireNoTemps(t, dir)
}

type failingReader struct{ after []byte }

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.after) > 0 {
		n := copy(p, r.after)
		r.after = r.after[n:]
		return n, nil
	}
	return 0, errors.New("connection reset")
}

func TestStore_PutReadError(t *testing.T) {
	s, dir := MustOpenStore(t)
	_, err := s.Put(context.Background(), &failingReader{after: pdfDoc}, "application/pdf")
	requireCode(t, err, domain.EINTERNAL)
	require.ErrorContains(t, err, "connection reset")
	requireNoTemps(t, dir)
}

func TestStore_PutCancelled(t *testing.T) {
	s, dir := MustOpenStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Put(ctx, bytes.NewReader(pdfDoc), "application/pdf")
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.Stat(sum(pdfDoc))
	requireCode(t, err, domain.ENOTFOUND)
	requireNoTemps(t, dir)
}

func TestStore_PutIdempotent(t *testing.T) {
	s, dir := MustOpenStore(t)
	first := MustPut(t, s, csvDoc, "text/csv")
	again := MustPut(t, s, csvDoc, "text/plain")
	require.Equal(t, first, again, "the first upload's metadata is kept")

	entries, err := os.ReadDir(filepath.Join(dir, first.SHA256[:2]))
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.ElementsMatch(t, []string{first.SHA256, first.SHA256 + ".json"}, names)
	requireNoTemps(t, dir)
}

func TestStore_Layout(t *testing.T) {
	s, dir := MustOpenStore(t)
	b := MustPut(t, s, pdfDoc, "application/pdf")
	data, err := os.ReadFile(filepath.Join(dir, b.SHA256[:2], b.SHA256))
	require.NoError(t, err)
	require.Equal(t, pdfDoc, data)
	meta, err := os.ReadFile(filepath.Join(dir, b.SHA256[:2], b.SHA256+".json"))
	require.NoError(t, err)
	require.JSONEq(t, `{"sha256":"`+b.SHA256+`","size":`+strconv.Itoa(len(pdfDoc))+`,"content_type":"application/pdf"}`, string(meta))
}

func TestStore_RoundTrip(t *testing.T) {
	s, _ := MustOpenStore(t)
	body := append(append([]byte{}, pdfDoc...), bytes.Repeat([]byte("0123456789abcdef"), 10_000)...)
	want := sha256.Sum256(body)

	b := MustPut(t, s, body, "application/pdf")
	require.Equal(t, hex.EncodeToString(want[:]), b.SHA256)
	require.Equal(t, int64(len(body)), b.Size)

	rc, got, err := s.Open(b.SHA256)
	require.NoError(t, err)
	defer rc.Close()
	require.Equal(t, b, got)
	data, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.Equal(t, want, sha256.Sum256(data), "the stored bytes hash to the Blob's digest")

	_, err = rc.Seek(int64(len(pdfDoc)), io.SeekStart)
	require.NoError(t, err)
	tail, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.Equal(t, body[len(pdfDoc):], tail)

	st, err := s.Stat(strings.ToUpper(b.SHA256))
	require.NoError(t, err)
	require.Equal(t, b, st)
}

func TestStore_ContentTypeSurvivesRestart(t *testing.T) {
	s, dir := MustOpenStore(t)
	b := MustPut(t, s, emlDoc, "message/rfc822")

	reopened := MustOpenDir(t, dir)
	got, err := reopened.Stat(b.SHA256)
	require.NoError(t, err)
	require.Equal(t, attachments.Blob{SHA256: sum(emlDoc), Size: int64(len(emlDoc)), ContentType: "message/rfc822"}, got)
}

func TestStore_NotFoundAndMalformed(t *testing.T) {
	s, _ := MustOpenStore(t)
	missing := sum([]byte("never stored"))

	_, err := s.Stat(missing)
	requireCode(t, err, domain.ENOTFOUND)
	rc, _, err := s.Open(missing)
	requireCode(t, err, domain.ENOTFOUND)
	require.Nil(t, rc)

	for _, bad := range []string{"", "abc", strings.Repeat("g", 64), missing + "0", missing[:63], "../" + missing[3:], missing[:62] + "\x00\x00"} {
		_, err := s.Stat(bad)
		requireCode(t, err, domain.EINVALID)
		require.Equal(t, "sha256", domain.ErrorFields(err)[0].Field)
		rc, _, err := s.Open(bad)
		requireCode(t, err, domain.EINVALID)
		require.Nil(t, rc)
	}
}

func TestStore_DamagedMetadata(t *testing.T) {
	s, dir := MustOpenStore(t)
	b := MustPut(t, s, pdfDoc, "application/pdf")
	meta := filepath.Join(dir, b.SHA256[:2], b.SHA256+".json")
	require.NoError(t, os.Remove(meta))

	_, err := s.Stat(b.SHA256)
	requireCode(t, err, domain.EINTERNAL)
	_, _, err = s.Open(b.SHA256)
	requireCode(t, err, domain.EINTERNAL)

	// Uploading the document again repairs it.
	require.Equal(t, b, MustPut(t, s, pdfDoc, "application/pdf"))
	got, err := s.Stat(b.SHA256)
	require.NoError(t, err)
	require.Equal(t, b, got)
}

func TestStore_ConcurrentPutSameContent(t *testing.T) {
	s, dir := MustOpenStore(t)
	const n = 16
	results := make([]attachments.Blob, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		declared := "text/csv"
		if i%2 == 1 {
			declared = "text/plain"
		}
		wg.Go(func() {
			results[i], errs[i] = s.Put(context.Background(), bytes.NewReader(csvDoc), declared)
		})
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		require.Equal(t, results[0], results[i], "every upload returns the stored metadata")
	}
	stored, err := s.Stat(sum(csvDoc))
	require.NoError(t, err)
	require.Equal(t, results[0], stored)
	requireNoTemps(t, dir)
}

func TestOpen_RemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, ".tmp-123")
	fresh := filepath.Join(dir, ".tmp-456")
	other := filepath.Join(dir, "keep-me")
	for _, p := range []string{stale, fresh, other} {
		require.NoError(t, os.WriteFile(p, []byte("partial"), 0o600))
	}
	old := time.Now().Add(-2 * time.Minute)
	require.NoError(t, os.Chtimes(stale, old, old))
	require.NoError(t, os.Chtimes(other, old, old))

	MustOpenDir(t, dir)
	require.NoFileExists(t, stale)
	require.FileExists(t, fresh, "a temp file this recent may belong to a running upload")
	require.FileExists(t, other)
}
