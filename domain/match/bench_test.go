package match_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dealreg/dealreg/domain/match"
)

// Vocabulary of the synthetic claims: invented brand words built from
// syllables, industry and place words, and legal forms, in the proportions
// of a real partner programme.
var (
	syllables = strings.Fields(`ka ro ta mi ne lo vi sa te ra zu po li da ve no ki ma be tor lan
		gen vex dor mar sil tri qua zen bri cor pha lux nor sol ter ax on ix el um`)
	industry = strings.Fields(`Technologies Systems Software Solutions Pharma Pharmaceuticals
		Biotech Therapeutics Energy Logistics Consulting Engineering Medical Analytics Robotics
		Materials Foods Capital Networks Labs Instruments Semiconductor Chemicals Motors Insurance
		Bank Retail Media Security Digital Aerospace Packaging Textiles Foods Healthcare Diagnostics`)
	places = strings.Fields(`North South East West Pacific Atlantic Europe Asia America Nordic
		Shanghai Berlin Madrid Lisbon London Texas Iberia Benelux`)
	legal = []string{"Inc.", "Ltd", "GmbH", "S.A.", "S.L.", "B.V.", "N.V.", "AG", "LLC", "Corp.",
		"Co., Ltd.", "S.p.A.", "S.r.l.", "Pty Ltd", "Oy", "AB", "A/S", "SAS", "PLC", "Sp. z o.o.", "KK"}
	tlds      = []string{".com", ".com", ".com", ".de", ".co.uk", ".es", ".fr", ".com.br", ".nl", ".io", ".co.jp"}
	countries = []string{"US", "US", "US", "DE", "GB", "ES", "FR", "BR", "NL", "JP", "IT", "PT"}
)

func brand(r *rand.Rand) string {
	n := 2 + r.IntN(2)
	var b strings.Builder
	for range n {
		b.WriteString(syllables[r.IntN(len(syllables))])
	}
	s := b.String()
	return strings.ToUpper(s[:1]) + s[1:]
}

func synthAccount(r *rand.Rand, i int) match.Account {
	parts := []string{brand(r)}
	if r.IntN(10) < 3 {
		parts = append(parts, brand(r))
	}
	for range r.IntN(3) {
		parts = append(parts, industry[r.IntN(len(industry))])
	}
	if r.IntN(10) < 2 {
		parts = append(parts, places[r.IntN(len(places))])
	}
	if r.IntN(10) < 7 {
		parts = append(parts, legal[r.IntN(len(legal))])
	}
	a := match.Account{Name: strings.Join(parts, " "), Country: countries[r.IntN(len(countries))]}
	if r.IntN(10) < 4 {
		a.Domain = strings.ToLower(parts[0]) + tlds[r.IntN(len(tlds))]
	}
	if r.IntN(10) < 3 {
		a.TaxID = fmt.Sprintf("%s%09d", a.Country, i)
	}
	return a
}

// perturb turns an indexed account into what another partner might type.
func perturb(r *rand.Rand, a match.Account) match.Account {
	b := match.Account{Name: a.Name, Country: a.Country}
	switch r.IntN(5) {
	case 0: // typo
		rs := []rune(b.Name)
		i := 1 + r.IntN(len(rs)-1)
		rs[i] = rune('a' + r.IntN(26))
		b.Name = string(rs)
	case 1: // other legal form, other case
		w := strings.Fields(b.Name)
		b.Name = strings.ToUpper(strings.Join(w[:max(1, len(w)-1)], " ")) + " " + legal[r.IntN(len(legal))]
	case 2: // only the domain
		if a.Domain != "" {
			b = match.Account{Domain: "www." + a.Domain}
		}
	case 3: // word order
		w := strings.Fields(b.Name)
		r.Shuffle(len(w), func(i, j int) { w[i], w[j] = w[j], w[i] })
		b.Name = strings.Join(w, " ")
	}
	return b
}

type benchIndex struct {
	once    sync.Once
	idx     *match.Index
	queries []match.Account
	bytes   float64
}

var benchIndexes = map[int]*benchIndex{10_000: {}, 100_000: {}, 1_000_000: {}}

func (bi *benchIndex) build(n int) {
	r := rand.New(rand.NewPCG(42, uint64(n)))
	accounts := make([]match.Account, n)
	for i := range accounts {
		accounts[i] = synthAccount(r, i)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	idx := match.NewIndex(nil)
	for i, a := range accounts {
		idx.Add(fmt.Sprintf("claim-%07d", i), a)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	bi.idx = idx
	// The accounts themselves are counted: the index keeps them.
	bi.bytes = float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
	for range 2000 {
		if r.IntN(10) < 7 {
			bi.queries = append(bi.queries, perturb(r, accounts[r.IntN(n)]))
		} else {
			bi.queries = append(bi.queries, synthAccount(r, n+r.IntN(n)))
		}
	}
}

// BenchmarkDuplicateCheck measures one duplicate check (Candidates with
// limit 10) against 10k, 100k and 1M indexed claims. It reports the median
// and 99th percentile latency per check and the heap bytes per indexed
// claim. Run on one core with -cpu=1.
func BenchmarkDuplicateCheck(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("claims=%d", n), func(b *testing.B) {
			bi := benchIndexes[n]
			bi.once.Do(func() { bi.build(n) })
			var lat []time.Duration
			i := 0
			for b.Loop() {
				q := bi.queries[i%len(bi.queries)]
				i++
				t0 := time.Now()
				bi.idx.Candidates(q, 10)
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds())
			}
			b.ReportMetric(pct(0.50), "p50-µs/check")
			b.ReportMetric(pct(0.99), "p99-µs/check")
			b.ReportMetric(bi.bytes, "bytes/claim")
		})
	}
}
