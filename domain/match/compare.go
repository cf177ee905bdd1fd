package match

import (
	"math"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	edlib "github.com/hbollon/go-edlib"
)

// Account is what a partner typed about the customer of a registration. Any
// field may be empty; Domain may be a bare domain, a URL or an e-mail address.
type Account struct {
	Name    string
	Domain  string
	Country string // ISO 3166-1 alpha-2 preferred; compared case-insensitively
	TaxID   string // VAT, EIN, CNPJ...; compared after removing punctuation
}

// Signal is one piece of evidence behind a Result, shown to the reviewer so
// that a verdict can be understood and challenged. Score is what the
// evidence added to the model's log-odds (negative: evidence against), and
// Detail says it in a reviewer's words.
type Signal struct {
	Name   string
	Score  float64
	Detail string
}

// Verdict is the decision a duplicate check acts on.
type Verdict int

// The verdicts, from weakest to strongest. Possible matches go to a human
// reviewer; Same is confident enough to block a conflicting registration.
const (
	NoMatch Verdict = iota
	Possible
	Same
)

// String returns the verdict as used in logs and reports.
func (v Verdict) String() string {
	switch v {
	case Same:
		return "same"
	case Possible:
		return "possible"
	}
	return "no_match"
}

// VerdictFor maps a score to a verdict at the committed model's
// thresholds (DefaultModel().Thresholds()).
func VerdictFor(score float64) Verdict { return DefaultModel().verdict(score) }

// Result is the outcome of comparing two accounts.
type Result struct {
	Score   float64 // in [0,1]: the model's probability that the accounts are one
	Verdict Verdict
	Signals []Signal // strongest first; the explanation shown to reviewers
	Model   string   // version of the model that scored the pair
}

// Compare scores how likely two accounts are the same customer account. It
// is symmetric: Compare(a, b) and Compare(b, a) return the same Result.
func Compare(a, b Account) Result {
	return CompareWith(nil, a, b)
}

// CompareWith is Compare that also applies reviewer decisions held in k
// (which may be nil). A recorded "not the same" decision wins over any
// computed evidence; a recorded alias makes dissimilar names match.
func CompareWith(k *Knowledge, a, b Account) Result {
	if accountLess(b, a) {
		a, b = b, a
	}
	return comparePrepared(k, prepareAccount(a), prepareAccount(b))
}

func accountLess(a, b Account) bool {
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	if a.Domain != b.Domain {
		return a.Domain < b.Domain
	}
	if a.Country != b.Country {
		return a.Country < b.Country
	}
	return a.TaxID < b.TaxID
}

// prepared is an Account with its name, domain and identifiers parsed once,
// so that an Index can score many candidates cheaply.
type prepared struct {
	acc     Account
	name    *name
	domain  webDomain
	country string
	tax     string
}

func prepareAccount(a Account) *prepared {
	p := &prepared{acc: a, country: normaliseCountry(a.Country)}
	p.tax = normaliseTaxID(a.TaxID, p.country)
	if strings.TrimSpace(a.Domain) != "" {
		p.domain = parseDomain(a.Domain)
	}
	if strings.TrimSpace(a.Name) != "" {
		if p.domain.label == "" && LooksLikeDomain(a.Name) {
			p.domain = parseDomain(a.Name)
		} else {
			n := prepareName(a.Name)
			if n.key != "" {
				p.name = n
			}
		}
	}
	return p
}

func normaliseCountry(c string) string {
	return strings.ToUpper(strings.TrimSpace(c))
}

