package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
	"github.com/dealreg/dealreg/proof"
)

// signedLedger makes a data directory with a signing key (as serve's first
// start does) and n events appended under it, one commit each.
func signedLedger(t *testing.T, n int) (dir string, store *eventstore.SQLite) {
	t.Helper()
	dir = t.TempDir()
	key, err := loadSigningKey(dir, "", true)
	require.NoError(t, err)
	store, err = eventstore.OpenSQLite(ledgerPath(dir), eventstore.Options{Signer: key.signer})
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	for i := range n {
		_, err := store.Append(context.Background(), fmt.Sprintf("registration-%d", i%3), domain.Any(), domain.EventData{
			ID: uuid.New(), Type: "RegistrationSubmitted", SchemaVersion: 1,
			Data:     json.RawMessage(fmt.Sprintf(`{"company":"Empresa %d S.A. <b>","value":"150000.00"}`, i)),
			Metadata: json.RawMessage(fmt.Sprintf(`{"actor_id":"p%d","partner_id":"partner-%d"}`, i%3, i%3)),
		})
		require.NoError(t, err)
	}
	return dir, store
}

func writeReceipt(t *testing.T, store *eventstore.SQLite, pos uint64, since int64) string {
	t.Helper()
	rs, err := store.Receipts(context.Background(), []uint64{pos}, since)
	require.NoError(t, err)
	raw, err := json.MarshalIndent(rs[0], "", "  ")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), fmt.Sprintf("receipt-%d.json", pos))
	require.NoError(t, os.WriteFile(path, raw, 0o644))
	return path
}

