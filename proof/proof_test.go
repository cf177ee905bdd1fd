package proof_test

import (
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/dealreg/dealreg/proof"
)

func TestCheckpoint_TextRoundTrip(t *testing.T) {
	c := proof.Checkpoint{Origin: "dealreg.ledger/0a1b2c", Size: 1042, Root: tlog.Hash{1, 2, 3}}
	got, err := proof.ParseCheckpoint(c.Text())
	require.NoError(t, err)
	require.Equal(t, c, got)
	for name, text := range map[string]string{
		"NoOrigin":     "\n5\nAQIDAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"SignedSize":   "o\n+5\nAQIDAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"LeadingZero":  "o\n05\nAQIDAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"ShortRoot":    "o\n5\nAQID\n",
		"NoFinalLine":  "o\n5\nAQIDAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"MissingLines": "o\n5\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := proof.ParseCheckpoint(text)
			require.Error(t, err)
		})
	}
}

func TestOpenCheckpoint(t *testing.T) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "dealreg.test/a")
	require.NoError(t, err)
	signer, _ := note.NewSigner(skey)
	v, _ := note.NewVerifier(vkey)
	_, otherKey, _ := note.GenerateKey(rand.Reader, "dealreg.test/a")
	other, _ := note.NewVerifier(otherKey)

	c := proof.Checkpoint{Origin: "dealreg.test/a", Size: 7, Root: tlog.Hash{9}}
	signed, err := proof.Sign(c, signer)
	require.NoError(t, err)
	got, err := proof.OpenCheckpoint(signed, v)
	require.NoError(t, err)
	require.Equal(t, c, got)

	_, err = proof.OpenCheckpoint(signed, other)
	require.ErrorContains(t, err, "carries no signature by the key")
	// A checkpoint whose origin is not the key's name is refused.
	wrong, err := proof.Sign(proof.Checkpoint{Origin: "elsewhere", Size: 7}, signer)
	require.NoError(t, err)
	_, err = proof.OpenCheckpoint(wrong, v)
	require.ErrorContains(t, err, `names the log "elsewhere"`)
}

func TestLeaf_RoundTrip(t *testing.T) {
	l := proof.Leaf{EventID: [16]byte{1, 2}, Stream: "registration-x", Revision: 3, Position: 99, Type: "RegistrationSubmitted",
		SchemaVersion: 1, RecordedAt: 1_700_000_000_000_000_000, Data: []byte(`{"a":"<b>"}`), Metadata: []byte(`{}`)}
	b := l.Encode()
	got, err := proof.DecodeLeaf(b)
	require.NoError(t, err)
	require.Equal(t, l, got)
	for name, bad := range map[string][]byte{
		"Trailing":  append(append([]byte{}, b...), 0),
		"Cut":       b[:len(b)-1],
		"NoPrefix":  b[1:],
		"OtherVers": append([]byte("dealreg/event/v2\n"), b[len(proof.LeafPrefix):]...),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := proof.DecodeLeaf(bad)
			require.Error(t, err)
		})
	}
}

func TestCheckConsistency_SameSizeFork(t *testing.T) {
	a := proof.Checkpoint{Origin: "o", Size: 5, Root: tlog.Hash{1}}
	b := proof.Checkpoint{Origin: "o", Size: 5, Root: tlog.Hash{2}}
	require.NoError(t, proof.CheckConsistency("x", a, a, nil))
	require.ErrorContains(t, proof.CheckConsistency("x", a, b, nil), "a fork")
	bigger := proof.Checkpoint{Origin: "o", Size: 9, Root: tlog.Hash{3}}
	require.ErrorContains(t, proof.CheckConsistency("x", a, bigger, nil), "no consistency proof from size 5")
	require.ErrorContains(t, proof.CheckConsistency("x", bigger, a, nil), "give the older one")
}
