package match

import (
	"container/heap"
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// Match is a candidate found by an Index: the claim's ID and how it
// compares with the queried account.
type Match struct {
	ID     string
	Result Result
}

// Index holds the accounts of many claims so that a duplicate check only
// scores the few claims that can plausibly match, instead of all of them.
// Candidates are generated through inverted indexes on normalised words,
// character trigrams of the squashed name (typos), acronyms, registrable
// domain labels and tax IDs, and then scored with the same logic as
// Compare. Very common keys ("group", "tech") are not consulted, so the
// cost of a check grows far slower than the number of claims. Each claim's
// account is prepared (normalised, tokenised) once when it is added and
// kept prepared: a check compares against tens of candidates, and preparing
// them again at every check was half its cost. An Index is safe for
// concurrent use; prepared accounts are never changed once built.
type Index struct {
	mu       sync.RWMutex
	know     *Knowledge
	ids      []string    // internal number -> claim ID; "" once removed
	preps    []*prepared // internal number -> account, prepared once; nil once removed
	byID     map[string]uint32
	postings map[uint64][]uint32 // key -> docs, removed ones included
	counts   map[uint64]int      // key -> live docs holding it
	live     int
	dead     int
	spareMu  sync.Mutex
	spare    []*scratch // reusable counters; kept across GCs, unlike a sync.Pool
}

// Limits that keep a check cheap. At query time keys held by more live
// claims than the query cap are skipped, and only the rarest maxTrigrams
// trigrams of the query are used.
//
// What a query returns depends only on the live claims (their IDs and
// accounts) and the knowledge, never on the order they were added or on
// claims removed since: weights and caps count live claims, removed ones are
// skipped, and ties are broken by claim ID. So an index rebuilt from the
// live claims alone answers exactly as the one that saw the whole history.
const (
	minQueryCap  = 2000
	maxTrigrams  = 8
	scoredFactor = 2   // candidates scored with Compare per result wanted
	minScored    = 24  // candidates scored at least
	minShare     = 0.2 // candidates weighing less than this share of the best are not scored
)

// NewIndex returns an empty index. Reviewer decisions in k (which may be
// nil) are applied to every comparison and used to find aliases.
func NewIndex(k *Knowledge) *Index {
	return &Index{know: k, byID: map[string]uint32{}, postings: map[uint64][]uint32{}, counts: map[uint64]int{}}
}

// Len returns the number of claims in the index.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.live
}

// Add indexes the account of a claim, replacing any account already held
// under the same ID.
func (x *Index) Add(id string, a Account) {
	p := prepareAccount(a)
	keys := docKeys(p)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(id)
	doc := uint32(len(x.ids))
	x.ids = append(x.ids, id)
	x.preps = append(x.preps, p)
	x.byID[id] = doc
	x.live++
	for _, k := range keys {
		x.postings[k] = append(x.postings[k], doc)
		x.counts[k]++
	}
}

// Remove drops a claim from the index (a registration withdrawn or
// expired). Its postings are skipped at query time.
func (x *Index) Remove(id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(id)
}

func (x *Index) removeLocked(id string) {
	doc, ok := x.byID[id]
	if !ok {
		return
	}
	for _, k := range docKeys(x.preps[doc]) {
		if x.counts[k]--; x.counts[k] == 0 {
			delete(x.counts, k)
		}
	}
	delete(x.byID, id)
	x.ids[doc] = ""
	x.preps[doc] = nil
	x.live--
	x.dead++
	if x.dead > 1024 && x.dead > x.live {
		x.compact()
	}
}

// compact drops removed claims from the postings and renumbers the live
// ones, which changes no answer (see the limits above).
func (x *Index) compact() {
	ids, preps := x.ids, x.preps
	x.ids, x.preps = make([]string, 0, x.live), make([]*prepared, 0, x.live)
	x.postings = map[uint64][]uint32{}
	for old, id := range ids {
		if id == "" {
			continue
		}
		doc := uint32(len(x.ids))
		x.ids = append(x.ids, id)
		x.preps = append(x.preps, preps[old])
		x.byID[id] = doc
		for _, k := range docKeys(preps[old]) {
			x.postings[k] = append(x.postings[k], doc)
		}
	}
	x.dead = 0
	x.spareMu.Lock()
	x.spare = nil // sized for the old numbering
	x.spareMu.Unlock()
}

type weightedKey struct {
	key    uint64
	weight float64
}

