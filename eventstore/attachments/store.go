package attachments

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dealreg/dealreg/domain"
)

// DefaultMaxSize is the largest document Put accepts when Options.MaxSize is
// zero.
const DefaultMaxSize = 20 << 20 // 20 MiB

// DefaultRegistrationQuota is the total size of the documents one
// registration may carry when Options.RegistrationQuota is zero.
const DefaultRegistrationQuota = 100 << 20 // 100 MiB

// DefaultCollectGrace is how old an unreferenced document must be before
// Collect removes it: far longer than any upload takes between Publish and
// the append of the event naming the document.
const DefaultCollectGrace = time.Hour

const (
	tmpPrefix    = ".tmp-"
	staleTempAge = time.Minute // a temp file this old belongs to no running Put
	metaSuffix   = ".json"
	fileMode     = 0o440 // stored documents are never rewritten
	dirMode      = 0o750
	copyBufSize  = 32 << 10
)

// Blob describes a stored document.
type Blob struct {
	SHA256      string `json:"sha256"` // lowercase hex digest of the bytes
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"` // effective media type, see Store.Put
}

// Options configures a Store. The zero value gives the defaults.
type Options struct {
	// MaxSize is the largest document accepted, in bytes; 0 means DefaultMaxSize.
	MaxSize int64
	// RegistrationQuota is the total size, in bytes, of the documents one
	// registration may carry; 0 means DefaultRegistrationQuota. The store
	// only reports it (RegistrationQuota): the ledger knows the totals.
	RegistrationQuota int64
	// Allowed lists the accepted media types (parameters are ignored); empty
	// means DefaultAllowed.
	Allowed []string
}

// DefaultAllowed returns the media types accepted when Options.Allowed is
// empty: PDF, PNG, JPEG, GIF, plain text, CSV, e-mail messages and the Office
// Open XML document, spreadsheet and presentation formats.
func DefaultAllowed() []string {
	return []string{
		"application/pdf",
		"image/png",
		"image/jpeg",
		"image/gif",
		"text/plain",
		"text/csv",
		"message/rfc822",
		docxType,
		xlsxType,
		pptxType,
	}
}

// Store is a content-addressed store of proof documents in one directory.
// It is safe for concurrent use. Only one Store (one process) should write
// to a directory at a time: the per-hash lock that keeps a document and its
// metadata consistent is in memory.
type Store struct {
	dir     string
	maxSize int64
	quota   int64
	allowed map[string]bool

	locks  keyedMutex
	synced sync.Map // fan-out dir name → struct{}: its entry in dir is known durable
}

// Open opens the store in dir, creating the directory if needed, and removes
// temporary files left by a crash.
func Open(dir string, opts Options) (*Store, error) {
	if dir == "" {
		return nil, errors.New("open attachments: empty directory")
	}
	s := &Store{dir: filepath.Clean(dir), maxSize: opts.MaxSize, quota: opts.RegistrationQuota, allowed: map[string]bool{}}
	switch {
	case s.maxSize == 0:
		s.maxSize = DefaultMaxSize
	case s.maxSize < 0:
		return nil, fmt.Errorf("open attachments: negative MaxSize %d", opts.MaxSize)
	}
	switch {
	case s.quota == 0:
		s.quota = DefaultRegistrationQuota
	case s.quota < 0:
		return nil, fmt.Errorf("open attachments: negative RegistrationQuota %d", opts.RegistrationQuota)
	}
	allowed := opts.Allowed
	if len(allowed) == 0 {
		allowed = DefaultAllowed()
	}
	for _, a := range allowed {
		base, ok := parseMediaType(a)
		if !ok {
			return nil, fmt.Errorf("open attachments: invalid allowed media type %q", a)
		}
		s.allowed[base] = true
	}

	created := false
	if _, err := os.Stat(s.dir); errors.Is(err, fs.ErrNotExist) {
		created = true
	}
	if err := os.MkdirAll(s.dir, dirMode); err != nil {
		return nil, fmt.Errorf("open attachments: %w", err)
	}
	if created {
		if err := syncDir(filepath.Dir(s.dir)); err != nil {
			return nil, fmt.Errorf("open attachments: %w", err)
		}
	}
	if err := removeStaleTemps(s.dir, time.Now()); err != nil {
		return nil, fmt.Errorf("open attachments: %w", err)
	}
	return s, nil
}

