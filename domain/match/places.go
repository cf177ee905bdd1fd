package match

import "strings"

// placeWords are the words of countries and major cities, in the spelling
// names take once normalised (the dictionary maps "Deutschland" and
// "deutsche" to germany). Two names that each carry a place, and no place
// in common, are mostly two national entities of one group: "Merck Sharp &
// Dohme Austria" and "Merck (Japan)". Regions (Europe, Asia, North America)
// are left out: "Kyowa Kirin North America" and "Kyowa Kirin (United
// States)" are one company.
var placeWords = canonicalSet(`afghanistan albania algeria andorra angola argentina armenia australia austria
azerbaijan bahamas bahrain bangladesh barbados belarus belgium belize benin bhutan bolivia bosnia botswana
brazil brunei bulgaria burkina burundi cambodia cameroon canada chile china colombia congo croatia
cuba cyprus czechia denmark djibouti ecuador egypt england estonia eswatini ethiopia fiji finland
france gabon gambia georgia germany ghana greece guatemala guinea guyana haiti honduras hungary iceland
india indonesia iran iraq ireland israel italy jamaica japan kazakhstan kenya korea kosovo kuwait
kyrgyzstan laos latvia lebanon lesotho liberia libya liechtenstein lithuania luxembourg madagascar malawi
malaysia maldives mali malta mauritania mauritius mexico moldova monaco mongolia montenegro morocco
mozambique myanmar namibia nepal netherlands nicaragua niger nigeria norway oman pakistan panama paraguay
peru philippines poland portugal qatar romania russia rwanda scotland senegal serbia singapore slovakia
slovenia somalia spain srilanka sudan suriname sweden switzerland syria taiwan tajikistan tanzania thailand
togo tunisia turkmenistan uganda ukraine uruguay usa uk uzbekistan venezuela vietnam wales yemen
zambia zimbabwe
shanghai beijing shenzhen guangzhou tianjin hangzhou nanjing wuhan chengdu chongqing suzhou xian
tokyo osaka seoul taipei hong kong london paris berlin madrid lisbon rome milan amsterdam brussels vienna
zurich geneva stockholm oslo copenhagen helsinki warsaw prague budapest bucharest athens istanbul
dublin munich hamburg frankfurt barcelona toronto montreal vancouver sydney melbourne mumbai delhi
bangalore jakarta manila bangkok hanoi dubai cairo nairobi johannesburg lagos santiago bogota lima
buenos aires caracas monterrey`)

// placeAliases spell countries in their own languages where the
// dictionary (which serves every word of a name) has no entry: they are
// compared as places only.
var placeAliases = map[string]string{
	"osterreich": "austria", "schweiz": "switzerland", "suisse": "switzerland", "svizzera": "switzerland",
	"sverige": "sweden", "norge": "norway", "danmark": "denmark", "polska": "poland", "belgique": "belgium",
	"belgie": "belgium", "suomi": "finland", "magyarorszag": "hungary", "hellas": "greece", "eire": "ireland",
	"rossiya": "russia", "cesko": "czechia", "czech": "czechia",
}

// placeOf maps a word of a name to the place it names (placeWords and
// placeAliases in one map: one look-up per word in a comparison).
var placeOf = func() map[string]string {
	m := make(map[string]string, len(placeWords)+len(placeAliases))
	for w := range placeWords {
		m[w] = w
	}
	for w, p := range placeAliases {
		m[w] = p
	}
	return m
}()

// canonicalSet is setOf with every word in the form names take once
// normalised (dictionary, plural endings).
func canonicalSet(s string) map[string]bool {
	m := map[string]bool{}
	for w := range setOf(s) {
		m[canonicalWord(w)] = true
	}
	return m
}

// namePlaces is the place words of a name, its parenthesised qualifier
// included ("Merck (India)"), sorted and without repeats.
func namePlaces(n *name) []string {
	var out []string
	add := func(ts []token) {
		for _, t := range ts {
			if p, ok := placeOf[t.text]; ok && !containsString(out, p) {
				out = append(out, p)
			}
		}
	}
	if n.place {
		add(n.core)
	}
	if n.alt != nil && n.alt.place {
		add(n.alt.core)
	}
	return out
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// placesDiffer reports whether both names carry a place and share none,
// with the places for the explanation ("austria / japan").
func placesDiffer(a, b *name) (bool, string) {
	pa := namePlaces(a)
	if len(pa) == 0 {
		return false, "" // most names carry no place: the other is not looked at
	}
	pb := namePlaces(b)
	if len(pb) == 0 {
		return false, ""
	}
	for _, p := range pa {
		if containsString(pb, p) {
			return false, ""
		}
	}
	return true, strings.Join(pa, " ") + " / " + strings.Join(pb, " ")
}
