package api_test

import (
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"
)

// harnessKey is the signing key of a harness ledger: fresh for each.
func harnessKey(tb testing.TB) (note.Signer, string) {
	tb.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "dealreg.test/ledger")
	require.NoError(tb, err)
	signer, err := note.NewSigner(skey)
	require.NoError(tb, err)
	return signer, vkey
}
