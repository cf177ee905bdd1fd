package match_test

import (
	"testing"
	"unicode/utf8"

	"github.com/dealreg/dealreg/domain/match"
)

func FuzzNormalise(f *testing.F) {
	for _, s := range []string{"Telefónica, S.A.", "I.B.M.", "(", "{umlaut over (", "\xff\xfe", "L&T", "a@b", "Ꭰ ǅ ß"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := match.Normalise(s)
		if !utf8.ValidString(n) {
			t.Fatalf("Normalise(%q) = %q: invalid UTF-8", s, n)
		}
		if match.Normalise(s) != n {
			t.Fatalf("Normalise(%q) not deterministic", s)
		}
		match.LooksLikeDomain(s)
	})
}

func FuzzCompare(f *testing.F) {
	f.Add("Acme GmbH", "acme.de", "DE", "DE123", "ACME Inc.", "", "US", "")
	f.Add("IBM", "", "", "", "International Business Machines", "ibm.com", "", "")
	f.Add("\xff", "\x00.com", "", "\xfe", "(dba x)", "a..b", "", "")
	f.Fuzz(func(t *testing.T, n1, d1, c1, t1, n2, d2, c2, t2 string) {
		a := match.Account{Name: n1, Domain: d1, Country: c1, TaxID: t1}
		b := match.Account{Name: n2, Domain: d2, Country: c2, TaxID: t2}
		r1, r2 := match.Compare(a, b), match.Compare(b, a)
		if r1.Score != r2.Score || r1.Verdict != r2.Verdict {
			t.Fatalf("asymmetric: %v vs %v", r1.Score, r2.Score)
		}
		if r1.Score < 0 || r1.Score > 1 {
			t.Fatalf("score %v out of [0,1]", r1.Score)
		}
		if r1.Verdict != match.VerdictFor(r1.Score) {
			t.Fatalf("verdict %v for score %v", r1.Verdict, r1.Score)
		}
	})
}
