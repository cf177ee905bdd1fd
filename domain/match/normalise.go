package match

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/unicode/norm"
)

// texAccent matches accents written out in words, as patent offices do.
var texAccent = regexp.MustCompile(`\{[a-z ]*over \(([^)]*)\)\}`)

// combiningMarks is the set of non-spacing marks that NFKD splits off
// accented letters; removing them folds Telefónica onto Telefonica.
var combiningMarks = runes.In(unicode.Mn)

// specialFold maps letters that NFKD does not decompose to their usual ASCII
// spelling, so that Ørsted, Łódź and Straße compare like their plain forms.
var specialFold = map[rune]string{
	'ß': "ss", 'ø': "o", 'æ': "ae", 'œ': "oe", 'ł': "l", 'đ': "d", 'ð': "d",
	'þ': "th", 'ı': "i", 'ħ': "h", 'ŀ': "l",
}

// foldedToken is one word of a name after folding, with the positions at
// which its original spelling changed from lower to upper case (camelCase
// boundaries such as BridgeBio), which acronyms often follow.
type foldedToken struct {
	text  string
	camel []int // byte offsets inside text where a camelCase part starts
}

// tokenize folds accents and case and splits a name into words. Apostrophes
// join (L'Oréal -> loreal), "&" becomes "and", "@" inside a word reads as
// "a" (IC@dom), anything else that is not a letter or digit separates words.
// Runs of single letters are joined, so "I.B.M." and "N. V." become "ibm"
// and "nv".
func tokenize(s string) []foldedToken {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, " ")
	}
	s = norm.NFKD.String(s)
	var out []foldedToken
	var cur strings.Builder
	var camel []int
	prevLower := false
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, foldedToken{text: cur.String(), camel: camel})
		}
		cur.Reset()
		camel = nil
		prevLower = false
	}
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case combiningMarks.Contains(r):
			continue
		case r == '\'' || r == '’' || r == '`' || r == '´':
			continue
		case r == '&' && cur.Len() > 0 && i+1 < len(rs) && unicode.IsLetter(rs[i+1]):
			continue // "L&T", "AT&T": an acronym, not a conjunction
		case r == '&':
			flush()
			out = append(out, foldedToken{text: "and"})
		case r == '@' && cur.Len() > 0 && i+1 < len(rs) && unicode.IsLetter(rs[i+1]):
			cur.WriteByte('a')
			prevLower = true
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			isUpper := unicode.IsUpper(r)
			if isUpper && prevLower && cur.Len() > 0 {
				camel = append(camel, cur.Len())
			}
			prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
			lr := unicode.ToLower(r)
			if rep, ok := specialFold[lr]; ok {
				cur.WriteString(rep)
			} else {
				cur.WriteRune(lr)
			}
		default:
			flush()
		}
	}
	flush()
	return joinSingles(out)
}

// joinSingles merges runs of two or more one-letter tokens ("d s m" -> "dsm").
func joinSingles(ts []foldedToken) []foldedToken {
	out := ts[:0:0]
	for i := 0; i < len(ts); {
		j := i
		for j < len(ts) && utf8.RuneCountInString(ts[j].text) == 1 && isLetterString(ts[j].text) {
			j++
		}
		if j-i >= 2 {
			var b strings.Builder
			for k := i; k < j; k++ {
				b.WriteString(ts[k].text)
			}
			run := b.String()
			// "D.S.M. N.V.": the run ends with a dotted legal form.
			if len(run) >= 4 {
				if tail := run[len(run)-2:]; singleLetterLegal[tail] {
					out = append(out, foldedToken{text: run[:len(run)-2]}, foldedToken{text: tail})
					i = j
					continue
				}
			}
			out = append(out, foldedToken{text: run})
			i = j
			continue
		}
		out = append(out, ts[i])
		i++
	}
	return out
}

// singleLetterLegal are two-letter legal forms people write with dots
// (N.V., B.V., S.A., A.G., K.K.).
var singleLetterLegal = map[string]bool{"nv": true, "bv": true, "sa": true, "ag": true, "kk": true, "ab": true, "oy": true}

