package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// lockFile, in the data directory, is held locked by the one serve
// running on it.
const lockFile = "serve.lock"

// lockDataDir takes the data directory's serve lock for the life of the
// process, or says who holds it. Two servers on one ledger would each run
// a duplicate checker and race to record verdicts; console commands (token
// create, partner add, …) write through the store, which notices the other
// writer, and take no lock.
//
// The lock is an OS lock on an open file (flock(2) on Unix), so the kernel
// drops it when the process ends, however it ends (kill -9 included): a
// stale lock file is harmless. The file holds the holder's PID, only to
// name it in the error.
func lockDataDir(dir string) (unlock func() error, err error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock data directory: %s: %w", path, err)
	}
	if held {
		holder := "another process"
		if b, err := os.ReadFile(path); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				holder = fmt.Sprintf("process %d", pid)
			}
		}
		f.Close()
		return nil, fmt.Errorf("another dealreg serve (%s) is already serving the data directory %s (it holds %s): stop it first, or serve another directory; console commands work alongside it", holder, dir, path)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	// f stays open (and referenced, so no finalizer closes it) until unlock.
	return func() error {
		f.Truncate(0)
		return f.Close()
	}, nil
}
