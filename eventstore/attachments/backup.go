package attachments

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dealreg/dealreg/domain"
)

// ErrCorrupt is wrapped by the errors of documents whose stored bytes or
// metadata do not match their hash.
var ErrCorrupt = errors.New("corrupt")

// VerifyDocument checks that the document with hex SHA-256 sha is stored
// intact in the store directory dir: present, with metadata describing it,
// and bytes that hash to sha. It only reads, so tools such as verify and
// export use it without opening the store. A missing document is ENOTFOUND;
// a damaged one an error wrapping ErrCorrupt.
func VerifyDocument(dir, sha string) (Blob, error) {
	f, b, err := ReadDocument(dir, sha)
	if err != nil {
		return Blob{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return Blob{}, fmt.Errorf("attachment %s: %w", b.SHA256, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != b.SHA256 || n != b.Size {
		return Blob{}, fmt.Errorf("attachment %s is %w: its %d bytes hash to %s", b.SHA256, ErrCorrupt, n, got)
	}
	return b, nil
}

// ReadDocument opens the document sha in the store directory dir for
// reading without opening the store: no directory is created and nothing
// is cleaned. It does not re-hash the bytes (see VerifyDocument). A missing
// document is ENOTFOUND; one whose metadata does not describe it an error
// wrapping ErrCorrupt.
func ReadDocument(dir, sha string) (io.ReadSeekCloser, Blob, error) {
	s := &Store{dir: filepath.Clean(dir)}
	f, b, err := s.Open(sha)
	if err == nil {
		return f, b, nil
	}
	switch code := domain.ErrorCode(err); {
	case code == domain.ENOTFOUND, code == domain.EINVALID, errors.Is(err, fs.ErrPermission):
		return nil, Blob{}, err
	}
	sum, _ := parseHash(sha)
	return nil, Blob{}, fmt.Errorf("attachment %s is %w: %w", sum, ErrCorrupt, err)
}

// Restore stores a document from a backup: the bytes read from r must be
// b.Size long and hash to b.SHA256, and b.ContentType is kept as recorded
// (a backup is not sniffed again: its documents were accepted once). It
// returns an error wrapping ErrCorrupt when the bytes do not match b, and
// keeps nothing then. Restoring a document already stored intact is a
// no-op.
func (s *Store) Restore(ctx context.Context, r io.Reader, b Blob) error {
	sum, err := parseHash(b.SHA256)
	if err != nil {
		return err
	}
	if b.Size <= 0 {
		return fmt.Errorf("restore attachment %s: invalid size %d", sum, b.Size)
	}
	if _, ok := parseMediaType(b.ContentType); !ok {
		return fmt.Errorf("restore attachment %s: invalid content type %q", sum, b.ContentType)
	}
	tmp, err := os.CreateTemp(s.dir, tmpPrefix+"*")
	if err != nil {
		return fmt.Errorf("restore attachment %s: %w", sum, err)
	}
	moved := false
	defer func() {
		_ = tmp.Close()
		if !moved {
			_ = os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, b.Size+1))
	if err != nil {
		return fmt.Errorf("restore attachment %s: %w", sum, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); n != b.Size || got != sum {
		return fmt.Errorf("restore attachment %s: the document is %w: its %d bytes hash to %s", sum, ErrCorrupt, n, got)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("restore attachment %s: %w", sum, err)
	}
	for _, step := range []func() error{func() error { return tmp.Chmod(fileMode) }, tmp.Sync, tmp.Close} {
		if err := step(); err != nil {
			return fmt.Errorf("restore attachment %s: %w", sum, err)
		}
	}
	b.SHA256 = sum
	if _, moved, err = s.commit(tmp.Name(), b); err != nil {
		return fmt.Errorf("restore attachment %s: %w", sum, err)
	}
	return nil
}
