package match

import (
	"math"
	"strings"

	edlib "github.com/hbollon/go-edlib"
)

// A comparison is made in two steps. facts establishes what two accounts
// have in common (which words pair up and how closely, whether one name is
// contained in the other, an acronym, the domains, countries and tax IDs)
// without weighing anything; featurize then turns the facts into the
// model's features, weighing each word by how distinctive it is. The split
// lets training compute the word pairings once and the word weights once
// per cross-validation fold.

// tokenFact is one core word of a name and how well it paired with a word
// of the other name (0: unpaired).
type tokenFact struct {
	text     string
	generic  bool
	trailing bool // after the legal form ending the name proper
	sim      float64
}

// facts is what comparing two prepared accounts establishes.
type facts struct {
	names      bool // both accounts have a name
	nameDomain bool // one account is known only by its domain, the other has a name

	// Name against name.
	keyA, keyB   string
	exact        bool // same canonical name, or the same once spaces are removed
	qualifier    int  // names otherwise equal: 1 one side has a parenthesised qualifier, 2 both, different
	qualDetail   string
	a, b         []tokenFact
	expanded     bool    // an acronym of several words paired
	typo         bool    // the squashed names differ by a typo or two
	charSim      float64 // Jaro-Winkler similarity of the squashed names
	acronym      float64 // one name is a single word that spells the other's initials (graded)
	acronymShort string
	alt          float64 // a parenthesised name matches the other name (graded)
	altDetail    string
	legalDiffers bool
	legalDetail  string
	placesDiffer bool // both names carry a place, none in common
	placesDetail string

	// Name against domain (either way round).
	nameDomainScore  float64
	nameDomainSignal string
	nameDomainDetail string
	domainOwnWord    string // the domain spells one word of the name and letters of its own (hypo-stream.com for Hypo Tirol Bank)

	// Domain against domain.
	domainEqual, domainLabelEqual, domainDiffers bool
	publicHost                                   string // a shared public host both use, proving nothing
	domainDetail                                 string

	countrySame, countryDiffers bool
	countryDetail               string
	taxEqual, taxDiffers        bool
	taxDetail                   string
}

// factsOf compares two prepared accounts; it is symmetric when a and b are
// given in accountLess order (CompareWith does that).
func factsOf(a, b *prepared) *facts {
	f := &facts{}
	if a.name != nil && b.name != nil {
		f.names = true
		nameFacts(f, a.name, b.name)
	}
	da, db := a.domain, b.domain
	if da.label != "" && db.label != "" {
		switch {
		case da.registrable == db.registrable && isPublicHost(da):
			f.publicHost = da.registrable
		case isPublicHost(da) || isPublicHost(db):
		case da.registrable == db.registrable:
			f.domainEqual, f.domainDetail = true, da.registrable
		case da.label == db.label:
			f.domainLabelEqual, f.domainDetail = true, da.registrable+" ~ "+db.registrable
		default:
			f.domainDiffers, f.domainDetail = true, da.registrable+" / "+db.registrable
		}
	}
	var e evidence
	if b.name != nil && da.label != "" && !isPublicHost(da) {
		compareNameDomainFully(&e, b.name, da)
	}
	if a.name != nil && db.label != "" && !isPublicHost(db) {
		compareNameDomainFully(&e, a.name, db)
	}
	f.nameDomain = (a.name == nil) != (b.name == nil) && (da.label != "" || db.label != "")
	if best := bestSignal(e); best != nil {
		f.nameDomainScore, f.nameDomainSignal, f.nameDomainDetail = best.Score, best.Name, best.Detail
		if best.Name == "domain_word" {
			if b.name != nil && da.label != "" && !isPublicHost(da) {
				f.domainOwnWord = domainOwnLetters(b.name, da)
			}
			if a.name != nil && db.label != "" && !isPublicHost(db) {
				if o := domainOwnLetters(a.name, db); len(o) > len(f.domainOwnWord) {
					f.domainOwnWord = o
				}
			}
		}
	}
	if a.country != "" && b.country != "" {
		f.countryDetail = a.country + " / " + b.country
		if a.country == b.country {
			f.countrySame, f.countryDetail = true, a.country
		} else {
			f.countryDiffers = true
		}
	}
	if a.tax != "" && b.tax != "" {
		if a.tax == b.tax {
			f.taxEqual, f.taxDetail = true, a.tax
		} else if !f.countryDiffers {
			// Different registrations of one country: different legal entities.
			f.taxDiffers, f.taxDetail = true, a.tax+" / "+b.tax
		}
	}
	return f
}