func TestProofVerify(t *testing.T) {
	dir, store := signedLedger(t, 9)
	pub := filepath.Join(dir, verifierFile)
	older := writeReceipt(t, store, 4, 0) // a receipt kept when the ledger had 9 events
	for i := range 5 {
		_, err := store.Append(context.Background(), "registration-late", domain.Any(), domain.EventData{
			ID: uuid.New(), Type: "RegistrationSubmitted", SchemaVersion: 1, Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)), Metadata: json.RawMessage(`{}`),
		})
		require.NoError(t, err)
	}
	later := writeReceipt(t, store, 12, 9)
	first := writeReceipt(t, store, 2, 0)

	t.Run("OK", func(t *testing.T) {
		code, out, errOut := runCLI(t, "", "proof", "verify", later, first, "--key", pub)
		require.Equal(t, 0, code, errOut)
		require.Contains(t, out, "RegistrationSubmitted of registration-late at position 12")
		require.Regexp(t, `1\. position 2: .*receipt-2\.json receipt`, out)
		require.Regexp(t, `2\. position 12: .*receipt-12\.json receipt`, out)
	})
	t.Run("OlderCheckpoint", func(t *testing.T) {
		code, out, errOut := runCLI(t, "", "proof", "verify", later, "--key", pub, "--checkpoint", older)
		require.Equal(t, 0, code, errOut)
		require.Contains(t, out, "consistent with the older checkpoint of 9 events")
		code, _, errOut = runCLI(t, "", "proof", "verify", first, "--key", pub, "--checkpoint", older)
		require.Equal(t, 1, code)
		require.Contains(t, errOut, "no consistency proof from size 9")
	})
	t.Run("WrongKey", func(t *testing.T) {
		other := t.TempDir()
		_, err := loadSigningKey(other, "", true)
		require.NoError(t, err)
		code, _, errOut := runCLI(t, "", "proof", "verify", first, "--key", filepath.Join(other, verifierFile))
		require.Equal(t, 1, code)
		require.Contains(t, errOut, "carries no signature by the key")
	})

	// Flipping any byte of the event, the proof, the checkpoint or its
	// signature fails, with a reason in words.
	raw, err := os.ReadFile(first)
	require.NoError(t, err)
	var r proof.Receipt
	require.NoError(t, json.Unmarshal(raw, &r))
	check := func(t *testing.T, mutated proof.Receipt, reason string) {
		t.Helper()
		b, err := json.Marshal(mutated)
		require.NoError(t, err)
		path := filepath.Join(t.TempDir(), "receipt.json")
		require.NoError(t, os.WriteFile(path, b, 0o644))
		code, _, errOut := runCLI(t, "", "proof", "verify", path, "--key", pub)
		require.Equal(t, 1, code, "a changed receipt verified")
		require.Regexp(t, reason, errOut)
	}
	clone := func() proof.Receipt {
		var c proof.Receipt
		require.NoError(t, json.Unmarshal(raw, &c))
		return c
	}
	t.Run("FlippedLeafByte", func(t *testing.T) {
		for i := range r.Leaf {
			m := clone()
			m.Leaf[i] ^= 0x01
			b, _ := json.Marshal(m)
			_, err := proof.Verify(b, mustVerifier(t, pub), nil)
			require.Error(t, err, "leaf byte %d", i)
		}
		m := clone()
		m.Leaf[len(m.Leaf)-3] ^= 0x01 // inside the metadata
		check(t, m, `does not verify: receipt: the event's metadata shown differs|not an event of this ledger's format`)
	})
	t.Run("FlippedEventShown", func(t *testing.T) {
		m := clone()
		m.Event.Data = json.RawMessage(strings.Replace(string(m.Event.Data), "Empresa 2", "Empresa 3", 1))
		check(t, m, `the event's data shown differs from the data in the leaf bytes`)
		m = clone()
		m.LeafIndex = 3
		check(t, m, `leaf index 3 but the leaf bytes say the event is at position 2`)
	})
	t.Run("FlippedProofByte", func(t *testing.T) {
		require.NotEmpty(t, r.InclusionProof)
		for j := range r.InclusionProof {
			for i := range r.InclusionProof[j] {
				m := clone()
				m.InclusionProof[j][i] ^= 0x80
				b, _ := json.Marshal(m)
				_, err := proof.Verify(b, mustVerifier(t, pub), nil)
				require.ErrorContains(t, err, "the inclusion proof does not lead from this leaf", "proof hash %d byte %d", j, i)
			}
		}
		m := clone()
		m.InclusionProof[0][0] ^= 0x80
		check(t, m, `the inclusion proof does not lead from this leaf at index 2 to the checkpoint's root hash`)
	})
	t.Run("FlippedCheckpointOrSignatureByte", func(t *testing.T) {
		text, sig, _ := strings.Cut(r.Checkpoint, "\n\n")
		for i := range len(text) {
			m := clone()
			b := []byte(m.Checkpoint)
			b[i] ^= 0x01
			m.Checkpoint = string(b)
			mb, _ := json.Marshal(m)
			_, err := proof.Verify(mb, mustVerifier(t, pub), nil)
			require.ErrorContains(t, err, "checkpoint", "checkpoint byte %d", i)
		}
		// The signature's bytes, decoded: each one flipped fails.
		fields := strings.Fields(sig)
		sigBytes, err := base64.StdEncoding.DecodeString(fields[2])
		require.NoError(t, err)
		for i := range sigBytes {
			flipped := append([]byte(nil), sigBytes...)
			flipped[i] ^= 0x01
			m := clone()
			m.Checkpoint = text + "\n\n" + fields[0] + " " + fields[1] + " " + base64.StdEncoding.EncodeToString(flipped) + "\n"
			mb, _ := json.Marshal(m)
			_, err := proof.Verify(mb, mustVerifier(t, pub), nil)
			require.ErrorContains(t, err, "checkpoint", "signature byte %d", i)
		}
		m := clone()
		m.Checkpoint = strings.Replace(m.Checkpoint, "\n14\n", "\n15\n", 1)
		check(t, m, `the checkpoint's signature is wrong for the key`)
	})
}

func mustVerifier(t *testing.T, pub string) interface {
	Name() string
	KeyHash() uint32
	Verify(msg, sig []byte) bool
} {
	t.Helper()
	v, err := readVerifierKey(pub)
	require.NoError(t, err)
	return v
}

