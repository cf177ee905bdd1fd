package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/dealreg/dealreg/eventstore"
	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"
)

// The ledger's checkpoint signing key lives in the data directory (or where
// --signing-key says): signing.key holds the signed-note private key
// (mode 0600, never logged), signing.pub its public verifier key.
const (
	signingKeyFile = "signing.key"
	verifierFile   = "signing.pub"
)

// signingKey is the ledger's key: the signer, and the public verifier key
// that checks its checkpoints.
type signingKey struct {
	signer   note.Signer
	verifier string
}

// loadSigningKey reads the signing key from file (empty: DATA/signing.key).
// With create, a missing key in the data directory is generated; a key file
// readable by anyone but its owner is refused.
func loadSigningKey(dataDir, file string, create bool) (signingKey, error) {
	path := file
	if path == "" {
		path = filepath.Join(dataDir, signingKeyFile)
	}
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) && create && file == "" {
		return generateSigningKey(dataDir)
	}
	if err != nil {
		return signingKey{}, fmt.Errorf("signing key: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return signingKey{}, fmt.Errorf("signing key %s is readable by others (mode %04o): chmod 600 it", path, info.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return signingKey{}, fmt.Errorf("signing key: %w", err)
	}
	return parseSigningKey(strings.TrimSpace(string(raw)), path)
}

func parseSigningKey(skey, path string) (signingKey, error) {
	signer, err := note.NewSigner(skey)
	if err != nil {
		// note's message never holds the key itself.
		return signingKey{}, fmt.Errorf("signing key %s is not a signed-note private key: %v", path, err)
	}
	// PRIVATE+KEY+name+hash+base64(0x01 || Ed25519 seed): the verifier
	// key is name+hash+base64(0x01 || public key).
	parts := strings.SplitN(skey, "+", 5) // base64 may hold "+"
	seed, err := base64.StdEncoding.DecodeString(parts[len(parts)-1])
	if err != nil || len(seed) != 1+ed25519.SeedSize || seed[0] != 1 {
		return signingKey{}, fmt.Errorf("signing key %s is not an Ed25519 signed-note key", path)
	}
	pub := ed25519.NewKeyFromSeed(seed[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(signer.Name(), pub)
	if err != nil {
		return signingKey{}, err
	}
	return signingKey{signer: signer, verifier: vkey}, nil
}

// generateSigningKey makes the ledger's key on first start. Its name, the
// checkpoints' origin line, is unique to this ledger.
func generateSigningKey(dataDir string) (signingKey, error) {
	var id [6]byte
	if _, err := rand.Read(id[:]); err != nil {
		return signingKey{}, err
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, "dealreg.ledger/"+hex.EncodeToString(id[:]))
	if err != nil {
		return signingKey{}, err
	}
	path := filepath.Join(dataDir, signingKeyFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return signingKey{}, fmt.Errorf("signing key: %w", err)
	}
	_, err = f.WriteString(skey + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return signingKey{}, fmt.Errorf("signing key: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, verifierFile), []byte(vkey+"\n"), 0o644); err != nil {
		return signingKey{}, fmt.Errorf("verifier key: %w", err)
	}
	if err := syncDir(dataDir); err != nil {
		return signingKey{}, err
	}
	return parseSigningKey(skey, path)
}

// readVerifierKey reads a verifier key given as the key itself or as a
// file holding it (signing.pub, or the JSON of GET /v1/ledger/key).
func readVerifierKey(arg string) (note.Verifier, error) {
	text := arg
	if raw, err := os.ReadFile(arg); err == nil {
		text = string(raw)
		var doc struct {
			Key string `json:"key"`
		}
		if json.Unmarshal(raw, &doc) == nil && doc.Key != "" {
			text = doc.Key
		}
	}
	v, err := note.NewVerifier(strings.TrimSpace(text))
	if err != nil {
		return nil, fmt.Errorf("--key %q is neither a verifier key (name+hash+base64) nor a file holding one", arg)
	}
	return v, nil
}

// ledgerVerifier returns the verifier for the ledger in dataDir: --key, else
// signing.pub, else the one of signing.key; nil if there is none.
func ledgerVerifier(dataDir, key string) (note.Verifier, error) {
	if key != "" {
		return readVerifierKey(key)
	}
	if _, err := os.Stat(filepath.Join(dataDir, verifierFile)); err == nil {
		return readVerifierKey(filepath.Join(dataDir, verifierFile))
	}
	if k, err := loadSigningKey(dataDir, "", false); err == nil {
		return note.NewVerifier(k.verifier)
	}
	return nil, nil
}

// signingFlags are serve's flags for the checkpoint signing key.
type signingFlags struct {
	keyFile           string
	allowContradicted bool
}

func (f *signingFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.keyFile, "signing-key", "", "the checkpoint signing key (a signed-note private key file, mode 0600); default: DATA/signing.key, generated on first start")
	cmd.Flags().BoolVar(&f.allowContradicted, "allow-contradicted-checkpoints", false, "serve a ledger that contradicts its stored signed checkpoints (cut or rewritten), read-only, to look into it")
}

// load reads (or on first start makes) the key and prints its public half.
func (f *signingFlags) load(cmd *cobra.Command, dataDir string) (signingKey, error) {
	key, err := loadSigningKey(dataDir, f.keyFile, true)
	if err != nil {
		return signingKey{}, err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "ledger verifier key: %s\n", key.verifier)
	return key, nil
}

// checkContradiction refuses to serve a ledger that contradicts its newest
// signed checkpoint, unless told to; then it serves it read-only.
func (f *signingFlags) checkContradiction(store *eventstore.SQLite, logger *slog.Logger) error {
	err := store.Contradiction()
	if err == nil {
		return nil
	}
	if !f.allowContradicted {
		return &exitError{code: 1, err: fmt.Errorf("refusing to serve: the ledger was cut or rewritten after it was signed: %w; run dealreg verify to name the first checkpoint it contradicts (--allow-contradicted-checkpoints serves it read-only)", err)}
	}
	logger.Error("serving a ledger that contradicts its signed checkpoints, read-only", "err", err)
	return nil
}
