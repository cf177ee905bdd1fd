package projections

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCatchUpGC: while catching up the collector's percentage is between
// Go's default and 400 (the heap bound of catchUpGC), and afterwards it is
// what it was; an operator's GOGC turns the tuning off.
func TestCatchUpGC(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	before := debug.SetGCPercent(123)
	defer debug.SetGCPercent(before)

	retune, restore := catchUpGC()
	retune()
	during := debug.SetGCPercent(-1)
	debug.SetGCPercent(during)
	require.GreaterOrEqual(t, during, 100)
	require.LessOrEqual(t, during, 400)
	require.Greater(t, during, 123, "a test's heap is far below the bound: the heap may grow more than by default")
	restore()
	require.Equal(t, 123, debug.SetGCPercent(123))

	t.Setenv("GOGC", "150")
	retune, restore = catchUpGC()
	retune()
	require.Equal(t, 123, debug.SetGCPercent(123), "GOGC set: left alone")
	restore()
	require.Equal(t, 123, debug.SetGCPercent(123))
}