func isLetterString(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return s != ""
}

// token is a word of the core name together with the weight it carries:
// generic words (industry terms, places) weigh less than distinctive ones.
type token struct {
	text    string
	weight  float64
	generic bool
	// trailing marks a word after the legal form that ends the name
	// proper ("DSM N.V., Heerlen"): a location or department.
	trailing bool
}

// name is a company name prepared for comparison.
type name struct {
	raw      string
	core     []token  // legal forms and stop words removed, words canonicalised
	words    []string // every folded word except legal forms, in order
	parts    []string // every folded word incl. legal forms, split at camelCase, in order
	legal    []string // legal forms found, in canonical spelling
	key      string   // core words joined by spaces
	squashed string   // core words joined without spaces
	alt      *name    // the text in parentheses, if any ("Microsurgeonbot (dba MSBAI)")
	altAlias bool     // alt was marked as another name (dba, formerly...), not a qualifier
	upper    bool     // typed in capitals only, as acronyms are
	place    bool     // a core word names a place (placeOf)
}

// Normalise returns the canonical form of a company name used for exact
// comparison and indexing: accents, case, punctuation, legal forms and stop
// words removed, words in other languages mapped to a common spelling. Two
// names with the same canonical form are treated as the same name.
func Normalise(s string) string {
	return prepareName(s).key
}

func prepareName(s string) *name {
	raw := s
	if strings.IndexByte(s, '{') >= 0 {
		// Patent data spells accents in TeX-like words: "I{umlaut over (n)}".
		s = texAccent.ReplaceAllString(s, "$1")
	}
	main, inner, alias := splitParens(s)
	n := buildName(main)
	if n.key == "" && inner != "" {
		return buildName(inner)
	}
	if inner != "" {
		alt := buildName(inner)
		// "(Pty) Ltd", "(publ)": a legal form in parentheses is a legal form.
		if onlyLegal(alt.parts) {
			n.legal = append(n.legal, canonicalLegal(strings.Join(alt.parts, " ")))
		} else if alt.key != "" {
			n.alt = alt
			n.altAlias = alias
		}
	}
	n.raw = raw
	return n
}

// splitParens separates text in parentheses or brackets from the rest; the
// inner text is often a location, a former name or an acronym.
// alias reports whether the inner text was marked as another name of the
// organisation (dba, aka, formerly, trading as).
func splitParens(s string) (outside, inside string, alias bool) {
	if !strings.ContainsAny(s, "([") {
		return s, "", false
	}
	var o, in strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(' || r == '[':
			depth++
			in.WriteByte(' ')
			o.WriteByte(' ')
		case (r == ')' || r == ']') && depth > 0:
			depth--
			in.WriteByte(' ')
		case depth > 0:
			in.WriteRune(r)
		default:
			o.WriteRune(r)
		}
	}
	inner := strings.ToLower(in.String())
	for _, p := range []string{"dba ", "d/b/a ", "aka ", "formerly ", "trading as ", "t/a "} {
		if strings.Contains(inner, p) {
			inner = strings.ReplaceAll(inner, p, " ")
			alias = true
		}
	}
	return o.String(), inner, alias
}