// Candidates returns up to limit claims whose accounts match a with verdict
// Possible or Same, best first (ties by ID).
func (x *Index) Candidates(a Account, limit int) []Match {
	if limit <= 0 {
		return nil
	}
	q := prepareAccount(a)
	keys := queryKeys(q, x.know)
	x.mu.RLock()
	defer x.mu.RUnlock()
	n := len(x.ids)
	if n == 0 || x.live == 0 {
		return nil
	}
	queryCap := max(minQueryCap, x.live/1000)
	// Choose the keys to consult: all words, domains, acronyms and tax IDs
	// below the cap, and the rarest trigrams.
	type use struct {
		list   []uint32
		weight float64
		count  int
	}
	var uses []use
	var tris []use
	for _, k := range keys {
		count := x.counts[k.key]
		if count == 0 || count > queryCap {
			continue
		}
		list := x.postings[k.key]
		w := k.weight * math.Log(1+float64(x.live)/float64(count))
		if k.key>>56 == 'g' {
			tris = append(tris, use{list, w, count})
		} else {
			uses = append(uses, use{list, w, count})
		}
	}
	sort.SliceStable(tris, func(i, j int) bool { return tris[i].count < tris[j].count })
	if len(tris) > maxTrigrams {
		tris = tris[:maxTrigrams]
	}
	uses = append(uses, tris...)

	sc := x.getScratch(n)
	defer x.putScratch(sc)
	for _, u := range uses {
		for _, d := range u.list {
			if sc.score[d] == 0 {
				sc.touched = append(sc.touched, d)
			}
			sc.score[d] += float32(u.weight)
		}
	}
	want := max(minScored, limit*scoredFactor)
	h := &candHeap{}
	for _, d := range sc.touched {
		s := sc.score[d]
		sc.score[d] = 0
		if x.ids[d] == "" {
			continue
		}
		c := cand{doc: d, id: x.ids[d], score: s}
		if h.Len() < want {
			heap.Push(h, c)
		} else if c.better((*h)[0]) {
			(*h)[0] = c
			heap.Fix(h, 0)
		}
	}
	sc.touched = sc.touched[:0]

	var top float32
	for _, c := range *h {
		top = max(top, c.score)
	}
	scored := make([]cand, 0, h.Len())
	for _, c := range *h {
		if c.score >= top*minShare {
			scored = append(scored, c)
		}
	}
	results := make([]Result, len(scored))
	hit := make([]bool, len(scored))
	x.compareAll(q, scored, results, hit)
	out := make([]Match, 0, len(scored))
	for i, c := range scored {
		if hit[i] {
			out = append(out, Match{ID: c.id, Result: results[i]})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Result.Score != out[j].Result.Score {
			return out[i].Result.Score > out[j].Result.Score
		}
		return out[i].ID < out[j].ID
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// parallelFrom is the number of candidates per processor from which a
// check compares them on several processors.
const parallelFrom = 8

// compareAll compares q with every candidate, setting results[i] and hit[i]
// for those with verdict Possible or Same. Comparisons are pure, so they
// run on as many processors as the candidates keep busy (a check's latency
// is what a submission waits for) with the same results as one by one.
func (x *Index) compareAll(q *prepared, cands []cand, results []Result, hit []bool) {
	one := func(i int) {
		p := x.preps[cands[i].doc]
		if r := comparePreparedOrdered(x.know, q, p, false); r.Verdict >= Possible {
			results[i], hit[i] = comparePreparedOrdered(x.know, q, p, true), true
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(cands)/parallelFrom)
	if workers <= 1 {
		for i := range cands {
			one(i)
		}
		return
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Go(func() {
			for i := w; i < len(cands); i += workers {
				one(i)
			}
		})
	}
	for i := 0; i < len(cands); i += workers {
		one(i)
	}
	wg.Wait()
}

// comparePreparedOrdered compares a prepared query with a stored account,
// keeping CompareWith's argument order so results are identical to it.
func comparePreparedOrdered(k *Knowledge, q, p *prepared, explain bool) Result {
	m := DefaultModel()
	if accountLess(p.acc, q.acc) {
		return m.compare(k, p, q, explain)
	}
	return m.compare(k, q, p, explain)
}

type scratch struct {
	score   []float32
	touched []uint32
}

func (x *Index) putScratch(sc *scratch) {
	x.spareMu.Lock()
	defer x.spareMu.Unlock()
	if len(x.spare) < 8 {
		x.spare = append(x.spare, sc)
	}
}

func (x *Index) getScratch(n int) *scratch {
	x.spareMu.Lock()
	var sc *scratch
	if k := len(x.spare); k > 0 {
		sc, x.spare = x.spare[k-1], x.spare[:k-1]
	}
	x.spareMu.Unlock()
	if sc == nil {
		sc = &scratch{}
	}
	if len(sc.score) < n {
		sc.score = make([]float32, n+n/4)
	}
	return sc
}

type cand struct {
	doc   uint32
	id    string
	score float32
}

// better orders candidates by accumulated weight, then by claim ID, so that
// selection depends neither on map iteration order nor on the order claims
// were added.
func (c cand) better(o cand) bool {
	if c.score != o.score {
		return c.score > o.score
	}
	return c.id < o.id
}

// candHeap is a min-heap: the weakest kept candidate is at the root.
type candHeap []cand

func (h candHeap) Len() int           { return len(h) }
func (h candHeap) Less(i, j int) bool { return h[j].better(h[i]) }
func (h candHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *candHeap) Push(v any)        { *h = append(*h, v.(cand)) }
func (h *candHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}

// keyOf hashes a namespaced index key (FNV-1a, 56 bits) and puts the
// namespace in the top byte, so trigram keys can be told apart cheaply.
func keyOf(ns byte, s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return uint64(ns)<<56 | h&(1<<56-1)
}

// docKeys lists the index keys of a stored account.
func docKeys(p *prepared) []uint64 {
	var keys []uint64
	seen := map[uint64]bool{}
	add := func(k uint64) {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	if n := p.name; n != nil {
		for _, t := range n.core {
			add(keyOf('t', t.text))
		}
		for _, g := range trigrams(n.squashed) {
			add(keyOf('g', g))
		}
		if words := contentWords(n); len(words) >= 2 {
			add(keyOf('a', initials(words)))
		}
		if len(n.parts) >= 2 {
			add(keyOf('a', initials(n.parts)))
		}
		if n.alt != nil {
			for _, t := range n.alt.core {
				add(keyOf('t', t.text))
			}
		}
	}
	if p.domain.label != "" {
		add(keyOf('d', p.domain.label))
		if p.name == nil {
			add(keyOf('t', p.domain.label))
			for _, g := range trigrams(p.domain.label) {
				add(keyOf('g', g))
			}
		}
	}
	if p.tax != "" {
		add(keyOf('x', p.tax))
	}
	return keys
}

// queryKeys lists the keys to look up for a queried account, with the
// relative weight of each kind of evidence.
func queryKeys(p *prepared, k *Knowledge) []weightedKey {
	var keys []weightedKey
	seen := map[uint64]bool{}
	add := func(key uint64, w float64) {
		if !seen[key] {
			seen[key] = true
			keys = append(keys, weightedKey{key, w})
		}
	}
	if n := p.name; n != nil {
		for _, t := range n.core {
			add(keyOf('t', t.text), 1)
			add(keyOf('d', t.text), 1) // a claim known only by its domain
		}
		add(keyOf('d', n.squashed), 2)
		for _, g := range trigrams(n.squashed) {
			add(keyOf('g', g), 0.3)
		}
		words := contentWords(n)
		if len(words) >= 2 {
			add(keyOf('t', initials(words)), 1) // claims named by our acronym
		}
		if len(n.parts) >= 2 {
			add(keyOf('t', initials(n.parts)), 1)
		}
		if acr, ok := acronymLike(n); ok {
			add(keyOf('a', acr), 1) // claims whose acronym we are
		}
		if n.alt != nil {
			for _, t := range n.alt.core {
				add(keyOf('t', t.text), 0.5)
			}
		}
		if k != nil {
			for _, alias := range k.Aliases(n.raw) {
				for _, w := range strings.Fields(alias) {
					add(keyOf('t', w), 2)
				}
			}
		}
	}
	if d := p.domain; d.label != "" {
		add(keyOf('d', d.label), 3)
		add(keyOf('t', d.label), 1)
		add(keyOf('a', d.label), 1)
		for _, part := range d.parts {
			add(keyOf('t', part), 0.5)
		}
		for _, g := range trigrams(d.label) {
			add(keyOf('g', g), 0.3)
		}
	}
	if p.tax != "" {
		add(keyOf('x', p.tax), 10)
	}
	return keys
}

// trigrams returns the distinct byte trigrams of s (none when s is short).
func trigrams(s string) []string {
	if len(s) < 3 {
		return nil
	}
	out := make([]string, 0, len(s)-2)
	seen := map[string]bool{}
	for i := 0; i+3 <= len(s); i++ {
		g := s[i : i+3]
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	return out
}