// compareNameDomainFully is compareNameDomain, except that a domain
// spelling the first words of a name counts as spelling all of it when the
// words left over are generic, as does a domain made of the initials of
// every word (amd.com for Advanced Micro Devices), (eastview.com for East View Information
// Services), and not when they are distinctive (samsung.com for Samsung
// SDS: a subsidiary's name).
func compareNameDomainFully(e *evidence, n *name, d webDomain) {
	var sub evidence
	compareNameDomain(&sub, n, d)
	for _, s := range sub.signals {
		switch {
		case s.Name == "domain_name_prefix" && restGeneric(n, d.label):
			s.Name, s.Score = "domain_name_prefix_generic", 0.93
		case s.Name == "domain_acronym" && s.Score >= 0.72:
			// Every word's initial, in order (amd.com, rb.com).
			s.Name, s.Score = "domain_name_acronym", 0.93
		}
		e.add(s.Name, s.Score, s.Detail)
	}
}

// restGeneric reports whether the words of n that label does not spell
// (label spells the first ones in full) are all generic.
func restGeneric(n *name, label string) bool {
	words := contentWords(n)
	for _, sfx := range []string{"group", "inc", "corp", "co", "ltd", "llc", "plc", "gmbh", "ag", "sa", "hq"} {
		if l := strings.TrimSuffix(label, sfx); l != label && len(l) >= 3 {
			label = l
			break
		}
	}
	k, spelled := 0, ""
	for k < len(words) && strings.HasPrefix(label, spelled+words[k]) {
		spelled += words[k]
		k++
	}
	if k == 0 || spelled != label {
		return false
	}
	for _, w := range words[k:] {
		if !genericWords[canonicalWord(w)] {
			return false
		}
	}
	return true
}

// minOwnLetters is how many letters a domain must add to the one word of
// a name it spells to count as a word of its own: "stream" in
// hypo-stream.com for Hypo Tirol Bank, not "rx" in aileronrx.com.
const minOwnLetters = 5

// domainOwnLetters returns what the domain's label adds to the distinctive
// word of n it starts with, once the name's other words and a legal form
// are taken away ("stream" for hypo-stream.com against Hypo Tirol Bank;
// "" for juncell.com against Shanghai Juncell Therapeutics), or "" when it
// adds fewer than minOwnLetters letters. A company's site spells its name,
// or a part of it and a few letters; a site that spells one word of the
// name and another word is mostly another company of the same family or
// the same word (Hypo-Stream, Roche Diagnostics for Roche Diabetes Care).
func domainOwnLetters(n *name, d webDomain) string {
	label := d.label
	for _, t := range n.core {
		if t.generic || len(t.text) < 4 || !strings.HasPrefix(label, t.text) {
			continue
		}
		rest := label[len(t.text):]
		for changed := true; changed && rest != ""; {
			changed = false
			for _, w := range n.parts {
				if len(w) >= 2 && strings.HasPrefix(rest, w) {
					rest, changed = rest[len(w):], true
				}
			}
		}
		for _, sfx := range []string{"group", "inc", "corp", "co", "ltd", "llc", "plc", "gmbh", "ag", "sa", "hq", "online", "global", "usa", "uk", "eu"} {
			rest = strings.TrimSuffix(rest, sfx)
		}
		if len(rest) < minOwnLetters || genericWords[canonicalWord(rest)] {
			// A generic word is a part of the company's site
			// (qorvanta-optics.de, msd-korea.com), not another name.
			return ""
		}
		return rest
	}
	return ""
}

