package match_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain/match"
)

func TestCompareVerdicts(t *testing.T) {
	tests := []struct {
		name string
		a, b match.Account
		want match.Verdict
	}{
		{"accents", match.Account{Name: "Telefónica"}, match.Account{Name: "TELEFONICA"}, match.Same},
		{"ß and ø", match.Account{Name: "Großmann Ørsted"}, match.Account{Name: "Grossmann Orsted"}, match.Same},
		{"legal form es", match.Account{Name: "Telefónica, S.A."}, match.Account{Name: "Telefonica SA"}, match.Same},
		{"legal form mx", match.Account{Name: "Grupo Bimbo, S.A.B. de C.V."}, match.Account{Name: "Bimbo"}, match.Same},
		{"legal form de", match.Account{Name: "Siemens AG"}, match.Account{Name: "Siemens Aktiengesellschaft"}, match.Same},
		{"legal form nl dotted", match.Account{Name: "ASML Holding N.V."}, match.Account{Name: "ASML Holding NV"}, match.Same},
		{"legal form jp", match.Account{Name: "Kabushiki Kaisha Toshiba"}, match.Account{Name: "Toshiba Corp."}, match.Same},
		{"legal form pl", match.Account{Name: "Comarch Sp. z o.o."}, match.Account{Name: "Comarch"}, match.Same},
		{"legal form it", match.Account{Name: "Luxottica Group S.p.A."}, match.Account{Name: "Luxottica"}, match.Same},
		{"legal form nordic", match.Account{Name: "Novo Nordisk A/S"}, match.Account{Name: "Novo Nordisk"}, match.Same},
		{"legal form co ltd", match.Account{Name: "Yasuhara Chemical Co., Ltd."}, match.Account{Name: "Yasuhara Chemical"}, match.Same},
		{"punctuation and spacing", match.Account{Name: "GIST-BROCADES N.V."}, match.Account{Name: "Gist Brocades NV"}, match.Same},
		{"squashed", match.Account{Name: "ST Microelectronics"}, match.Account{Name: "STMicroelectronics"}, match.Same},
		{"dotted initials", match.Account{Name: "D.S.M. N.V."}, match.Account{Name: "DSM"}, match.Same},
		{"ampersand", match.Account{Name: "Bath & Body Works"}, match.Account{Name: "Bath and Body Works"}, match.Same},
		{"word order", match.Account{Name: "Bank of Lisbon Savings"}, match.Account{Name: "Lisbon Savings Bank"}, match.Same},
		{"typo", match.Account{Name: "Glenmark Pharmaceuticals"}, match.Account{Name: "Glenmrak Pharmaceuticals"}, match.Same},
		{"truncated word", match.Account{Name: "STMicroelectronic Srl."}, match.Account{Name: "STMicroelectronics N.V."}, match.Same},
		{"translation", match.Account{Name: "Universidad de Lisboa"}, match.Account{Name: "University of Lisbon"}, match.Same},
		{"translation pharma", match.Account{Name: "Astellas Farma Lda"}, match.Account{Name: "Astellas Pharma Ltd"}, match.Same},
		{"acronym", match.Account{Name: "IBM"}, match.Account{Name: "International Business Machines"}, match.Same},
		{"acronym with legal form", match.Account{Name: "Australian Egg Corporation Limited"}, match.Account{Name: "AECL"}, match.Possible},
		{"acronym in name", match.Account{Name: "MSD Canada"}, match.Account{Name: "Merck Sharp & Dohme Canada"}, match.Same},
		{"acronym prefix", match.Account{Name: "DTE Energy"}, match.Account{Name: "DTE"}, match.Possible},
		{"domain only", match.Account{Name: "Acme"}, match.Account{Domain: "acme.co.uk"}, match.Same},
		{"domain url", match.Account{Name: "Acme Ltd"}, match.Account{Domain: "https://www.acme.com/contact"}, match.Same},
		{"domain concatenated", match.Account{Name: "Terrafix Geosynthetics"}, match.Account{Domain: "terrafixgeo.com"}, match.Possible},
		{"domain vs domain suffix", match.Account{Name: "x", Domain: "acme.com"}, match.Account{Domain: "www.acme.co.uk"}, match.Possible}, // another country's company, perhaps
		{"same domain", match.Account{Name: "x", Domain: "acme.com"}, match.Account{Domain: "www.acme.com"}, match.Same},
		{"domain other company", match.Account{Name: "Foundation Medicine"}, match.Account{Domain: "bg-medicine.com"}, match.NoMatch},
		{"shared generic word", match.Account{Name: "ICON Clinical Research"}, match.Account{Name: "CT Clinical Research"}, match.NoMatch},
		{"short words differ", match.Account{Name: "ADS Environmental Services"}, match.Account{Name: "ASL Environmental Sciences"}, match.NoMatch},
		{"subsidiary is not same", match.Account{Name: "Advanced Semiconductor Engineering"}, match.Account{Name: "Advanced Engineering"}, match.NoMatch},
		{"contained name is not same", match.Account{Name: "Loral"}, match.Account{Name: "Loral Command Control Systems"}, match.NoMatch},
		{"national subsidiary", match.Account{Name: "Merck (India)"}, match.Account{Name: "Merck (Japan)"}, match.Possible},
		{"unrelated", match.Account{Name: "Aptiv"}, match.Account{Name: "Delphi"}, match.NoMatch},
		{"tax id equal", match.Account{Name: "Aptiv", TaxID: "ES-B12345678", Country: "ES"}, match.Account{Name: "Delphi", TaxID: "b12345678", Country: "es"}, match.Same},
		{"tax id with VAT prefix", match.Account{Name: "A", TaxID: "DE 123 456 789", Country: "DE"}, match.Account{Name: "B", TaxID: "123456789"}, match.Same},
		{"tax id differs", match.Account{Name: "Acme GmbH", TaxID: "DE111111111", Country: "DE"}, match.Account{Name: "Acme GmbH", TaxID: "DE222222222", Country: "DE"}, match.Possible},
		{"empty", match.Account{}, match.Account{}, match.NoMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := match.Compare(tt.a, tt.b)
			require.Equal(t, tt.want, r.Verdict, "score %.3f signals %+v", r.Score, r.Signals)
			require.Equal(t, r, match.Compare(tt.b, tt.a), "symmetric")
		})
	}
}