// The docs' standard-tools recipe (docs/proofs.md) verifies a real receipt
// and rejects altered ones.
func TestProofsDoc_PythonRecipe(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: the recipe cannot run here (CI has it)")
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "proofs.md"))
	require.NoError(t, err)
	m := regexp.MustCompile("(?s)```python verify_receipt.py\n(.*?)```").FindSubmatch(doc)
	require.NotNil(t, m, "docs/proofs.md holds the recipe")
	script := filepath.Join(t.TempDir(), "verify_receipt.py")
	require.NoError(t, os.WriteFile(script, m[1], 0o644))

	dir, store := signedLedger(t, 13)
	pub := filepath.Join(dir, verifierFile)
	for _, pos := range []uint64{0, 5, 12} {
		out, err := exec.Command(py, script, writeReceipt(t, store, pos, 0), pub).CombinedOutput()
		require.NoError(t, err, "%s", out)
		require.Contains(t, string(out), fmt.Sprintf("ok: RegistrationSubmitted registration-%d at position %d is in dealreg.ledger/", pos%3, pos))
	}
	raw, err := os.ReadFile(writeReceipt(t, store, 5, 0))
	require.NoError(t, err)
	var r proof.Receipt
	require.NoError(t, json.Unmarshal(raw, &r))
	for name, change := range map[string]func(*proof.Receipt){
		"leaf":       func(r *proof.Receipt) { r.Leaf[len(r.Leaf)-2] ^= 1 },
		"proof":      func(r *proof.Receipt) { r.InclusionProof[1][7] ^= 1 },
		"checkpoint": func(r *proof.Receipt) { r.Checkpoint = strings.Replace(r.Checkpoint, "\n13\n", "\n12\n", 1) },
		"index":      func(r *proof.Receipt) { r.LeafIndex = 4 },
	} {
		var c proof.Receipt
		require.NoError(t, json.Unmarshal(raw, &c))
		change(&c)
		b, _ := json.Marshal(c)
		path := filepath.Join(t.TempDir(), "receipt.json")
		require.NoError(t, os.WriteFile(path, b, 0o644))
		out, err := exec.Command(py, script, path, pub).CombinedOutput()
		require.Error(t, err, "the recipe accepted a receipt with a changed %s: %s", name, out)
		require.Contains(t, string(out), "FAIL:", name)
	}
}

// Deleting the newest events with the sqlite3 tool used to pass verify;
// with checkpoints it fails naming the checkpoint, and serve refuses.
func TestVerify_CutLedgerContradictsCheckpoints(t *testing.T) {
	dir, store := signedLedger(t, 12)
	require.NoError(t, store.Close())
	code, out, errOut := runCLI(t, "", "verify", "--data", dir)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "ok: 12 signed checkpoints verified with dealreg.ledger/")

	cut := `DELETE FROM events WHERE position >= 9`
	if bin, err := exec.LookPath("sqlite3"); err == nil {
		b, err := exec.Command(bin, ledgerPath(dir), cut).CombinedOutput()
		require.NoError(t, err, "%s", b)
	} else {
		t.Log("sqlite3 not installed; cutting through database/sql")
		db, err := sqlOpen(ledgerPath(dir))
		require.NoError(t, err)
		_, err = db.Exec(cut)
		require.NoError(t, err)
		db.Close()
	}
	code, _, errOut = runCLI(t, "", "verify", "--data", dir)
	require.Equal(t, 1, code, "a cut ledger fails verify")
	require.Contains(t, errOut, "stored checkpoint of tree size 10 (")
	require.Contains(t, errOut, "it covers 10 events but the ledger holds only 9")

	p := startServe(t, dir)
	<-p.exited
	require.Error(t, p.err)
	require.Equal(t, 1, p.cmd.ProcessState.ExitCode(), p.stderr.String())
	require.Contains(t, p.stderr.String(), "refusing to serve: the ledger was cut or rewritten")
	require.Contains(t, p.stderr.String(), "tree size 12")
}

