package eventstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// TestReceipts_ManyAtOnce asks for receipts from many more goroutines than
// the store has read connections, each of a fresh tree size, as 64 clients
// submitting at once do. Every one is answered: a receipt's transaction
// never waits for a connection that another receipt's transaction holds
// (statements are prepared before a transaction, never inside one).
func TestReceipts_ManyAtOnce(t *testing.T) {
	signer, _ := testKey(t)
	s := openSigned(t, filepath.Join(t.TempDir(), "ledger.db"), signer)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 64*8)
	for w := range 64 {
		wg.Go(func() {
			for i := range 8 {
				res, err := s.Append(ctx, fmt.Sprintf("registration-%d-%d", w, i), domain.NoStream(), benchEvent())
				if err != nil {
					errs <- err
					return
				}
				rs, err := s.Receipts(ctx, []uint64{res.Position}, 0)
				if err != nil {
					errs <- fmt.Errorf("receipt of %d: %w", res.Position, err)
					return
				}
				if rs[0].LeafIndex != int64(res.Position) {
					errs <- fmt.Errorf("receipt of %d is of %d", res.Position, rs[0].LeafIndex)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
