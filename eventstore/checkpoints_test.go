package eventstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	merkleproof "github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
	"github.com/dealreg/dealreg/eventstore/storetest"
	"github.com/dealreg/dealreg/proof"
)

// testKey returns a signer and verifier of a fresh Ed25519 key.
func testKey(tb testing.TB) (note.Signer, note.Verifier) {
	tb.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "dealreg.test/ledger")
	require.NoError(tb, err)
	signer, err := note.NewSigner(skey)
	require.NoError(tb, err)
	verifier, err := note.NewVerifier(vkey)
	require.NoError(tb, err)
	return signer, verifier
}

func openSigned(tb testing.TB, path string, signer note.Signer) *eventstore.SQLite {
	tb.Helper()
	s, err := eventstore.OpenSQLite(path, eventstore.Options{Signer: signer})
	require.NoError(tb, err)
	tb.Cleanup(func() { s.Close() })
	return s
}

func receipt(tb testing.TB, s *eventstore.SQLite, pos uint64, since int64) []byte {
	tb.Helper()
	rs, err := s.Receipts(context.Background(), []uint64{pos}, since)
	require.NoError(tb, err)
	raw, err := json.Marshal(rs[0])
	require.NoError(tb, err)
	return raw
}

func checkpointCount(tb testing.TB, path string) int {
	tb.Helper()
	db, err := sql.Open("sqlite", path)
	require.NoError(tb, err)
	defer db.Close()
	var n int
	require.NoError(tb, db.QueryRow(`SELECT count(*) FROM checkpoints`).Scan(&n))
	return n
}