func bestSignal(e evidence) *Signal {
	var best *Signal
	for i := range e.signals {
		if best == nil || e.signals[i].Score > best.Score {
			best = &e.signals[i]
		}
	}
	return best
}

func nameFacts(f *facts, a, b *name) {
	f.keyA, f.keyB = a.key, b.key
	if len(a.legal) > 0 && len(b.legal) > 0 {
		la, lb := strings.Join(a.legal, " "), strings.Join(b.legal, " ")
		if la != lb {
			f.legalDiffers, f.legalDetail = true, la+" / "+lb
		}
	}
	f.placesDiffer, f.placesDetail = placesDiffer(a, b)
	f.exact = a.key == b.key || a.squashed == b.squashed
	if f.exact && (qualifies(a) || qualifies(b)) && (a.alt == nil || b.alt == nil || a.alt.key != b.alt.key) {
		// "Merck (India)" and "Merck (Japan)": a national subsidiary,
		// perhaps, rather than the same account.
		f.qualifier = 1
		if a.alt != nil && b.alt != nil {
			f.qualifier = 2
			f.qualDetail = a.alt.key + " / " + b.alt.key
		} else if a.alt != nil {
			f.qualDetail = a.alt.key
		} else {
			f.qualDetail = b.alt.key
		}
	}
	sa, sb := matchTokens(a.core, b.core)
	expanded := expandAcronyms(a.core, sa, b.core, sb)
	f.expanded = expandAcronyms(b.core, sb, a.core, sa) || expanded
	f.a, f.b = tokenFacts(a.core, sa), tokenFacts(b.core, sb)
	if la, lb := len(a.squashed), len(b.squashed); !f.exact && la >= 8 && lb >= 8 {
		x, y := orderStrings(a.squashed, b.squashed)
		limit := 1 + min(la, lb)/16
		if x[:4] == y[:4] && max(la, lb)-min(la, lb) <= limit && edlib.OSADamerauLevenshteinDistance(x, y) <= limit {
			f.typo = true
		}
	}
	if f.exact {
		f.charSim = 1
	} else if a.squashed != "" && b.squashed != "" {
		x, y := orderStrings(a.squashed, b.squashed)
		f.charSim = float64(edlib.JaroWinklerSimilarity(x, y))
	}
	// An acronym counts only when its word paired with nothing: "Thermo"
	// is contained in "Thermo Fisher Scientific", not its acronym.
	var e evidence
	if len(a.core) != 1 || sa[0] == 0 {
		acronymEvidence(&e, a, b)
	}
	if len(b.core) != 1 || sb[0] == 0 {
		acronymEvidence(&e, b, a)
	}
	if best := bestSignal(e); best != nil {
		f.acronym = best.Score
		f.acronymShort = best.Detail
	}
	// Text in parentheses is often a former name or an acronym. A
	// parenthesised qualifier of generic words only, a place ("Merck
	// (Japan)"), is no name: that it shares a word with the other name
	// ("3M Japan") says nothing.
	for _, p := range []struct{ x, y, alt *name }{{a.alt, b, a.alt}, {a, b.alt, b.alt}} {
		if p.alt == nil || !hasDistinctive(p.alt) {
			continue
		}
		var sub evidence
		compareMain(&sub, p.x, p.y)
		if sub.best > f.alt {
			f.alt, f.altDetail = sub.best, p.x.key+" ~ "+p.y.key
		}
	}
}

// qualifies reports whether a name carries a parenthesised qualifier
// (a country, a division) rather than another name: not an alias marked as
// such, nor the acronym of the name or the words of its acronym ("LabSD
// (Laboratory for Sustainable Development)").
func qualifies(n *name) bool {
	if n.alt == nil || n.altAlias {
		return false
	}
	var e evidence
	acronymEvidence(&e, n, n.alt)
	acronymEvidence(&e, n.alt, n)
	return e.best < 0.6
}

