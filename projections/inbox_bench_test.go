package projections_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/dealreg/dealreg/projections"
)

// BenchmarkInbox_Unread is the header's unread count of a user of a
// partner with 100,000 notices among 20 partners' 1,000,000 (and 50
// policy publications), read never (after 0: the count stops at the
// limit) and recently (11 unread: 10 of its own, a publication).
func BenchmarkInbox_Unread(b *testing.B) {
	ctx := context.Background()
	st, err := projections.OpenState(ctx, filepath.Join(b.TempDir(), "views.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	x := projections.NewInbox(nil)
	if err := x.Load(ctx, st.DB()); err != nil {
		b.Fatal(err)
	}
	tx, err := st.DB().Begin()
	if err != nil {
		b.Fatal(err)
	}
	ins, err := tx.Prepare(`INSERT INTO inbox_notices (partner, pos) VALUES (?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	for pos := 1; pos <= 1_000_000; pos++ {
		partner := fmt.Sprintf("partner-%02d", pos%20)
		if pos%20_000 == 0 {
			partner = projections.AllPartners
		}
		if _, err := ins.Exec(partner, pos); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		after uint64
		want  int
	}{{"never-read", 0, 100}, {"read-recently", 999_800, 11}} {
		b.Run(c.name, func(b *testing.B) {
			if n, err := x.Unread(ctx, "partner-07", c.after, 100); err != nil || n != c.want {
				b.Fatalf("unread = %d, %v; want %d", n, err, c.want)
			}
			for b.Loop() {
				if _, err := x.Unread(ctx, "partner-07", c.after, 100); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