func buildName(s string) *name {
	ft := tokenize(s)
	n := &name{raw: s, upper: strings.ToUpper(s) == s && strings.ToLower(s) != s}
	words := make([]string, len(ft))
	for i, t := range ft {
		words[i] = t.text
	}
	isLegal := markLegal(words)
	for i, t := range ft {
		if len(t.camel) > 0 {
			prev := 0
			for _, c := range t.camel {
				n.parts = append(n.parts, t.text[prev:c])
				prev = c
			}
			n.parts = append(n.parts, t.text[prev:])
		} else {
			n.parts = append(n.parts, t.text)
		}
		if isLegal[i] {
			continue
		}
		n.words = append(n.words, t.text)
	}
	for i := 0; i < len(words); {
		if !isLegal[i] {
			i++
			continue
		}
		j := i
		for j < len(words) && isLegal[j] {
			j++
		}
		n.legal = append(n.legal, canonicalLegal(strings.Join(words[i:j], " ")))
		i = j
	}
	// Words after a legal form that ends the company name proper are a
	// location or department ("DSM N.V., Heerlen"): they describe, not name.
	qualifierFrom := len(words)
	for i := len(words) - 1; i > 0; i-- {
		if isLegal[i] && !isLegal[i-1] {
			qualifierFrom = i
			break
		}
	}
	wi := 0
	for i, w := range words {
		if isLegal[i] {
			continue
		}
		wi++
		if stopWords[w] {
			continue
		}
		c := canonicalWord(w)
		trailing := i > qualifierFrom && wi > 1
		g := genericWords[c] || trailing
		wt := 1.0
		if g {
			wt = genericWeight
		}
		n.core = append(n.core, token{text: c, weight: wt, generic: g, trailing: trailing})
	}
	if len(n.core) == 0 && len(n.words) > 0 {
		// A name made only of stop words ("The And") keeps them.
		for _, w := range n.words {
			n.core = append(n.core, token{text: w, weight: 1})
		}
	}
	var kb, sb strings.Builder
	for i, t := range n.core {
		if i > 0 {
			kb.WriteByte(' ')
		}
		kb.WriteString(t.text)
		sb.WriteString(t.text)
		if _, ok := placeOf[t.text]; ok {
			n.place = true
		}
	}
	n.key, n.squashed = kb.String(), sb.String()
	return n
}

// genericWeight is the weight of a generic word relative to a distinctive
// one. Sharing "Clinical Research" says little; sharing "Glenmark" says a lot.
const genericWeight = 0.3

// markLegal flags the words that belong to a legal form. Legal forms are
// removed anywhere in the name (AB Volvo, Kabushiki Kaisha Toshiba, Acme
// GmbH & Co. KG) unless nothing else would remain.
func markLegal(words []string) []bool {
	flags, any := markLegalWords(words)
	if !any {
		return flags
	}
	for i, f := range flags {
		if !f && !stopWords[words[i]] {
			return flags
		}
	}
	return make([]bool, len(words)) // nothing but legal forms: keep them all
}

// onlyLegal reports whether words are legal forms and stop words only.
func onlyLegal(words []string) bool {
	flags, any := markLegalWords(words)
	if !any {
		return false
	}
	for i, f := range flags {
		if !f && !stopWords[words[i]] {
			return false
		}
	}
	return true
}

// markLegalWords flags the words of legal forms and reports whether any.
func markLegalWords(words []string) ([]bool, bool) {
	flags := make([]bool, len(words))
	any := false
	for i := 0; i < len(words); {
		best := 0
		for _, seq := range legalByFirst[words[i]] {
			if len(seq) > best && i+len(seq) <= len(words) && equalSeq(words[i:i+len(seq)], seq) {
				best = len(seq)
			}
		}
		if best == 0 {
			i++
			continue
		}
		for k := i; k < i+best; k++ {
			flags[k] = true
		}
		any = true
		i += best
	}
	return flags, any
}

func equalSeq(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// canonicalLegal maps spelling variants of one legal form to one spelling
// so that a change of legal form can be reported as a signal.
func canonicalLegal(s string) string {
	switch s {
	case "incorporated":
		return "inc"
	case "corporation":
		return "corp"
	case "limited":
		return "ltd"
	case "company":
		return "co"
	}
	return s
}

// canonicalWord maps a folded word to the spelling used for comparison:
// translations and abbreviations of common organisation words to one
// English form, then a light plural stemming.
func canonicalWord(w string) string {
	if c, ok := dictionary[w]; ok {
		return c
	}
	s := stem(w)
	if c, ok := dictionary[s]; ok {
		return c
	}
	return s
}

// stem removes English and Romance plural endings from longer words
// (industries -> industry, systems -> system) and leaves short words alone,
// since short words are mostly names and acronyms.
func stem(w string) string {
	if len(w) <= 4 || !isLetterString(w) {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ies"):
		return w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "is"),
		strings.HasSuffix(w, "as"), strings.HasSuffix(w, "os"):
		return w
	case strings.HasSuffix(w, "s"):
		return w[:len(w)-1]
	}
	return w
}
