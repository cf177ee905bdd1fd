package eventstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore"
	"github.com/google/uuid"
)

// BenchmarkFsync measures the raw disk limit in the same run as the append
// benchmarks: a 512-byte write followed by fdatasync, on the same file
// system. Append throughput is reported as a ratio of this rate.
func BenchmarkFsync(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "fsync"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := []byte(strings.Repeat("x", 512))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := f.WriteAt(buf, int64(i%1024)*512); err != nil {
			b.Fatal(err)
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "fsyncs/s")
}

// BenchmarkFsyncCommitShape measures the disk alone doing the I/O of one
// single-event commit as SQLite does it in WAL mode: three log frames (the
// events table, the event_id index and the stream index each change one
// page; a frame is a 24-byte header and a 4096-byte page, written with two
// pwrites) at the end of a preallocated log, then fdatasync. No append by a
// lone writer can beat this rate; compare it with BenchmarkFsync's.
func BenchmarkFsyncCommitShape(b *testing.B) {
	const logSize = 4 << 20
	f, err := os.Create(filepath.Join(b.TempDir(), "wal"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(make([]byte, logSize), 0); err != nil {
		b.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	header, page := make([]byte, 24), []byte(strings.Repeat("p", 4096))
	off := int64(0)
	b.ResetTimer()
	for b.Loop() {
		for range 3 {
			if off+24+4096 > logSize {
				off = 0
			}
			if _, err := f.WriteAt(header, off); err != nil {
				b.Fatal(err)
			}
			if _, err := f.WriteAt(page, off+24); err != nil {
				b.Fatal(err)
			}
			off += 24 + 4096
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}

// payload is a ~500-byte event body, like a registration submission.
var payload = json.RawMessage(fmt.Sprintf(`{"company_name":"Empresa XYZ S.A.","website":"xyz.example","country":"ES",`+
	`"products":["HR Suite"],"estimated_value":"150000.00","currency":"EUR","notes":"%s"}`, strings.Repeat("n", 330)))

// benchEvent is an event as the app writes it: with a time-ordered (v7) ID.
func benchEvent() domain.EventData {
	return domain.EventData{ID: uuid.Must(uuid.NewV7()), Type: "RegistrationSubmitted", SchemaVersion: 1, Data: payload,
		Metadata: json.RawMessage(`{"actor":"bench","role":"partner"}`)}
}

// BenchmarkAppend: one event of ~500 bytes per append, from 1, 8 and 64
// concurrent writers, with and without the Merkle tree. The nosync variants
// commit without flushing (not durable): what an append costs besides the
// flush, i.e. the CPU and the writes into the page cache. An append with
// the flush cannot take less than that plus BenchmarkFsyncCommitShape's
// time per commit.
func BenchmarkAppend(b *testing.B) {
	variants := []struct {
		suffix string
		opts   func(eventstore.Options) eventstore.Options
	}{
		{"", func(o eventstore.Options) eventstore.Options { return o }},
		{"/nomerkle", eventstore.WithoutMerkle},
		{"/nosync", eventstore.WithoutSync},
	}
	for _, v := range variants {
		for _, writers := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("writers=%d%s", writers, v.suffix), func(b *testing.B) {
				s := MustOpenStore(b, v.opts(eventstore.Options{}))
				var n atomic.Int64
				var wg sync.WaitGroup
				b.ResetTimer()
				for w := range writers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						stream := fmt.Sprintf("bench-%d", w)
						for n.Add(1) <= int64(b.N) {
							if _, err := s.Append(context.Background(), stream, domain.Any(), benchEvent()); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
				if commits, reqs := eventstore.BatchStats(s); commits > 0 {
					b.ReportMetric(float64(reqs)/float64(commits), "appends/commit")
				}
			})
		}
	}
}

var readAllFixture struct {
	once sync.Once
	path string
	err  error
}

const readAllEvents = 1_000_000

// readAllLedger builds, once per benchmark run, a ledger of a million events.
func readAllLedger(b *testing.B) string {
	f := &readAllFixture
	f.once.Do(func() {
		dir, err := os.MkdirTemp("", "dealreg-bench-")
		if err != nil {
			f.err = err
			return
		}
		f.path = filepath.Join(dir, "ledger.db")
		s, err := eventstore.OpenSQLite(f.path, eventstore.Options{})
		if err != nil {
			f.err = err
			return
		}
		defer s.Close()
		batch := make([]domain.EventData, 1000)
		for i := 0; i < readAllEvents/len(batch); i++ {
			for j := range batch {
				batch[j] = benchEvent()
			}
			if _, err := s.Append(context.Background(), fmt.Sprintf("registration-%d", i), domain.NoStream(), batch...); err != nil {
				f.err = err
				return
			}
		}
	})
	if f.err != nil {
		b.Fatal(f.err)
	}
	return f.path
}

// BenchmarkReadAll reads the whole global log of a million events in pages
// of 4,096. "envelope" takes the recorded events as the store returns them
// (every column decoded: ID, stream, revision, position, type, schema
// version, data, metadata, recorded time); "metadata" also unmarshals each
// event's metadata JSON with encoding/json, as a projection would.
func BenchmarkReadAll(b *testing.B) {
	path := readAllLedger(b)
	s := MustOpenPath(b, path)
	ctx := context.Background()
	for _, decodeMeta := range []bool{false, true} {
		name := "envelope"
		if decodeMeta {
			name = "metadata"
		}
		b.Run(name, func(b *testing.B) {
			total := 0
			for b.Loop() {
				from := uint64(0)
				for {
					events, err := s.ReadAll(ctx, domain.ReadAllOptions{From: from, Count: 4096})
					if err != nil {
						b.Fatal(err)
					}
					for _, e := range events {
						if e.ID == uuid.Nil || len(e.Data) == 0 {
							b.Fatalf("event %d came back empty", e.Position)
						}
						if !decodeMeta {
							continue
						}
						var meta struct {
							Actor string `json:"actor"`
							Role  string `json:"role"`
						}
						if err := json.Unmarshal(e.Metadata, &meta); err != nil {
							b.Fatal(err)
						}
					}
					total += len(events)
					if len(events) < 4096 {
						break
					}
					from = events[len(events)-1].Position + 1
				}
			}
			if total != b.N*readAllEvents {
				b.Fatalf("read %d events, want %d", total, b.N*readAllEvents)
			}
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