func tokenFacts(ts []token, sims []float64) []tokenFact {
	out := make([]tokenFact, len(ts))
	for i, t := range ts {
		out[i] = tokenFact{text: t.text, generic: t.generic, trailing: t.trailing, sim: sims[i]}
	}
	return out
}

// Features of the model, in the order of its weights. Name features come
// in cases: every word pairs up (same words), one name's words all pair up
// (contained), some do (partial), none do; each case has its indicator, so
// the model weighs the word evidence of each case on its own.
const (
	fNameEqual        = iota // same name once normalised
	fSameWords               // every word pairs up (value: weakest pairing)
	fAcronymWords            // every word pairs up, some through an acronym
	fContained               // one name is contained in the other
	fContainedWeight         // ... how distinctive the contained name is
	fContainedExtra          // ... how distinctive the words it lacks are
	fContainedGeneric        // ... the contained name is only generic words
	fPartial                 // the names share some words, neither is contained
	fPartialShared           // ... how distinctive the shared words are
	fPartialExtraMax         // ... the unshared words of the name with more
	fPartialExtraMin         // ... the unshared words of the name with fewer
	fSharedLead              // the first words of both names pair up (value: its weight)
	fNoWordShared            // no word pairs up
	fTrailing                // unpaired words after a legal form (a location, set aside)
	fTypo                    // the names differ by a typo
	fCharSim                 // letter-level similarity (Jaro-Winkler)
	fAcronym                 // one name is an acronym of the other (graded)
	fParenthesised           // a parenthesised name matches the other
	fQualifierOne            // equal names, one with a parenthesised qualifier
	fQualifierBoth           // equal names, different qualifiers
	fLegalDiffers            // different legal forms
	fNameVsDomain            // a name compared with a bare domain
	fDomainSpellsName        // the domain spells the name (graded, strong kinds)
	fDomainPartial           // the domain matches part of the name (graded, weak kinds)
	fDomainOwnWord           // ... one word of it, and letters of its own
	fPlacesDiffer            // both names carry a place (a country, a city), none in common
	// Account fields the labelled pairs do not carry: fixed priors.
	fDomainEqual
	fDomainLabelEqual
	fDomainDiffers
	fPublicHost
	fCountrySame
	fCountryDiffers
	fTaxEqual
	fTaxDiffers
	numFeatures
)

// featureNames are the stable names of the features (model file, signals).
var featureNames = [numFeatures]string{
	"name_equal", "same_words", "acronym_words",
	"name_contained", "contained_name_weight", "contained_missing_words", "contained_name_generic",
	"names_share_words", "shared_words_weight", "unshared_words_max", "unshared_words_min", "shared_first_word",
	"no_word_shared", "trailing_words", "name_typo", "letter_similarity", "acronym", "parenthesised_name",
	"qualifier_one_side", "qualifier_differs", "legal_form_differs",
	"name_vs_domain", "domain_spells_name", "domain_partial", "domain_own_word",
	"names_differ_in_place",
	"domain_equal", "domain_label_equal", "domain_differs", "public_host", "country_same",
	"country_differs", "tax_id_equal", "tax_id_differs",
}

// learnedFeatures is the number of features fitted on labelled pairs; the
// others (domains, countries, tax IDs of both accounts) are priors, since
// the labelled pairs carry names and domains only.
const learnedFeatures = fDomainEqual

// vector is a pair's feature values, with the words that explain them.
type vector struct {
	x       [numFeatures]float64
	detail  [numFeatures]string
	explain bool // detail is filled in
}

// join is strings.Join(ws, " ") when the vector is explained.
func (v *vector) join(ws []string) string {
	if !v.explain {
		return ""
	}
	return strings.Join(ws, " ")
}