// MaxSize returns the largest document the store accepts, in bytes.
func (s *Store) MaxSize() int64 { return s.maxSize }

// CheckSize returns the ETOOLARGE error Stage returns for a document of n
// bytes, or nil if n is within MaxSize: an upload that declares its length
// is refused before its body is read.
func (s *Store) CheckSize(n int64) error {
	if n <= s.maxSize {
		return nil
	}
	return &domain.Error{
		Code:    domain.ETOOLARGE,
		Message: fmt.Sprintf("the file is larger than the limit of %s", formatSize(s.maxSize)),
		Fields: []domain.FieldError{{Field: "file", Code: "too_large",
			Message: fmt.Sprintf("the file must be at most %d bytes", s.maxSize)}},
	}
}

// RegistrationQuota returns the total size, in bytes, of the documents one
// registration may carry.
func (s *Store) RegistrationQuota() int64 { return s.quota }

// removeStaleTemps removes the temporary files in dir that no running Put
// can still be writing: a Put touches its file with every write.
func removeStaleTemps(dir string, now time.Time) error {
	_, err := removeStaleTempsCount(dir, now)
	return err
}

func removeStaleTempsCount(dir string, now time.Time) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), tmpPrefix) || e.IsDir() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		if now.Sub(info.ModTime()) > staleTempAge {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return removed, err
			}
			removed++
		}
	}
	return removed, nil
}

// Put stores the document read from r and returns its Blob once it is
// durable: Stage followed by Publish. Storing the same bytes again returns
// the Blob stored first. A document a ledger event will name should rather
// be staged, checked against the ledger and published just before the
// append, so that a refused command keeps nothing (see Stage).
func (s *Store) Put(ctx context.Context, r io.Reader, declaredType string) (Blob, error) {
	st, err := s.Stage(ctx, r, declaredType)
	if err != nil {
		return Blob{}, err
	}
	defer st.Discard()
	return st.Publish()
}

