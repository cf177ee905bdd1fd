package attachments

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Collected counts what Collect removed and kept.
type Collected struct {
	Documents int   // unreferenced documents removed
	Bytes     int64 // their total size
	Metadata  int   // metadata files left without their document
	Temps     int   // stale temporary files
	Kept      int   // documents kept: referenced, or within the grace period
}

// Collect removes what no ledger event needs: every stored document whose
// hash referenced reports false and whose modification time is more than
// grace before now, metadata files as old whose document is missing, and
// temporary files no running Stage can still be writing.
//
// Such orphans are left by a crash between Publish and the append of the
// event naming the document, or by an append refused after Publish. The
// grace period covers uploads in flight in another process: Publish gives
// the document a fresh modification time before the append. In this
// process, the per-hash lock makes Collect and Publish exclusive, so a
// Publish either sees the document removed (and stores it again) or
// refreshes it before Collect looks. referenced must hold every hash the
// ledger names up to a point read before Collect is called.
func (s *Store) Collect(ctx context.Context, referenced func(sha256hex string) bool, grace time.Duration, now time.Time) (Collected, error) {
	var c Collected
	if grace < 0 {
		return c, fmt.Errorf("collect attachments: negative grace period %s", grace)
	}
	n, err := removeStaleTempsCount(s.dir, now)
	c.Temps = n
	if err != nil {
		return c, fmt.Errorf("collect attachments: %w", err)
	}
	fans, err := os.ReadDir(s.dir)
	if err != nil {
		return c, fmt.Errorf("collect attachments: %w", err)
	}
	for _, fan := range fans {
		if !fan.IsDir() || !isFanout(fan.Name()) {
			continue
		}
		dir := filepath.Join(s.dir, fan.Name())
		entries, err := os.ReadDir(dir)
		if err != nil {
			return c, fmt.Errorf("collect attachments: %w", err)
		}
		changed := false
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return c, fmt.Errorf("collect attachments: %w", err)
			}
			sum, isMeta := strings.CutSuffix(e.Name(), metaSuffix)
			if _, err := parseHash(sum); err != nil || sum != strings.ToLower(sum) || sum[:2] != fan.Name() {
				continue // not ours
			}
			removed, size, err := s.collectOne(sum, isMeta, referenced, grace, now)
			if err != nil {
				return c, fmt.Errorf("collect attachment %s: %w", sum, err)
			}
			switch {
			case removed && isMeta:
				c.Metadata++
			case removed:
				c.Documents++
				c.Bytes += size
			case !isMeta:
				c.Kept++
			}
			changed = changed || removed
		}
		if changed {
			if err := syncDir(dir); err != nil {
				return c, fmt.Errorf("collect attachments: %w", err)
			}
		}
	}
	return c, nil
}

// collectOne removes document sum (or, with isMeta, its metadata file when
// the document is missing) if it is unreferenced and older than grace. It
// reports whether it removed it and the document's size.
func (s *Store) collectOne(sum string, isMeta bool, referenced func(string) bool, grace time.Duration, now time.Time) (bool, int64, error) {
	unlock := s.locks.lock(sum)
	defer unlock()

	doc := s.path(sum)
	if isMeta {
		if _, err := os.Lstat(doc); !errors.Is(err, fs.ErrNotExist) {
			return false, 0, nil // the document's own entry decides
		}
		info, err := os.Lstat(doc + metaSuffix)
		if err != nil || now.Sub(info.ModTime()) <= grace {
			return false, 0, nil
		}
		return true, 0, removeIfExists(doc + metaSuffix)
	}
	if referenced(sum) {
		return false, 0, nil
	}
	info, err := os.Lstat(doc)
	if errors.Is(err, fs.ErrNotExist) {
		return false, 0, nil
	} else if err != nil {
		return false, 0, err
	}
	if now.Sub(info.ModTime()) <= grace {
		return false, 0, nil
	}
	// The document goes first: a metadata file without its document is
	// ignored, a document without metadata would not be.
	if err := removeIfExists(doc); err != nil {
		return false, 0, err
	}
	return true, info.Size(), removeIfExists(doc + metaSuffix)
}

func removeIfExists(name string) error {
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// isFanout reports whether name is a fan-out directory: two lowercase hex
// digits.
func isFanout(name string) bool {
	if len(name) != 2 {
		return false
	}
	for _, c := range name {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