// featurize weighs the facts of a pair into the model's features, words
// weighted by w, without the words that explain them (featurizeAs with
// explain adds them).
func featurize(f *facts, w *wordWeights) vector { return featurizeAs(f, w, false) }

func featurizeAs(f *facts, w *wordWeights, explain bool) vector {
	var v vector
	v.explain = explain
	set := func(i int, x float64, detail string) {
		v.x[i], v.detail[i] = x, detail
	}
	if f.names {
		pair := ""
		if explain {
			pair = f.keyA + " ~ " + f.keyB
		}
		if f.exact {
			set(fNameEqual, 1, f.keyA)
			switch f.qualifier {
			case 1:
				set(fQualifierOne, 1, f.qualDetail)
			case 2:
				set(fQualifierBoth, 1, f.qualDetail)
			}
		} else {
			nameFeatures(&v, f, w, pair)
		}
		if f.legalDiffers {
			set(fLegalDiffers, 1, f.legalDetail)
		}
		if f.placesDiffer {
			set(fPlacesDiffer, 1, f.placesDetail)
		}
		if f.acronym > 0 {
			set(fAcronym, f.acronym, f.acronymShort)
		}
		if f.alt > 0 {
			set(fParenthesised, f.alt, f.altDetail)
		}
	}
	if f.nameDomain {
		set(fNameVsDomain, 1, "")
	}
	if f.nameDomainScore > 0 {
		switch f.nameDomainSignal {
		case "domain_name_equal", "domain_name_prefix_generic", "domain_name_acronym", "domain_name_prefix", "domain_part":
			set(fDomainSpellsName, f.nameDomainScore, f.nameDomainDetail)
		default:
			set(fDomainPartial, f.nameDomainScore, f.nameDomainDetail)
		}
		if f.domainOwnWord != "" {
			set(fDomainOwnWord, 1, f.domainOwnWord)
		}
	}
	flag := func(i int, on bool, detail string) {
		if on {
			set(i, 1, detail)
		}
	}
	flag(fDomainEqual, f.domainEqual, f.domainDetail)
	flag(fDomainLabelEqual, f.domainLabelEqual, f.domainDetail)
	flag(fDomainDiffers, f.domainDiffers, f.domainDetail)
	flag(fPublicHost, f.publicHost != "", f.publicHost)
	flag(fCountrySame, f.countrySame, f.countryDetail)
	flag(fCountryDiffers, f.countryDiffers, f.countryDetail)
	flag(fTaxEqual, f.taxEqual, f.taxDetail)
	flag(fTaxDiffers, f.taxDiffers, f.taxDetail)
	return v
}

// sideFacts sums what the words of one name weigh.
type sideFacts struct {
	total, paired, unpaired float64
	all, distinct           bool
	pairedWords, extraWords []string
	trailing                []string // unpaired words after the legal form
}

func weighSide(ts []tokenFact, w *wordWeights) sideFacts {
	s := sideFacts{all: len(ts) > 0}
	for _, t := range ts {
		wt := w.weight(t.text, t.generic)
		s.total += wt
		if t.sim > 0 {
			s.paired += wt * t.sim
			s.pairedWords = append(s.pairedWords, t.text)
		} else if t.trailing {
			// "Hunter Douglas Industries B.V., Rotterdam, NL" is the
			// Hunter Douglas Industries B.V. of Rotterdam: the words
			// after the legal form neither add nor take away a name.
			s.total -= wt
			s.trailing = append(s.trailing, t.text)
		} else {
			s.all = false
			s.unpaired += wt
			s.extraWords = append(s.extraWords, t.text)
		}
		s.distinct = s.distinct || !t.generic
	}
	return s
}