func TestServe_SigningKey(t *testing.T) {
	dir := t.TempDir()
	p := startServe(t, dir)
	p.waitHealthy(t)
	info, err := os.Stat(filepath.Join(dir, signingKeyFile))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	pub, err := os.ReadFile(filepath.Join(dir, verifierFile))
	require.NoError(t, err)
	require.Contains(t, p.stderr.String(), "ledger verifier key: "+strings.TrimSpace(string(pub)))
	skey, err := os.ReadFile(filepath.Join(dir, signingKeyFile))
	require.NoError(t, err)
	require.NotContains(t, p.stderr.String(), strings.TrimSpace(string(skey)), "the private key is never logged")
	require.NotContains(t, p.stderr.String(), "PRIVATE+KEY")

	// A key file others may read is refused.
	other := t.TempDir()
	_, err = loadSigningKey(other, "", true)
	require.NoError(t, err)
	require.NoError(t, os.Chmod(filepath.Join(other, signingKeyFile), 0o644))
	_, err = loadSigningKey(other, "", true)
	require.ErrorContains(t, err, "is readable by others (mode 0644)")
}

// A ledger rewritten from an earlier point: the attacker deletes events and
// checkpoints from position 5 on, appends other events (which dealreg signs
// afresh), and puts the old checkpoints back. verify names the first
// checkpoint the ledger contradicts; a receipt kept from before fails
// consistency against the new checkpoint.
func TestVerify_RewrittenLedger(t *testing.T) {
	dir, store := signedLedger(t, 10)
	kept := writeReceipt(t, store, 7, 0)
	require.NoError(t, store.Close())
	sqlite := func(stmt string) {
		t.Helper()
		if bin, err := exec.LookPath("sqlite3"); err == nil {
			b, err := exec.Command(bin, ledgerPath(dir), stmt).CombinedOutput()
			require.NoError(t, err, "%s", b)
			return
		}
		db, err := sqlOpen(ledgerPath(dir))
		require.NoError(t, err)
		defer db.Close()
		_, err = db.Exec(stmt)
		require.NoError(t, err)
	}
	sqlite(`CREATE TABLE saved AS SELECT * FROM checkpoints WHERE size > 5; DELETE FROM checkpoints WHERE size > 5; DELETE FROM events WHERE position >= 5`)
	key, err := loadSigningKey(dir, "", false)
	require.NoError(t, err)
	store, err = eventstore.OpenSQLite(ledgerPath(dir), eventstore.Options{Signer: key.signer})
	require.NoError(t, err)
	for i := range 8 {
		_, err := store.Append(context.Background(), "registration-forged", domain.Any(), domain.EventData{
			ID: uuid.New(), Type: "RegistrationSubmitted", SchemaVersion: 1, Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)), Metadata: json.RawMessage(`{}`),
		})
		require.NoError(t, err)
	}
	doc, err := store.Consistency(context.Background(), 10, 0)
	require.NoError(t, err)
	require.NoError(t, store.Close())
	raw, err := json.Marshal(doc)
	require.NoError(t, err)
	consistency := filepath.Join(t.TempDir(), "consistency.json")
	require.NoError(t, os.WriteFile(consistency, raw, 0o644))

	pub := filepath.Join(dir, verifierFile)
	code, _, errOut := runCLI(t, "", "proof", "verify", consistency, "--key", pub, "--checkpoint", kept)
	require.Equal(t, 1, code, "a receipt kept from before the rewrite is not consistent with the new checkpoint")
	require.Contains(t, errOut, "the ledger was rewritten: the checkpoint of 13 events does not extend the older checkpoint of 10 events")

	code, _, errOut = runCLI(t, "", "verify", "--data", dir)
	require.Equal(t, 0, code, "with its old checkpoints gone, the file alone looks fine: %s", errOut)
	sqlite(`INSERT OR REPLACE INTO checkpoints SELECT * FROM saved; DROP TABLE saved`)
	code, _, errOut = runCLI(t, "", "verify", "--data", dir)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "stored checkpoint of tree size 6 (")
	require.Contains(t, errOut, "the ledger's first 6 events have another root hash: the ledger was rewritten at or before position 5")
}