// normaliseTaxID keeps letters and digits only, upper-cased, and drops a
// leading country prefix (EU VAT numbers are written with and without it).
func normaliseTaxID(t, country string) string {
	var b strings.Builder
	for _, r := range t {
		if r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	s := b.String()
	if len(s) > 4 && isUpperLetters(s[:2]) && (country == "" || s[:2] == country || (country == "GR" && s[:2] == "EL")) {
		s = s[2:]
	}
	return s
}

func isUpperLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// evidence accumulates signals while comparing.
type evidence struct {
	best    float64
	signals []Signal
}

func (e *evidence) add(name string, score float64, detail string) {
	if score <= 0 {
		return
	}
	score = clamp01(score)
	e.signals = append(e.signals, Signal{Name: name, Score: score, Detail: detail})
	if score > e.best {
		e.best = score
	}
}

func clamp01(x float64) float64 {
	if math.IsNaN(x) || x < 0 {
		return 0
	}
	if x > 1 {
		return 1
	}
	return x
}

func comparePrepared(k *Knowledge, a, b *prepared) Result {
	return DefaultModel().compare(k, a, b, true)
}

// knownDomainLogit is what a reviewer's decision that an account owns a
// domain adds to the log-odds: enough for a duplicate on its own.
const knownDomainLogit = 12

// compare scores a pair; without explain, the Result has no Signals (an
// Index scores many candidates and explains the few it returns).
func (m *Model) compare(k *Knowledge, a, b *prepared, explain bool) Result {
	v := featurizeAs(factsOf(a, b), m.words, explain)
	z := m.logit(&v)
	var sig []Signal
	if explain {
		sig = m.signals(&v)
	}
	fixed := -1.0
	hitDomain := false
	if k != nil {
		switch hit := k.lookup(a, b); {
		case hit.distinct:
			fixed = 0
			sig = append(sig, Signal{Name: "known_distinct", Score: round2(-z), Detail: "a reviewer decided these are different accounts" + quoted(hit.detail)})
		case hit.alias:
			fixed = 1
			sig = append(sig, Signal{Name: "known_alias", Score: math.Max(0, round2(-z)) + knownDomainLogit, Detail: "a reviewer decided these names are one account" + quoted(hit.detail)})
		case hit.domain:
			z += knownDomainLogit
			hitDomain = true
			sig = append(sig, Signal{Name: "known_domain", Score: knownDomainLogit, Detail: "a reviewer recorded that the account owns the domain" + quoted(hit.detail)})
		}
	}
	score := fixed
	if score < 0 {
		score = math.Round(sigmoid(z)*1e6) / 1e6
		if capped := m.capScore(score, &v); capped != score && !hitDomain {
			if hasEvidence(&v) {
				sig = append(sig, Signal{Name: "uncorroborated", Score: 0, Detail: "nothing besides a partly matching name (no domain, tax ID or country): at most a possible duplicate"})
			} else {
				sig = append(sig, Signal{Name: "nothing_in_common", Score: 0, Detail: "no word, acronym, domain or tax ID in common"})
			}
			score = capped
		}
	}
	sort.SliceStable(sig, func(i, j int) bool {
		if ai, aj := math.Abs(sig[i].Score), math.Abs(sig[j].Score); ai != aj {
			return ai > aj
		}
		return sig[i].Name < sig[j].Name
	})
	return Result{Score: score, Verdict: m.verdict(score), Signals: sig, Model: m.version}
}

func hasDistinctive(n *name) bool {
	for _, t := range n.core {
		if !t.generic {
			return true
		}
	}
	return false
}

func compareMain(e *evidence, a, b *name) {
	if a.key == b.key {
		e.add("name_equal", 1, a.key)
		return
	}
	if a.squashed == b.squashed {
		e.add("name_squashed_equal", 0.97, a.key+" ~ "+b.key)
		return
	}
	tokenEvidence(e, a, b)
	if la, lb := len(a.squashed), len(b.squashed); la >= 8 && lb >= 8 {
		x, y := orderStrings(a.squashed, b.squashed)
		limit := 1 + min(la, lb)/16
		if x[:4] == y[:4] && max(la, lb)-min(la, lb) <= limit {
			if d := edlib.OSADamerauLevenshteinDistance(x, y); d <= limit {
				e.add("name_squashed_typo", 0.93-0.03*float64(d), a.squashed+" ~ "+b.squashed)
			}
		}
	}
	acronymEvidence(e, a, b)
	acronymEvidence(e, b, a)
}

func orderStrings(a, b string) (string, string) {
	if b < a {
		return b, a
	}
	return a, b
}

// tokenSimilarity is the similarity of two canonical words: 1 when equal,
// the Jaro-Winkler similarity for near-identical longer words (typos), 0.9
// when one is a long prefix of the other (truncations), else 0. Short words
// must match exactly: "ADS" and "ASL" are different companies.
func tokenSimilarity(a, b string) float64 {
	if a == b {
		return 1
	}
	la, lb := len(a), len(b)
	if la < 4 || lb < 4 || a[0] != b[0] {
		return 0
	}
	if (la >= 5 && strings.HasPrefix(b, a)) || (lb >= 5 && strings.HasPrefix(a, b)) {
		return 0.9
	}
	x, y := orderStrings(a, b)
	jw := float64(edlib.JaroWinklerSimilarity(x, y))
	if jw < 0.88 {
		return 0
	}
	d := edlib.OSADamerauLevenshteinDistance(x, y)
	limit := 1
	if max(la, lb) >= 9 {
		limit = 2
	}
	if d > limit {
		return 0
	}
	return jw
}

type tokenLink struct {
	i, j int
	sim  float64
}

// matchTokens pairs the core words of a and b one to one, best pairs first,
// then lets a word match two adjacent words of the other name ("ColdQuanta"
// and "Cold Quanta"). It returns the per-word similarity on each side.
func matchTokens(a, b []token) (sa, sb []float64) {
	sa, sb = make([]float64, len(a)), make([]float64, len(b))
	var links []tokenLink
	for i := range a {
		for j := range b {
			if s := tokenSimilarity(a[i].text, b[j].text); s > 0 {
				links = append(links, tokenLink{i, j, s})
			}
		}
	}
	sort.Slice(links, func(x, y int) bool {
		if links[x].sim != links[y].sim {
			return links[x].sim > links[y].sim
		}
		if links[x].i != links[y].i {
			return links[x].i < links[y].i
		}
		return links[x].j < links[y].j
	})
	for _, l := range links {
		if sa[l.i] == 0 && sb[l.j] == 0 {
			sa[l.i], sb[l.j] = l.sim, l.sim
		}
	}
	compound := func(x []token, sx []float64, y []token, sy []float64) {
		for i := range x {
			if sx[i] != 0 {
				continue
			}
			for j := 0; j+1 < len(y); j++ {
				if sy[j] == 0 && sy[j+1] == 0 && x[i].text == y[j].text+y[j+1].text {
					sx[i], sy[j], sy[j+1] = 1, 1, 1
					break
				}
			}
		}
	}
	compound(a, sa, b, sb)
	compound(b, sb, a, sa)
	return sa, sb
}

// expandAcronyms matches an unmatched short word of x with a run of
// unmatched words of y whose initials spell it ("MSD Canada" and "Merck
// Sharp & Dohme Canada"). It reports whether it matched anything.
func expandAcronyms(x []token, sx []float64, y []token, sy []float64) bool {
	found := false
	for i, t := range x {
		if sx[i] != 0 || len(t.text) < 2 || len(t.text) > 6 || !isASCIIAlnum(t.text) {
			continue
		}
		for j := 0; j+len(t.text) <= len(y); j++ {
			ok := true
			for k := 0; k < len(t.text); k++ {
				if sy[j+k] != 0 || y[j+k].text[0] != t.text[k] {
					ok = false
					break
				}
			}
			if ok {
				sx[i] = acronymTokenSim
				for k := 0; k < len(t.text); k++ {
					sy[j+k] = acronymTokenSim
				}
				found = true
				break
			}
		}
	}
	return found
}

// acronymTokenSim is the similarity given to a word matched as the acronym
// of several words; such matches stay below Same.
const acronymTokenSim = 0.88

func tokenEvidence(e *evidence, a, b *name) {
	sa, sb := matchTokens(a.core, b.core)
	expanded := expandAcronyms(a.core, sa, b.core, sb)
	expanded = expandAcronyms(b.core, sb, a.core, sa) || expanded
	var wa, wb, ma, mb float64
	allA, allB := true, true
	minSim := 1.0
	distinctA, distinctB := false, false
	for i, t := range a.core {
		wa += t.weight
		ma += t.weight * sa[i]
		if sa[i] == 0 {
			allA = false
		} else {
			minSim = math.Min(minSim, sa[i])
		}
		distinctA = distinctA || !t.generic
	}
	for j, t := range b.core {
		wb += t.weight
		mb += t.weight * sb[j]
		if sb[j] == 0 {
			allB = false
		} else {
			minSim = math.Min(minSim, sb[j])
		}
		distinctB = distinctB || !t.generic
	}
	detail := a.key + " ~ " + b.key
	switch {
	case allA && allB:
		if expanded {
			e.add("name_acronym_words", 0.8, detail)
		} else if minSim == 1 {
			e.add("name_same_words", 0.95, detail)
		} else {
			e.add("name_token_jw", 0.86+(minSim-0.88)/0.12*0.1, detail)
		}
	case allA || allB:
		small, large, sl := a, b, sb
		if allB && !allA {
			small, large, sl = b, a, sa
		}
		smallDistinct := distinctA
		if small == b {
			smallDistinct = distinctB
		}
		extrasGeneric := true
		for j, t := range large.core {
			if sl[j] == 0 && !t.generic {
				extrasGeneric = false
			}
		}
		switch {
		case !smallDistinct:
			e.add("name_contained_generic", 0.52, detail)
		case extrasGeneric:
			e.add("name_contained", 0.72, detail)
		default:
			e.add("name_contained", 0.64, detail)
		}
	default:
		if ma+mb == 0 {
			return
		}
		dice := (ma + mb) / (wa + wb)
		e.add("name_token_overlap", 0.8*dice, detail)
		// Sharing a distinctive word (Werfen, Toyota, Gruyter) is what
		// subsidiaries, translations and renamed divisions have in common.
		shared := 0
		for i, t := range a.core {
			if sa[i] > 0 && !t.generic {
				shared++
			}
		}
		if shared > 0 {
			fa, fb := firstDistinctive(a), firstDistinctive(b)
			lead := fa >= 0 && fb >= 0 && sa[fa] > 0 && sb[fb] > 0
			score := 0.5 + 0.25*dice
			if lead {
				score += 0.05
			}
			e.add("name_shared_word", math.Min(score, 0.8), detail)
		}
	}
}

func firstDistinctive(n *name) int {
	for i, t := range n.core {
		if !t.generic {
			return i
		}
	}
	return -1
}

// contentWords are the folded words of a name without legal forms and stop
// words, in their original language: acronyms are built from these.
func contentWords(n *name) []string {
	out := make([]string, 0, len(n.words))
	for _, w := range n.words {
		if !stopWords[w] {
			out = append(out, w)
		}
	}
	return out
}

// acronymLike reports whether a name is a single short word that may stand
// for a longer name (IBM, EPAL, DTE).
func acronymLike(n *name) (string, bool) {
	if len(n.core) != 1 || len(n.words) != 1 {
		return "", false
	}
	w := n.words[0]
	if l := len(w); l < 2 || l > 10 || !isASCIIAlnum(w) || w[0] < 'a' || w[0] > 'z' {
		return "", false
	}
	return w, true
}

func isASCIIAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// acronymEvidence checks whether a is an acronym of b.
func acronymEvidence(e *evidence, a, b *name) {
	acr, ok := acronymLike(a)
	if !ok || len(b.parts) < 1 {
		return
	}
	words := contentWords(b)
	detail := acr + " ~ " + b.key
	if len(b.parts) >= 2 {
		if len(words) >= 2 && initials(words) == acr {
			e.add("acronym", 0.8, detail)
			return
		}
		if initials(b.words) == acr || initials(b.parts) == acr {
			e.add("acronym", 0.76, detail)
			return
		}
	}
	if len(acr) < 2 {
		return
	}
	// Acronyms often end with the initials of the legal form or of a word
	// that was dropped (AECL = Australian Egg Corporation Limited), or
	// leave out the last word (WW = Weight Watchers International).
	for _, ws := range [][]string{words, b.parts} {
		if len(ws) < 2 {
			continue
		}
		in := initials(ws)
		if len(in) >= 2 && strings.HasPrefix(acr, in) && len(acr)-len(in) <= 2 {
			e.add("acronym_extra_letters", 0.62, detail)
			return
		}
		if strings.HasPrefix(in, acr) && len(in)-len(acr) == 1 {
			e.add("acronym_missing_letter", 0.6, detail)
			return
		}
	}
	if a.upper && len(acr) <= 5 && len(words) >= 1 && words[0][0] == acr[0] && isLetterString(acr) {
		// An all-capitals short word starting like the other name is
		// worth a reviewer's look (TELCO and Tata Motors, ZMC and Zoll).
		defer e.add("acronym_initial", 0.5, detail)
	}
	if len(acr) < 3 {
		return
	}
	if al := align(acr, words); al.ok && al.first == 0 && al.skipped == 0 && al.trailing(len(words)) == 0 && al.used >= 2 {
		e.add("acronym_prefixes", 0.74, detail)
		return
	}
	if al := align(acr, b.parts); al.ok && al.first == 0 && al.skipped <= 1 && al.trailing(len(b.parts)) <= 2 {
		e.add("acronym_partial", 0.68, detail)
		return
	}
	if al := align(acr, b.parts); al.ok && al.first <= 1 {
		e.add("acronym_partial", 0.6, detail)
		return
	}
	if len(acr) <= 6 && isSubsequence(acr, strings.Join(b.parts, "")) {
		e.add("acronym_letters", 0.55, detail)
	}
}

func initials(ws []string) string {
	var b strings.Builder
	for _, w := range ws {
		r, _ := utf8.DecodeRuneInString(w)
		b.WriteRune(r)
	}
	return b.String()
}

// isSubsequence reports whether the letters of s appear in order in t,
// starting with t's first letter.
func isSubsequence(s, t string) bool {
	if s == "" || t == "" || s[0] != t[0] {
		return false
	}
	i := 0
	for j := 0; j < len(t) && i < len(s); j++ {
		if t[j] == s[i] {
			i++
		}
	}
	return i == len(s)
}

// alignment describes how a short string (acronym, domain label) is spelled
// by prefixes of successive words of a name.
type alignment struct {
	ok       bool
	first    int // index of the first word used
	last     int // index of the last word used
	used     int // words contributing a prefix
	full     int // words used in full
	skipped  int // words skipped between the first and last used
	firstLen int // length of the piece taken from the first used word
}

func (a alignment) trailing(n int) int { return n - 1 - a.last }

func (a alignment) better(b alignment) bool {
	if a.ok != b.ok {
		return a.ok
	}
	if a.first != b.first {
		return a.first < b.first
	}
	if a.skipped != b.skipped {
		return a.skipped < b.skipped
	}
	if a.full != b.full {
		return a.full > b.full
	}
	return a.used > b.used
}

// align finds the best way to spell s by taking a non-empty prefix of each
// of some successive words (terrafixgeo = terrafix + geo(synthetics); ibm =
// i(nternational) + b(usiness) + m(achines)).
func align(s string, words []string) alignment {
	if len(s) == 0 || len(words) == 0 || len(s) > 64 || len(words) > 24 {
		return alignment{}
	}
	cols := len(words) + 1
	memo := make([]alignment, (len(s)+1)*cols)
	done := make([]bool, (len(s)+1)*cols)
	var f func(i, j int) alignment
	f = func(i, j int) alignment {
		if i == len(s) {
			return alignment{ok: true, first: -1, last: -1}
		}
		if j == len(words) {
			return alignment{}
		}
		k := i*cols + j
		if done[k] {
			return memo[k]
		}
		best := alignment{}
		if r := f(i, j+1); r.ok {
			if r.first >= 0 {
				r.skipped++ // a word skipped before a later used one
			}
			best = r
		}
		w := words[j]
		for n := 1; n <= len(w) && i+n <= len(s); n++ {
			if s[i+n-1] != w[n-1] {
				break
			}
			r := f(i+n, j+1)
			if !r.ok {
				continue
			}
			r.used++
			if n == len(w) {
				r.full++
			}
			if r.last < 0 {
				r.last = j
			}
			r.first = j
			r.firstLen = n
			if r.better(best) {
				best = r
			}
		}
		if best.ok && best.first < 0 {
			best = alignment{}
		}
		memo[k], done[k] = best, true
		return best
	}
	r := f(0, 0)
	if r.ok {
		// Words skipped before the first used word are not "skipped between".
		r.skipped -= r.first
		if r.skipped < 0 {
			r.skipped = 0
		}
	}
	return r
}

// compareNameDomain adds the evidence a name gives against a web domain.
func compareNameDomain(e *evidence, n *name, d webDomain) {
	label := d.label
	detail := n.key + " ~ " + d.registrable
	words := contentWords(n)
	if label == n.squashed || label == strings.Join(n.words, "") || label == strings.Join(words, "") {
		e.add("domain_name_equal", 0.95, detail)
		return
	}
	if len(label) < 2 {
		return
	}
	// Domains add a legal form or a call to action to the name
	// (btgplc.com, myeduheart.com, getacme.io).
	for _, p := range []string{"my", "get", "go", "the", "try", "use"} {
		if l := strings.TrimPrefix(label, p); l != label && len(l) >= 4 && compareLabel(e, n, words, l, detail) {
			return
		}
	}
	for _, sfx := range []string{"plc", "inc", "corp", "group", "co", "gmbh", "ag", "sa", "ltd", "llc", "holdings", "hq", "online", "global", "usa", "uk", "eu"} {
		if l := strings.TrimSuffix(label, sfx); l != label && len(l) >= 3 && compareLabel(e, n, words, l, detail) {
			return
		}
	}
	if compareLabel(e, n, words, label, detail) || len(d.parts) < 2 {
		return
	}
	// One part of a hyphenated domain may be the name (msd-korea.com).
	for _, p := range d.parts {
		if len(p) >= 3 && (p == n.squashed || (len(words) > 0 && p == words[0] && !genericWords[canonicalWord(p)])) {
			e.add("domain_part", 0.75, detail)
			return
		}
	}
}

// compareLabel adds evidence for a domain label against a name and reports
// whether it found any.
func compareLabel(e *evidence, n *name, words []string, label, detail string) bool {
	if label == n.squashed || label == strings.Join(n.words, "") || label == strings.Join(words, "") {
		e.add("domain_name_equal", 0.93, detail)
		return true
	}
	for _, ws := range [][]string{words, n.parts} {
		al := align(label, ws)
		if !al.ok || al.first != 0 || al.skipped != 0 {
			continue
		}
		if al.full == al.used && al.trailing(len(ws)) == 0 {
			e.add("domain_name_equal", 0.93, detail)
			return true
		}
		firstDistinct := !genericWords[canonicalWord(ws[0])]
		if al.firstLen == len(ws[0]) && len(ws[0]) >= 3 && (firstDistinct || al.full >= 2) {
			e.add("domain_name_prefix", 0.88, detail)
			return true
		}
	}
	for _, ws := range [][]string{words, n.parts} {
		if al := align(label, ws); al.ok && al.first == 0 {
			if al.used >= 2 && al.used == len(label) && al.trailing(len(ws)) <= 1 {
				e.add("domain_acronym", 0.72, detail)
			} else {
				e.add("domain_name_partial", 0.66, detail)
			}
			return true
		}
	}
	if len(words) >= 2 {
		if in := initials(words); len(in) >= 3 && strings.HasPrefix(label, in) {
			e.add("domain_acronym", 0.62, detail)
			return true
		}
	}
	for _, t := range n.core {
		if !t.generic && len(t.text) >= 4 && (label == t.text || strings.HasPrefix(label, t.text) ||
			(strings.HasSuffix(t.text, label) && len(t.text)-len(label) <= 2 && len(label) >= 4)) {
			e.add("domain_word", 0.66, detail)
			return true
		}
	}
	if len(label) >= 5 && len(n.squashed) >= 5 {
		x, y := orderStrings(label, n.squashed)
		if jw := float64(edlib.JaroWinklerSimilarity(x, y)); jw >= 0.9 {
			e.add("domain_name_jw", 0.6+(jw-0.9), detail)
			return true
		}
	}
	if len(label) <= 6 && isSubsequence(label, strings.Join(n.parts, "")) {
		e.add("domain_letters", 0.52, detail)
		return true
	}
	return false
}