func nameFeatures(v *vector, f *facts, w *wordWeights, pair string) {
	set := func(i int, x float64, detail string) {
		v.x[i], v.detail[i] = x, detail
	}
	a, b := weighSide(f.a, w), weighSide(f.b, w)
	if a.total == 0 || b.total == 0 {
		return
	}
	minSim := 1.0
	for _, ts := range [][]tokenFact{f.a, f.b} {
		for _, t := range ts {
			if t.sim > 0 {
				minSim = math.Min(minSim, t.sim)
			}
		}
	}
	switch {
	case a.all && b.all && f.expanded:
		// A bare acronym (IBM) stands for many names; one with other
		// words that pair too (MSD Canada) for fewer.
		x := 1.0
		if len(f.a) >= 2 && len(f.b) >= 2 {
			x = 2
		}
		set(fAcronymWords, x, pair)
	case a.all && b.all:
		set(fSameWords, minSim, pair)
	case a.all || b.all:
		small, large := a, b
		if b.all && !a.all {
			small, large = b, a
		}
		set(fContained, 1, pair)
		set(fContainedWeight, math.Min(small.total, 2), v.join(small.pairedWords))
		set(fContainedExtra, math.Min(large.unpaired, 2), v.join(large.extraWords))
		if !small.distinct {
			set(fContainedGeneric, 1, v.join(small.pairedWords))
		}
	case a.paired > 0 || b.paired > 0:
		set(fPartial, 1, pair)
		set(fPartialShared, math.Min((a.paired+b.paired)/2, 2), v.join(a.pairedWords))
		hi, lo := a, b
		if b.unpaired > a.unpaired || (b.unpaired == a.unpaired && strings.Join(b.extraWords, " ") < strings.Join(a.extraWords, " ")) {
			hi, lo = b, a
		}
		set(fPartialExtraMax, math.Min(hi.unpaired, 2), v.join(hi.extraWords))
		set(fPartialExtraMin, math.Min(lo.unpaired, 2), v.join(lo.extraWords))
	default:
		set(fNoWordShared, 1, pair)
	}
	if len(f.a) > 0 && len(f.b) > 0 && f.a[0].sim > 0 && f.b[0].sim > 0 && !(a.all && b.all) {
		set(fSharedLead, w.weight(f.a[0].text, f.a[0].generic)*f.a[0].sim, f.a[0].text)
	}
	if len(a.trailing)+len(b.trailing) > 0 {
		set(fTrailing, 1, v.join(append(a.trailing, b.trailing...)))
	}
	if f.typo {
		set(fTypo, 1, pair)
	}
	if f.charSim > 0 {
		set(fCharSim, f.charSim, pair)
	}
}

// canBeSame reports whether a pair may be a duplicate (Same) whatever its
// score: when the names agree word for word (or a domain spells the whole
// name, or an acronym stands for exactly the words it replaces), or when
// something besides the name corroborates it (the same company domain or
// tax ID; the same country adds its prior but is not enough: most claims of
// a national book share one). A contained name, shared words, an
// acronym or a qualified name are at most possible duplicates on their
// own: a subsidiary or a namesake looks just like that.
func canBeSame(v *vector) bool {
	x := &v.x
	if x[fTaxDiffers] > 0 {
		return false // two legal entities of one country
	}
	// The same country adds a little (a prior) but does not make a
	// contained name a duplicate: most claims of a national book share it.
	if x[fDomainEqual] > 0 || x[fDomainLabelEqual] > 0 || x[fTaxEqual] > 0 {
		return true
	}
	if x[fQualifierOne] > 0 || x[fQualifierBoth] > 0 {
		return false
	}
	return x[fNameEqual] > 0 || x[fSameWords] > 0 || x[fAcronymWords] > 0 || x[fTypo] > 0 || x[fDomainSpellsName] >= 0.93
}

// noEvidenceCap is the score of a pair with nothing in common: no word, no
// acronym, no domain, no tax ID. The labelled pairs hold few such pairs
// among their negatives (they were drawn as look-alikes), so the model
// cannot learn that two unrelated names are unrelated; this says it.
const noEvidenceCap = 0.01