func TestSQLite_Checkpoints(t *testing.T) {
	ctx := context.Background()
	signer, verifier := testKey(t)

	t.Run("EveryCommitIsCoveredWhenItReturns", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ledger.db")
		s := openSigned(t, path, signer)
		// When an append returns, another connection already finds a
		// stored checkpoint covering it: it was committed with it.
		other, err := sql.Open("sqlite", path)
		require.NoError(t, err)
		defer other.Close()
		for i := range 5 {
			res, err := s.Append(ctx, "registration-durable", domain.Any(), fillEvent(i))
			require.NoError(t, err)
			var size int64
			require.NoError(t, other.QueryRow(`SELECT max(size) FROM checkpoints`).Scan(&size))
			require.EqualValues(t, res.Position+1, size)
		}
		// One append per commit here: one checkpoint each, the last
		// covering every event.
		require.Equal(t, 5, checkpointCount(t, path))
		c, ok, err := s.LatestCheckpoint(ctx)
		require.NoError(t, err)
		require.True(t, ok)
		require.EqualValues(t, 5, c.Size)
		head, err := s.TreeHead(ctx)
		require.NoError(t, err)
		require.Equal(t, head.Root, c.Root)
		body, err := proof.OpenCheckpoint(c.Note, verifier)
		require.NoError(t, err)
		require.Equal(t, proof.Checkpoint{Origin: "dealreg.test/ledger", Size: 5, Root: head.Root}, body)
	})

	t.Run("ReceiptVerifiesOfflineAndWithAnotherImplementation", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ledger.db")
		s := openSigned(t, path, signer)
		fill(t, s, 23)
		for _, pos := range []uint64{0, 1, 7, 15, 16, 22} {
			raw := receipt(t, s, pos, 0)
			rep, err := proof.Verify(raw, verifier, nil)
			require.NoError(t, err, "receipt of %d", pos)
			require.Equal(t, pos, rep.Events[0].Leaf.Position)

			var r proof.Receipt
			require.NoError(t, json.Unmarshal(raw, &r))
			c, err := proof.OpenCheckpoint([]byte(r.Checkpoint), verifier)
			require.NoError(t, err)
			h := rfc6962.DefaultHasher
			require.NoError(t, merkleproof.VerifyInclusion(h, uint64(r.LeafIndex), uint64(c.Size), h.HashLeaf(r.Leaf), r.InclusionProof, c.Root[:]),
				"transparency-dev/merkle rejects the receipt of %d", pos)
		}
	})

	t.Run("ConsistencyBetweenEarlyAndLateCheckpoints", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ledger.db")
		s := openSigned(t, path, signer)
		fill(t, s, 6)
		early, _, err := s.LatestCheckpoint(ctx)
		require.NoError(t, err)
		fill(t, s, 11)
		doc, err := s.Consistency(ctx, early.Size, 0)
		require.NoError(t, err)
		require.NotEmpty(t, doc.FromCheckpoint, "the server signed a checkpoint of exactly 6 events")
		raw, _ := json.Marshal(doc)
		older, err := proof.OpenCheckpoint(early.Note, verifier)
		require.NoError(t, err)
		_, err = proof.Verify(raw, verifier, &older)
		require.NoError(t, err)
		late, err := proof.OpenCheckpoint([]byte(doc.Checkpoint), verifier)
		require.NoError(t, err)
		require.NoError(t, merkleproof.VerifyConsistency(rfc6962.DefaultHasher, uint64(early.Size), uint64(late.Size), doc.Proof, early.Root[:], late.Root[:]),
			"transparency-dev/merkle rejects the consistency proof")
	})

	t.Run("DeletedEventsContradictTheCheckpoints", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ledger.db")
		s, err := eventstore.OpenSQLite(path, eventstore.Options{Signer: signer})
		require.NoError(t, err)
		fill(t, s, 10)
		require.NoError(t, s.Close())
		// The attacker cuts the ledger back to 7 events with the
		// sqlite3 tool; the tree of 7 events is self-consistent.
		sqlite3Exec(t, path, `DELETE FROM events WHERE position >= 7`)

		s = openSigned(t, path, signer)
		_, err = s.Verify(ctx)
		require.NoError(t, err, "the events alone cannot show the cut")
		_, err = s.VerifyCheckpoints(ctx, verifier)
		var ce *eventstore.CheckpointError
		require.ErrorAs(t, err, &ce)
		require.EqualValues(t, 8, ce.Size, "the first checkpoint the ledger contradicts")
		require.Contains(t, ce.Error(), "covers 8 events but the ledger holds only 7")

		require.ErrorAs(t, s.Contradiction(), &ce)
		require.EqualValues(t, 10, ce.Size, "at open, the newest checkpoint is checked")
		_, err = s.Append(ctx, "registration-x", domain.Any(), fillEvent(0))
		require.ErrorAs(t, err, &ce, "a contradicted ledger takes no appends (it would sign a fork)")
	})

	t.Run("RewrittenLedgerFailsConsistencyAndVerify", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ledger.db")
		s, err := eventstore.OpenSQLite(path, eventstore.Options{Signer: signer})
		require.NoError(t, err)
		fill(t, s, 12)
		// A partner keeps a receipt of event 9 with its checkpoint.
		var kept proof.Receipt
		require.NoError(t, json.Unmarshal(receipt(t, s, 9, 0), &kept))
		keptCheckpoint, err := proof.OpenCheckpoint([]byte(kept.Checkpoint), verifier)
		require.NoError(t, err)
		require.NoError(t, s.Close())

		// The attacker rewrites history from position 5: deletes the
		// events and the checkpoints after it, keeping the old
		// checkpoints aside, then appends other events through dealreg,
		// which signs new checkpoints over the rewritten tree.
		sqlite3Exec(t, path, `CREATE TABLE old_checkpoints AS SELECT * FROM checkpoints WHERE size > 5; DELETE FROM checkpoints WHERE size > 5; DELETE FROM events WHERE position >= 5`)
		s, err = eventstore.OpenSQLite(path, eventstore.Options{Signer: signer})
		require.NoError(t, err)
		require.NoError(t, s.Contradiction(), "with its checkpoints removed too, the file alone looks fine")
		for i := range 9 {
			_, err := s.Append(ctx, "registration-rewritten", domain.Any(), fillEvent(100+i))
			require.NoError(t, err)
		}
		// The partner's old receipt fails consistency with the new
		// checkpoint: the server can no longer prove the tree it showed.
		doc, err := s.Consistency(ctx, keptCheckpoint.Size, 0)
		require.NoError(t, err)
		raw, _ := json.Marshal(doc)
		_, err = proof.Verify(raw, verifier, &keptCheckpoint)
		require.Error(t, err)
		require.Contains(t, err.Error(), "the ledger was rewritten")
		// And its receipt does not verify against the new tree either.
		rs, err := s.Receipts(ctx, []uint64{9}, 0)
		require.NoError(t, err)
		require.NotEqual(t, kept.Leaf, rs[0].Leaf)
		require.NoError(t, s.Close())

		// Had the old checkpoints stayed in the file, verify names the
		// first one the rewritten ledger contradicts.
		sqlite3Exec(t, path, `INSERT OR REPLACE INTO checkpoints SELECT * FROM old_checkpoints; DROP TABLE old_checkpoints`)
		s = openSigned(t, path, signer)
		_, err = s.Verify(ctx)
		require.NoError(t, err)
		_, err = s.VerifyCheckpoints(ctx, verifier)
		var ce *eventstore.CheckpointError
		require.ErrorAs(t, err, &ce)
		require.EqualValues(t, 6, ce.Size)
		require.Contains(t, ce.Error(), "rewritten at or before position 5")
	})

	t.Run("UnsignedAppendsAreCoveredOnDemand", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ledger.db")
		plain, err := eventstore.OpenSQLite(path, eventstore.Options{})
		require.NoError(t, err)
		fill(t, plain, 3)
		require.NoError(t, plain.Close())
		s := openSigned(t, path, signer)
		require.Equal(t, 0, checkpointCount(t, path))
		_, err = proof.Verify(receipt(t, s, 2, 0), verifier, nil)
		require.NoError(t, err)
		require.Equal(t, 1, checkpointCount(t, path))
	})
}

func fillEvent(i int) domain.EventData { return storetest.Event("Rewritten", i) }
