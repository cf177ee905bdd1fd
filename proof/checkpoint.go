package proof

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint is the body of a C2SP tlog-checkpoint: the log's origin, the
// number of leaves and the RFC 6962 root hash over them.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
}

// Text returns the checkpoint body as it is signed: three lines, each ending
// in a newline.
func (c Checkpoint) Text() string {
	return c.Origin + "\n" + strconv.FormatInt(c.Size, 10) + "\n" + base64.StdEncoding.EncodeToString(c.Root[:]) + "\n"
}

// ParseCheckpoint parses a checkpoint body (extension lines after the root
// are allowed and ignored, as C2SP says).
func ParseCheckpoint(text string) (Checkpoint, error) {
	lines := strings.SplitAfter(text, "\n")
	if len(lines) < 4 || !strings.HasSuffix(text, "\n") {
		return Checkpoint{}, fmt.Errorf("a checkpoint has an origin line, a size line and a root hash line")
	}
	var c Checkpoint
	c.Origin = strings.TrimSuffix(lines[0], "\n")
	if c.Origin == "" {
		return Checkpoint{}, fmt.Errorf("the checkpoint's origin line is empty")
	}
	sizeLine := strings.TrimSuffix(lines[1], "\n")
	n, err := strconv.ParseInt(sizeLine, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != sizeLine {
		return Checkpoint{}, fmt.Errorf("the checkpoint's size line %q is not a decimal number of leaves", sizeLine)
	}
	c.Size = n
	rootLine := strings.TrimSuffix(lines[2], "\n")
	root, err := base64.StdEncoding.DecodeString(rootLine)
	if err != nil || len(root) != tlog.HashSize {
		return Checkpoint{}, fmt.Errorf("the checkpoint's root line %q is not a base64 SHA-256 hash", rootLine)
	}
	copy(c.Root[:], root)
	return c, nil
}

// Sign signs c as a note with signer. The signer's name is the origin.
func Sign(c Checkpoint, signer note.Signer) ([]byte, error) {
	return note.Sign(&note.Note{Text: c.Text()}, signer)
}

// OpenCheckpoint checks the signature of a signed checkpoint with the
// verifier and parses it. Its origin must be the key's name.
func OpenCheckpoint(signed []byte, v note.Verifier) (Checkpoint, error) {
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		var invalid *note.InvalidSignatureError
		var unverified *note.UnverifiedNoteError
		switch {
		case errors.As(err, &invalid):
			return Checkpoint{}, fmt.Errorf("the checkpoint's signature is wrong for the key %s: the checkpoint text or its signature was changed", v.Name())
		case errors.As(err, &unverified):
			return Checkpoint{}, fmt.Errorf("the checkpoint carries no signature by the key %s: it was signed by another key, or its signature line was changed", v.Name())
		default:
			return Checkpoint{}, fmt.Errorf("the checkpoint is not a well-formed signed note (%v): it was changed or cut", err)
		}
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != v.Name() {
		return Checkpoint{}, fmt.Errorf("the checkpoint names the log %q, but the key is for %q", c.Origin, v.Name())
	}
	return c, nil
}

// NewVerifier parses a verifier key: "name+hash+base64key", as
// note.GenerateKey returns it and GET /v1/ledger/key serves it.
func NewVerifier(key string) (note.Verifier, error) {
	v, err := note.NewVerifier(strings.TrimSpace(key))
	if err != nil {
		return nil, fmt.Errorf("the public key is not a signed-note verifier key (name+hash+base64): %v", err)
	}
	return v, nil
}
