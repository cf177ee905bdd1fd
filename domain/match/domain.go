package match

import (
	"strings"

	"golang.org/x/net/publicsuffix"
)

// webDomain is a web domain reduced to what identifies its owner.
type webDomain struct {
	registrable string // eTLD+1, e.g. "acme.co.uk"
	label       string // the registrable label without hyphens, e.g. "acme"
	parts       []string
}

// LooksLikeDomain reports whether s is a bare web domain or URL (acme.com,
// www.acme.co.uk, https://acme.de/about) rather than a company name, so that
// callers can route a typed value to Account.Domain.
func LooksLikeDomain(s string) bool {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" || strings.ContainsAny(s, " \t,&()") {
		return false
	}
	d := parseDomain(s)
	return d.label != ""
}

// parseDomain extracts the registrable domain of a URL, e-mail address or
// host name using the public suffix list, so that acme.com, www.acme.com
// and acme.co.uk all yield the label "acme".
func parseDomain(s string) webDomain {
	s = strings.TrimSpace(strings.ToLower(s))
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexAny(s, "/?#:"); i >= 0 {
		s = s[:i]
	}
	s = strings.Trim(s, ".")
	if s == "" || !strings.Contains(s, ".") || len(s) > 253 {
		return webDomain{}
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r > 127) {
			return webDomain{}
		}
	}
	if _, icann := publicsuffix.PublicSuffix(s); !icann {
		return webDomain{} // not a real top-level domain ("S.A.", "inc.x")
	}
	reg, err := publicsuffix.EffectiveTLDPlusOne(s)
	if err != nil {
		return webDomain{}
	}
	label := reg
	if i := strings.IndexByte(reg, '.'); i >= 0 {
		label = reg[:i]
	}
	parts := strings.FieldsFunc(label, func(r rune) bool { return r == '-' })
	label = strings.Join(parts, "")
	if label == "" {
		return webDomain{}
	}
	return webDomain{registrable: reg, label: label, parts: parts}
}

// RegistrableDomain returns the part of a web domain, URL or e-mail address
// that identifies its owner (eTLD+1: "www.acme.co.uk" → "acme.co.uk"), or
// "" when s holds none.
func RegistrableDomain(s string) string { return parseDomain(s).registrable }