// Stage reads the document from r into a durable temporary file of the
// store, checks it and returns it unpublished: it is not visible under its
// hash, and Discard removes it without a trace. The caller checks the
// command that will name the document, calls Publish just before appending
// the event and Discard in every case (a no-op once published).
//
// The content type is sniffed from the first 512 bytes; declaredType (a
// Content-Type header value, may be empty) is used only for the types the
// sniffer cannot tell apart (see contentType). Stage returns EINVALID for
// an empty body or a type outside the allow-list, ETOOLARGE for a body over
// MaxSize, and an internal error for I/O failures or a cancelled ctx.
func (s *Store) Stage(ctx context.Context, r io.Reader, declaredType string) (*Staged, error) {
	tmp, err := os.CreateTemp(s.dir, tmpPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("put attachment: %w", err)
	}
	ok := false
	defer func() {
		_ = tmp.Close() // already closed on success
		if !ok {
			_ = os.Remove(tmp.Name())
		}
	}()

	size, sum, head, err := s.copyLimited(ctx, tmp, r)
	if err != nil {
		return nil, err
	}
	if size == 0 {
		return nil, &domain.Error{Code: domain.EINVALID, Message: "the file is empty", Fields: []domain.FieldError{
			{Field: "file", Code: "required", Message: "the file must not be empty"},
		}}
	}
	ct, err := s.contentType(head, declaredType)
	if err != nil {
		return nil, err
	}
	if err := tmp.Chmod(fileMode); err != nil {
		return nil, fmt.Errorf("put attachment: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return nil, fmt.Errorf("put attachment: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("put attachment: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("put attachment: %w", err)
	}
	ok = true
	return &Staged{s: s, tmp: tmp.Name(), blob: Blob{SHA256: sum, Size: size, ContentType: ct}}, nil
}

// Staged is a document read and checked by Stage, not yet published.
// Its methods are safe for concurrent use.
type Staged struct {
	s    *Store
	mu   sync.Mutex
	tmp  string // "" once moved into place or removed
	blob Blob   // as staged; as stored once published
	done bool   // published
}

// Blob returns the staged document's Blob; after Publish, the one stored.
func (st *Staged) Blob() Blob {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.blob
}

// Publish makes the staged document durable under its hash and returns its
// Blob. When the same bytes are already stored (by another registration),
// it keeps those, returns their Blob and refreshes their modification time,
// so that Collect's grace period protects them until the event naming them
// is appended. Publish is idempotent.
func (st *Staged) Publish() (Blob, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.done {
		return st.blob, nil
	}
	if st.tmp == "" {
		return Blob{}, errors.New("put attachment: already discarded")
	}
	b, moved, err := st.s.commit(st.tmp, st.blob)
	if moved {
		st.tmp = ""
	}
	if err != nil {
		return Blob{}, fmt.Errorf("put attachment %s: %w", st.blob.SHA256, err)
	}
	if !moved {
		_ = os.Remove(st.tmp)
		st.tmp = ""
	}
	st.blob, st.done = b, true
	return b, nil
}

// Discard removes the staged document unless it was published. A
// published document stays: the event naming it may be durable even when
// the append reported an error. If no event names it, Collect removes it.
func (st *Staged) Discard() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.tmp != "" && !st.done {
		_ = os.Remove(st.tmp)
		st.tmp = ""
	}
}

// copyLimited copies at most s.maxSize bytes of r to w, hashing them and
// keeping the first sniffLen for content sniffing. It reads one byte more
// than the limit to tell a body of exactly MaxSize from a larger one.
func (s *Store) copyLimited(ctx context.Context, w io.Writer, r io.Reader) (size int64, sum string, head []byte, err error) {
	h := sha256.New()
	head = make([]byte, 0, sniffLen)
	buf := make([]byte, copyBufSize)
	lr := io.LimitReader(r, s.maxSize+1)
	for {
		if err := ctx.Err(); err != nil {
			return 0, "", nil, fmt.Errorf("put attachment: %w", err)
		}
		n, rerr := lr.Read(buf)
		if n < 0 || n > len(buf) {
			return 0, "", nil, fmt.Errorf("put attachment: read body: invalid count %d from reader", n)
		}
		if n > 0 {
			size += int64(n)
			if err := s.CheckSize(size); err != nil {
				return 0, "", nil, err
			}
			if room := sniffLen - len(head); room > 0 {
				head = append(head, buf[:min(n, room)]...)
			}
			h.Write(buf[:n]) // never fails
			if _, err := w.Write(buf[:n]); err != nil {
				return 0, "", nil, fmt.Errorf("put attachment: %w", err)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return 0, "", nil, fmt.Errorf("put attachment: read body: %w", rerr)
		}
	}
	return size, hex.EncodeToString(h.Sum(nil)), head, nil
}

// commit moves the durable temp file tmpName into place as b, after its
// metadata. It reports whether tmpName was moved. When the document is
// already stored intact, it keeps it and returns its Blob; an entry that
// fails Stat (missing or damaged metadata, wrong size) is rewritten.
func (s *Store) commit(tmpName string, b Blob) (Blob, bool, error) {
	// The lock makes "already stored?" and the two renames one step, so
	// that concurrent uploads of the same bytes with different declared
	// types all return the metadata that ends up on disk.
	unlock := s.locks.lock(b.SHA256)
	defer unlock()

	if existing, err := s.stat(b.SHA256); err == nil {
		// A fresh modification time tells Collect the document is in use:
		// the event about to name it is not in the ledger yet.
		now := time.Now()
		if err := os.Chtimes(s.path(b.SHA256), now, now); err != nil {
			return Blob{}, false, err
		}
		return existing, false, nil
	}
	fan := filepath.Join(s.dir, b.SHA256[:2])
	if err := s.ensureFanout(fan); err != nil {
		return Blob{}, false, err
	}
	final := filepath.Join(fan, b.SHA256)
	meta, err := json.Marshal(b)
	if err != nil {
		return Blob{}, false, err
	}
	if err := writeFileAtomic(s.dir, final+metaSuffix, meta); err != nil {
		return Blob{}, false, err
	}
	// The metadata rename must be durable before the document appears, so
	// that no crash leaves a document without its content type.
	if err := syncDir(fan); err != nil {
		return Blob{}, false, err
	}
	if err := os.Rename(tmpName, final); err != nil {
		return Blob{}, false, err
	}
	if err := syncDir(fan); err != nil {
		return Blob{}, true, err
	}
	return b, true, nil
}

// ensureFanout creates the fan-out directory if needed and makes its entry
// in the store directory durable. The parent is synced once per directory
// per Store even if the directory already existed, because another Put may
// have created it and not yet synced it.
func (s *Store) ensureFanout(fan string) error {
	name := filepath.Base(fan)
	if _, ok := s.synced.Load(name); ok {
		return nil
	}
	if err := os.Mkdir(fan, dirMode); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if err := syncDir(s.dir); err != nil {
		return err
	}
	s.synced.Store(name, struct{}{})
	return nil
}

// writeFileAtomic writes data to a temp file in tmpDir, syncs it and renames
// it to name. The caller syncs name's directory.
func writeFileAtomic(tmpDir, name string, data []byte) (err error) {
	f, err := os.CreateTemp(tmpDir, tmpPrefix+"*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Chmod(fileMode); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		_ = d.Close()
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return d.Close()
}

// Stat returns the Blob of the stored document with the given hex SHA-256.
// It returns EINVALID for a malformed hash and ENOTFOUND when the document
// is not stored.
func (s *Store) Stat(sha256hex string) (Blob, error) {
	sum, err := parseHash(sha256hex)
	if err != nil {
		return Blob{}, err
	}
	return s.stat(sum)
}

func (s *Store) stat(sum string) (Blob, error) {
	info, err := os.Stat(s.path(sum))
	if errors.Is(err, fs.ErrNotExist) {
		return Blob{}, notFound(sum)
	} else if err != nil {
		return Blob{}, fmt.Errorf("stat attachment %s: %w", sum, err)
	}
	return s.checkMeta(sum, info)
}

// Open opens the stored document with the given hex SHA-256 for reading.
// The caller closes it. It returns EINVALID for a malformed hash and
// ENOTFOUND when the document is not stored.
func (s *Store) Open(sha256hex string) (io.ReadSeekCloser, Blob, error) {
	sum, err := parseHash(sha256hex)
	if err != nil {
		return nil, Blob{}, err
	}
	f, err := os.Open(s.path(sum))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Blob{}, notFound(sum)
	} else if err != nil {
		return nil, Blob{}, fmt.Errorf("open attachment %s: %w", sum, err)
	}
	info, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, Blob{}, fmt.Errorf("open attachment %s: %w", sum, err)
	}
	b, err := s.checkMeta(sum, info)
	if err != nil {
		_ = f.Close()
		return nil, Blob{}, err
	}
	return f, b, nil
}

// checkMeta reads the metadata of the document sum, whose file info is
// info, and checks that it describes that file.
func (s *Store) checkMeta(sum string, info fs.FileInfo) (Blob, error) {
	if !info.Mode().IsRegular() {
		return Blob{}, fmt.Errorf("attachment %s: not a regular file", sum)
	}
	data, err := os.ReadFile(s.path(sum) + metaSuffix)
	if err != nil {
		return Blob{}, fmt.Errorf("attachment %s: read metadata: %w", sum, err)
	}
	var b Blob
	if err := json.Unmarshal(data, &b); err != nil {
		return Blob{}, fmt.Errorf("attachment %s: read metadata: %w", sum, err)
	}
	if b.SHA256 != sum || b.Size != info.Size() || b.ContentType == "" {
		return Blob{}, fmt.Errorf("attachment %s: metadata does not match the stored file", sum)
	}
	return b, nil
}

func (s *Store) path(sum string) string {
	return filepath.Join(s.dir, sum[:2], sum)
}

// parseHash validates a hex SHA-256 and returns it in lowercase.
func parseHash(v string) (string, error) {
	if len(v) != 2*sha256.Size {
		return "", malformedHash()
	}
	if _, err := hex.DecodeString(v); err != nil {
		return "", malformedHash()
	}
	return strings.ToLower(v), nil
}

func malformedHash() error {
	return &domain.Error{Code: domain.EINVALID, Message: "the attachment hash is malformed", Fields: []domain.FieldError{
		{Field: "sha256", Code: "invalid", Message: "must be a SHA-256 in 64 hexadecimal digits"},
	}}
}

func notFound(sum string) error {
	return domain.Errorf(domain.ENOTFOUND, "attachment %s not found", sum)
}

func formatSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// keyedMutex is a set of mutexes keyed by string, created on demand and
// dropped when unused.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyedEntry
}

type keyedEntry struct {
	mu    sync.Mutex
	users int
}

// lock locks key and returns the function that unlocks it.
func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyedEntry{}
	}
	e := k.m[key]
	if e == nil {
		e = &keyedEntry{}
		k.m[key] = e
	}
	e.users++
	k.mu.Unlock()

	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		e.users--
		if e.users == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}
