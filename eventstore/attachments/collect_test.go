package attachments_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore/attachments"
	"github.com/stretchr/testify/require"
)

func docPath(dir, sha string) string { return filepath.Join(dir, sha[:2], sha) }

// age sets the modification time of the given files to d ago.
func age(tb testing.TB, d time.Duration, paths ...string) {
	tb.Helper()
	at := time.Now().Add(-d)
	for _, p := range paths {
		require.NoError(tb, os.Chtimes(p, at, at))
	}
}

func TestStore_StageDiscard(t *testing.T) {
	s, dir := MustOpenStore(t)
	st, err := s.Stage(context.Background(), bytes.NewReader(pdfDoc), "application/pdf")
	require.NoError(t, err)
	require.Equal(t, attachments.Blob{SHA256: sum(pdfDoc), Size: int64(len(pdfDoc)), ContentType: "application/pdf"}, st.Blob())
	_, err = s.Stat(sum(pdfDoc))
	requireCode(t, err, domain.ENOTFOUND)

	st.Discard()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries, "a discarded document leaves nothing")
	_, err = st.Publish()
	require.Error(t, err, "a discarded document cannot be published")
}

func TestStore_StagePublish(t *testing.T) {
	s, dir := MustOpenStore(t)
	st, err := s.Stage(context.Background(), bytes.NewReader(pdfDoc), "application/pdf")
	require.NoError(t, err)
	b, err := st.Publish()
	require.NoError(t, err)
	again, err := st.Publish()
	require.NoError(t, err, "Publish is idempotent")
	require.Equal(t, b, again)
	st.Discard() // a no-op once published
	got, err := s.Stat(b.SHA256)
	require.NoError(t, err)
	require.Equal(t, b, got)
	requireNoTemps(t, dir)

	t.Run("AlreadyStored", func(t *testing.T) {
		// Publishing bytes stored long ago keeps them and makes them
		// recent, so that Collect leaves them to the event being appended.
		age(t, 48*time.Hour, docPath(dir, b.SHA256))
		st, err := s.Stage(context.Background(), bytes.NewReader(pdfDoc), "application/octet-stream")
		require.NoError(t, err)
		got, err := st.Publish()
		require.NoError(t, err)
		require.Equal(t, b, got, "the stored metadata wins")
		requireNoTemps(t, dir)
		c, err := s.Collect(context.Background(), func(string) bool { return false }, time.Hour, time.Now())
		require.NoError(t, err)
		require.Equal(t, attachments.Collected{Kept: 1}, c)
	})
}

func TestStore_Collect(t *testing.T) {
	s, dir := MustOpenStore(t)
	kept := MustPut(t, s, pdfDoc, "application/pdf") // referenced by the ledger
	orphan := MustPut(t, s, pngDoc, "image/png")     // referenced by nothing
	recent := MustPut(t, s, textDoc, "text/plain")   // referenced by nothing, but recent
	metaOnly := MustPut(t, s, csvDoc, "text/csv")    // its document lost to a crash
	require.NoError(t, os.Remove(docPath(dir, metaOnly.SHA256)))
	staleTemp := filepath.Join(dir, ".tmp-stale")
	require.NoError(t, os.WriteFile(staleTemp, []byte("partial"), 0o600))
	freshTemp := filepath.Join(dir, ".tmp-fresh")
	require.NoError(t, os.WriteFile(freshTemp, []byte("partial"), 0o600))
	foreign := filepath.Join(dir, "README")
	require.NoError(t, os.WriteFile(foreign, []byte("not ours"), 0o600))
	for _, b := range []attachments.Blob{kept, orphan, metaOnly} {
		age(t, 2*time.Hour, docPath(dir, b.SHA256)+".json")
	}
	age(t, 2*time.Hour, docPath(dir, kept.SHA256), docPath(dir, orphan.SHA256), staleTemp, foreign)

	referenced := map[string]bool{kept.SHA256: true}
	c, err := s.Collect(context.Background(), func(sha string) bool { return referenced[sha] }, time.Hour, time.Now())
	require.NoError(t, err)
	require.Equal(t, attachments.Collected{Documents: 1, Bytes: orphan.Size, Metadata: 1, Temps: 1, Kept: 2}, c)

	_, err = s.Stat(orphan.SHA256)
	requireCode(t, err, domain.ENOTFOUND)
	require.NoFileExists(t, docPath(dir, orphan.SHA256)+".json")
	require.NoFileExists(t, docPath(dir, metaOnly.SHA256)+".json")
	require.NoFileExists(t, staleTemp)
	for _, b := range []attachments.Blob{kept, recent} {
		got, err := s.Stat(b.SHA256)
		require.NoError(t, err)
		require.Equal(t, b, got)
	}
	require.FileExists(t, freshTemp, "a recent temp file may belong to a running upload")
	require.FileExists(t, foreign)

	// Once collected, the same bytes can be stored again.
	require.Equal(t, orphan, MustPut(t, s, pngDoc, "image/png"))

	_, err = s.Collect(context.Background(), func(string) bool { return true }, -time.Second, time.Now())
	require.Error(t, err)
}

func TestOpen_RegistrationQuota(t *testing.T) {
	s, _ := MustOpenStore(t)
	require.Equal(t, int64(attachments.DefaultRegistrationQuota), s.RegistrationQuota())
	s, _ = MustOpenStore(t, attachments.Options{RegistrationQuota: 5 << 20})
	require.Equal(t, int64(5<<20), s.RegistrationQuota())
	_, err := attachments.Open(t.TempDir(), attachments.Options{RegistrationQuota: -1})
	require.Error(t, err)
}