// hasEvidence reports whether anything links the two accounts.
func hasEvidence(v *vector) bool {
	for _, i := range []int{fNameEqual, fSameWords, fAcronymWords, fContained, fPartial, fTypo, fAcronym,
		fParenthesised, fDomainSpellsName, fDomainPartial, fDomainEqual, fDomainLabelEqual, fTaxEqual} {
		if v.x[i] > 0 {
			return true
		}
	}
	return false
}

// wordWeights says how distinctive a word is, from how many organisations
// of a corpus use it: the inverse document frequency over organisations
// (one document per organisation, so that the many spellings of one name
// do not make its words look common), scaled to [0,1]. The organisation
// being compared counts as one user, the corpus's organisations as the
// others: a word no other organisation uses weighs 1, one another uses
// less (about 0.74 in a corpus of 2,000). In training, the pair's own
// organisations are taken out of the counts (less), as a new claim's are
// not in the corpus. Words of the hand-kept generic list
// (industries, places, organisation types) weigh genericWeight of that at
// most: the corpus is small, and a generic word it never saw is still
// generic.
type wordWeights struct {
	docs  int
	df    map[string]int
	norm  float64
	gamma float64 // the scaled IDF is raised to this power: higher, common words weigh less
	// less, in training, is how many of the counted organisations are the
	// pair's own, for a word (nil: none).
	less func(word string) int
}

func newWordWeights(docs int, df map[string]int, gamma float64) *wordWeights {
	return &wordWeights{docs: docs, df: df, norm: math.Log(float64(docs+1) / 2), gamma: gamma}
}

// others is how many organisations of the corpus, besides the pair's own,
// use word.
func (w *wordWeights) others(word string) int {
	if w == nil {
		return 0
	}
	n := w.df[word]
	if w.less != nil {
		n -= w.less(word)
	}
	return n
}

func (w *wordWeights) weight(word string, generic bool) float64 {
	x := 1.0
	if w != nil && w.docs > 1 {
		if n := w.others(word); n >= 1 {
			x = math.Log(float64(w.docs+1)/float64(n+2)) / w.norm
			if w.gamma > 0 && x > 0 {
				x = math.Pow(x, w.gamma)
			}
		}
	}
	x = math.Max(0.02, math.Min(1, x))
	if generic {
		x = math.Min(x, genericWeight)
	}
	return x
}

// publicHosts are registrable domains many unrelated organisations share:
// free e-mail providers, social networks and site builders. A domain on
// them identifies no one.
var publicHosts = setOf(`gmail.com googlemail.com outlook.com hotmail.com hotmail.co.uk live.com msn.com
yahoo.com yahoo.co.uk yahoo.co.jp yahoo.fr yahoo.es yahoo.com.br ymail.com aol.com icloud.com me.com mac.com
protonmail.com proton.me pm.me gmx.com gmx.de gmx.net web.de t-online.de mail.ru yandex.ru yandex.com
qq.com 163.com 126.com sina.com sohu.com naver.com daum.net hanmail.net zoho.com fastmail.com tutanota.com
orange.fr free.fr laposte.net libero.it virgilio.it terra.com.br uol.com.br bol.com.br rediffmail.com
facebook.com linkedin.com twitter.com x.com instagram.com youtube.com google.com wixsite.com wix.com
blogspot.com wordpress.com weebly.com squarespace.com github.com sharepoint.com
suny.edu cuny.edu ucop.edu universityofcalifornia.edu calstate.edu tamus.edu utsystem.edu usg.edu
umsystem.edu wisconsin.edu uwsa.edu nhs.uk nhs.net`)

// publicLabels are registrable labels of shared government and academic
// hosts: where the public suffix list does not list gov.xx, a host such as
// agency.gov.xx has the registrable domain gov.xx, the parent of every
// agency of the country.
var publicLabels = setOf(`gov gob gouv govt government go gv mil edu ac`)

func isPublicHost(d webDomain) bool {
	return publicHosts[d.registrable] || publicLabels[d.label]
}
