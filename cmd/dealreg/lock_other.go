//go:build !unix

package main

import "os"

// tryLock is a no-op where flock(2) is missing: the one-server rule is then
// the operator's to keep.
func tryLock(*os.File) (held bool, err error) { return false, nil }