func TestCompareSignals(t *testing.T) {
	r := match.Compare(match.Account{Name: "Acme GmbH", Country: "DE"}, match.Account{Name: "ACME Inc.", Country: "US"})
	require.Equal(t, match.Same, r.Verdict, "a multinational may register in several countries")
	names := map[string]bool{}
	for _, s := range r.Signals {
		names[s.Name] = true
	}
	require.True(t, names["name_equal"])
	require.True(t, names["country_differs"])
	require.True(t, names["legal_form_differs"])

	r = match.Compare(match.Account{Name: "Acme GmbH", TaxID: "DE1", Country: "DE"}, match.Account{Name: "Acme", TaxID: "DE2", Country: "DE"})
	dup, _ := match.DefaultModel().Thresholds()
	require.Less(t, r.Score, dup)
	require.Contains(t, signalNames(r), "tax_id_differs")
}

func TestNormalise(t *testing.T) {
	for in, want := range map[string]string{
		"Telefónica, S.A.":                     "telefonica",
		"  L'Oréal  ":                          "loreal",
		"Grupo Bimbo S.A.B. de C.V.":           "bimbo",
		"I.B.M. Corp.":                         "ibm",
		"Universidade de São Paulo":            "university sao paulo",
		"AT&T Inc.":                            "att",
		"Acme GmbH & Co. KG":                   "acme",
		"GmbH":                                 "gmbh",
		"adidas I{umlaut over (n)}ternational": "adidas international",
	} {
		require.Equal(t, want, match.Normalise(in), in)
	}
}

func TestKnowledge(t *testing.T) {
	k := match.NewKnowledge()
	a := match.Account{Name: "KAN Research Institute"}
	b := match.Account{Name: "KAN Research Institute Inc."}
	require.Equal(t, match.Same, match.CompareWith(k, a, b).Verdict)

	// A reviewer decided these are different customers: the decision wins
	// over a perfect name match, and covers spelling variants.
	k.AddDistinct("KAN Research Institute", "Kan Research Institute, Inc.")
	r := match.CompareWith(k, a, b)
	require.Equal(t, match.NoMatch, r.Verdict)
	require.Contains(t, signalNames(r), "known_distinct")

	// An alias makes two dissimilar names match.
	c, d := match.Account{Name: "Aptiv PLC"}, match.Account{Name: "Delphi Automotive"}
	require.Equal(t, match.NoMatch, match.CompareWith(k, c, d).Verdict)
	k.AddAlias("Aptiv", "Delphi Automotive")
	r = match.CompareWith(k, c, d)
	require.Equal(t, match.Same, r.Verdict)
	require.Contains(t, signalNames(r), "known_alias")
	require.Equal(t, r, match.CompareWith(k, d, c))
	require.Equal(t, []string{"aptiv", "delphi automotive"}, k.Aliases("APTIV"))

	// An extra domain of an account.
	e, f := match.Account{Name: "Alphabet"}, match.Account{Domain: "google.com"}
	require.Equal(t, match.NoMatch, match.CompareWith(k, e, f).Verdict)
	k.AddDomain("Alphabet Inc.", "www.google.com")
	require.Equal(t, match.Same, match.CompareWith(k, e, f).Verdict)

	// Without knowledge, nothing changes.
	require.Equal(t, match.NoMatch, match.Compare(c, d).Verdict)
}

func TestLooksLikeDomain(t *testing.T) {
	for s, want := range map[string]bool{
		"acme.com": true, "acme.co.uk": true, "https://www.acme.de/x": true, "lobtex.co.jp": true,
		"Acme": false, "Acme Inc.": false, "S.A.": false, "co.uk": false, "": false, "D.S.M. N.V.": false,
	} {
		require.Equal(t, want, match.LooksLikeDomain(s), s)
	}
}

func signalNames(r match.Result) []string {
	var out []string
	for _, s := range r.Signals {
		out = append(out, s.Name)
	}
	return out
}
