package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The word lists the generator builds a partner program from: countries
// with their regions, legal forms and currencies; industries named in each
// language; invented company roots from syllables, so that tens of
// thousands of accounts have distinct names (most submissions are clear),
// and surnames for firm names and contacts.

type genCountry struct {
	code, currency, lang, tld string
	weight                    int
	regions, legal            []string
}

var genCountries = []genCountry{
	{"US", "USD", "en", ".com", 30, []string{"Northeast", "Southeast", "Midwest", "Southwest", "West", "Pacific Northwest"}, []string{"Inc.", "LLC", "Corp.", "Co."}},
	{"MX", "USD", "es", ".com.mx", 12, []string{"Norte", "Noreste", "Bajío", "Centro", "Occidente", "Sureste"}, []string{"S.A. de C.V.", "S. de R.L. de C.V.", "S.A.P.I. de C.V."}},
	{"BR", "USD", "pt", ".com.br", 8, []string{"São Paulo", "Rio de Janeiro", "Minas Gerais", "Sul", "Nordeste"}, []string{"Ltda.", "S.A."}},
	{"CA", "USD", "en", ".ca", 6, []string{"Ontario", "Quebec", "British Columbia", "Alberta"}, []string{"Inc.", "Ltd."}},
	{"DE", "EUR", "de", ".de", 10, []string{"Bayern", "Baden-Württemberg", "Nordrhein-Westfalen", "Hessen", "Berlin", "Hamburg"}, []string{"GmbH", "AG", "GmbH & Co. KG"}},
	{"ES", "EUR", "es", ".es", 8, []string{"Madrid", "Cataluña", "Andalucía", "Comunidad Valenciana", "País Vasco"}, []string{"S.A.", "S.L."}},
	{"FR", "EUR", "fr", ".fr", 7, []string{"Île-de-France", "Auvergne-Rhône-Alpes", "Occitanie", "Hauts-de-France", "Nouvelle-Aquitaine"}, []string{"SA", "SAS", "SARL"}},
	{"GB", "GBP", "en", ".co.uk", 10, []string{"London", "South East", "North West", "Scotland", "Midlands"}, []string{"Ltd", "PLC"}},
	{"IT", "EUR", "it", ".it", 4, []string{"Lombardia", "Lazio", "Piemonte", "Veneto", "Emilia-Romagna"}, []string{"S.p.A.", "S.r.l."}},
	{"NL", "EUR", "en", ".nl", 3, []string{"Noord-Holland", "Zuid-Holland", "Utrecht", "Noord-Brabant"}, []string{"B.V.", "N.V."}},
	{"CO", "USD", "es", ".com.co", 2, []string{"Bogotá", "Antioquia", "Valle del Cauca"}, []string{"S.A.S.", "Ltda."}},
}

// genIndustry is a vertical (the account's industry, in English, which
// territory grants name) and the word a company name uses for it.
type genIndustry struct {
	name  string
	words map[string]string // language → sector word
}

var genIndustries = []genIndustry{
	{"Logistics", map[string]string{"en": "Logistics", "es": "Logística", "pt": "Logística", "de": "Logistik", "fr": "Logistique", "it": "Logistica"}},
	{"Food & Beverage", map[string]string{"en": "Foods", "es": "Alimentos", "pt": "Alimentos", "de": "Lebensmittel", "fr": "Alimentaire", "it": "Alimentari"}},
	{"Manufacturing", map[string]string{"en": "Manufacturing", "es": "Manufacturas", "pt": "Indústrias", "de": "Maschinenbau", "fr": "Industries", "it": "Manifatture"}},
	{"Healthcare", map[string]string{"en": "Health", "es": "Salud", "pt": "Saúde", "de": "Klinik", "fr": "Santé", "it": "Sanità"}},
	{"Energy", map[string]string{"en": "Energy", "es": "Energía", "pt": "Energia", "de": "Energie", "fr": "Énergie", "it": "Energia"}},
	{"Retail", map[string]string{"en": "Stores", "es": "Comercial", "pt": "Comércio", "de": "Handel", "fr": "Distribution", "it": "Commerciale"}},
	{"Financial Services", map[string]string{"en": "Capital", "es": "Financiera", "pt": "Financeira", "de": "Finanz", "fr": "Finance", "it": "Finanziaria"}},
	{"Technology", map[string]string{"en": "Systems", "es": "Sistemas", "pt": "Sistemas", "de": "Systeme", "fr": "Systèmes", "it": "Sistemi"}},
	{"Pharma", map[string]string{"en": "Pharmaceuticals", "es": "Farmacéutica", "pt": "Farmacêutica", "de": "Pharma", "fr": "Pharma", "it": "Farmaceutica"}},
	{"Construction", map[string]string{"en": "Builders", "es": "Constructora", "pt": "Construtora", "de": "Bau", "fr": "Construction", "it": "Costruzioni"}},
	{"Textiles", map[string]string{"en": "Textiles", "es": "Textil", "pt": "Têxtil", "de": "Textil", "fr": "Textile", "it": "Tessile"}},
	{"Automotive", map[string]string{"en": "Motors", "es": "Automotriz", "pt": "Automotiva", "de": "Automobil", "fr": "Automobile", "it": "Automotive"}},
	{"Hospitality", map[string]string{"en": "Hotels", "es": "Hotelera", "pt": "Hotelaria", "de": "Hotels", "fr": "Hôtellerie", "it": "Alberghi"}},
	{"Insurance", map[string]string{"en": "Insurance", "es": "Seguros", "pt": "Seguros", "de": "Versicherung", "fr": "Assurances", "it": "Assicurazioni"}},
	{"Media", map[string]string{"en": "Media", "es": "Medios", "pt": "Mídia", "de": "Medien", "fr": "Médias", "it": "Media"}},
	{"Telecommunications", map[string]string{"en": "Telecom", "es": "Telecomunicaciones", "pt": "Telecom", "de": "Telekom", "fr": "Télécom", "it": "Telecomunicazioni"}},
	{"Agriculture", map[string]string{"en": "Farms", "es": "Agroindustrial", "pt": "Agro", "de": "Agrar", "fr": "Agricole", "it": "Agricola"}},
	{"Mining", map[string]string{"en": "Mining", "es": "Minera", "pt": "Mineração", "de": "Bergbau", "fr": "Mines", "it": "Minerari"}},
	{"Steel", map[string]string{"en": "Steel", "es": "Aceros", "pt": "Aços", "de": "Stahl", "fr": "Aciers", "it": "Acciai"}},
	{"Packaging", map[string]string{"en": "Packaging", "es": "Empaques", "pt": "Embalagens", "de": "Verpackung", "fr": "Emballages", "it": "Imballaggi"}},
	{"Chemicals", map[string]string{"en": "Chemicals", "es": "Química", "pt": "Química", "de": "Chemie", "fr": "Chimie", "it": "Chimica"}},
	{"Education", map[string]string{"en": "Learning", "es": "Educativa", "pt": "Educacional", "de": "Bildung", "fr": "Formation", "it": "Formazione"}},
}

// genGroupWords start names like "Grupo Velmora".
var genGroupWords = map[string][]string{
	"en": {"The", "United"}, "es": {"Grupo", "Corporativo", "Industrias"}, "pt": {"Grupo", "Companhia"},
	"de": {"Gruppe"}, "fr": {"Groupe", "Compagnie"}, "it": {"Gruppo", "Industrie"},
}

var genSurnames = map[string][]string{
	"en": {"Smith", "Johnson", "Walker", "Harris", "Clarke", "Bennett", "Morgan", "Hughes", "Foster", "Reed", "Collins", "Turner", "Parker", "Hayes", "Sullivan", "Brooks"},
	"es": {"García", "Martínez", "López", "Hernández", "González", "Pérez", "Sánchez", "Ramírez", "Torres", "Flores", "Rivera", "Morales", "Ortiz", "Castillo", "Vargas", "Mendoza"},
	"pt": {"Silva", "Santos", "Oliveira", "Souza", "Pereira", "Costa", "Carvalho", "Almeida", "Ribeiro", "Gomes", "Martins", "Rocha", "Barbosa", "Moreira"},
	"de": {"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Schulz", "Koch", "Richter", "Klein", "Wolf"},
	"fr": {"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel"},
	"it": {"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Conti", "Costa"},
}

var genFirstNames = map[string][]string{
	"en": {"James", "Mary", "Robert", "Linda", "Michael", "Sarah", "David", "Emily", "Daniel", "Laura", "Thomas", "Anna"},
	"es": {"José", "María", "Juan", "Lucía", "Carlos", "Sofía", "Luis", "Carmen", "Javier", "Ana", "Diego", "Elena"},
	"pt": {"João", "Ana", "Pedro", "Mariana", "Lucas", "Beatriz", "Rafael", "Camila", "Bruno", "Juliana"},
	"de": {"Lukas", "Anna", "Jonas", "Lena", "Felix", "Laura", "Paul", "Marie", "Max", "Julia"},
	"fr": {"Louis", "Camille", "Hugo", "Léa", "Jules", "Chloé", "Arthur", "Manon", "Lucas", "Emma"},
	"it": {"Marco", "Giulia", "Luca", "Francesca", "Matteo", "Chiara", "Andrea", "Sara", "Davide", "Elisa"},
}

var genTitles = map[string][]string{
	"en": {"CFO", "CIO", "CTO", "VP Operations", "Head of IT", "Procurement Director", "COO"},
	"es": {"Director de Finanzas", "Director de TI", "CIO", "Gerente de Compras", "Director de Operaciones", "CFO"},
	"pt": {"Diretor Financeiro", "Diretor de TI", "CIO", "Gerente de Compras", "Diretor de Operações"},
	"de": {"Geschäftsführer", "Leiter IT", "CFO", "Einkaufsleiter", "CIO"},
	"fr": {"Directeur financier", "DSI", "Directeur des achats", "Directeur des opérations", "CFO"},
	"it": {"Direttore finanziario", "Responsabile IT", "CIO", "Direttore acquisti", "Direttore operativo"},
}

// genPartnerSuffixes name resellers: "Velmora IT Solutions".
var genPartnerSuffixes = map[string][]string{
	"en": {"IT Solutions", "Consulting", "Technologies", "Partners", "Digital", "Systems Integration", "Cloud Services"},
	"es": {"Integradores", "Soluciones TI", "Consultores", "Tecnología", "Digital"},
	"pt": {"Soluções", "Consultoria", "Tecnologia", "Integração"},
	"de": {"IT-Beratung", "Systemhaus", "Digital", "Consulting"},
	"fr": {"Conseil", "Intégration", "Numérique", "Solutions"},
	"it": {"Soluzioni", "Consulenza", "Informatica", "Digitale"},
}

// The syllables of invented company roots: about 30 × 8 × 8 × 30 × 16
// combinations, so roots rarely repeat.
var (
	rootOnsets  = []string{"b", "c", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "cr", "dr", "fl", "gr", "kr", "pl", "pr", "st", "tr", "qu", "sol", "mar", "val", "nor"}
	rootVowels  = []string{"a", "e", "i", "o", "u", "ia", "io", "ea"}
	rootCodas   = []string{"", "n", "r", "l", "s", "x", "nt", "rt"}
	rootMiddles = []string{"b", "c", "d", "g", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "gr", "tr", "st", "nd", "lt", "rv", "mb", "sk", "th", "ph", "ss", "ll", "rr", "nc", "ch"}
	rootEnds    = []string{"a", "o", "ia", "on", "ex", "is", "us", "ara", "ento", "ica", "ium", "ora", "ix", "el", "eno", "ata"}
)

// names makes the generator's names. Roots are never handed out twice.
type names struct {
	rng  *rand.Rand
	used map[string]bool
}

func newNames(rng *rand.Rand) *names { return &names{rng: rng, used: map[string]bool{}} }

func (n *names) pick(list []string) string { return list[n.rng.IntN(len(list))] }

// root returns a fresh invented word such as "Velmora".
func (n *names) root() string {
	for {
		r := n.pick(rootOnsets) + n.pick(rootVowels) + n.pick(rootCodas) + n.pick(rootMiddles) + n.pick(rootEnds)
		if len(r) > 11 || n.used[r] {
			continue
		}
		n.used[r] = true
		return capitalize(r)
	}
}

func capitalize(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:]
}

// genAccount is one real customer as the generator knows it: the canonical
// name and domain; registrations may spell it differently.
type genAccount struct {
	root, name, domain, taxID string
	country                   *genCountry
	region                    string
	industry                  int
	band                      string
	parent                    *genAccount // headquarters, for a subsidiary
}

var genBands = []string{"11-50", "51-200", "201-500", "501-1000", "1001-5000", "5001-10000", "10001+"}

// account invents a customer in country c.
func (n *names) account(c *genCountry, region string) *genAccount {
	a := &genAccount{root: n.root(), country: c, region: region, industry: n.rng.IntN(len(genIndustries)), band: n.pick(genBands)}
	sector := genIndustries[a.industry].words[c.lang]
	legal := n.pick(c.legal)
	// Industry words are few and the matcher finds possible duplicates
	// in two names sharing one ("Velmora Logistics", "Krastix Logistics"),
	// so most names do without.
	switch k := n.rng.IntN(100); {
	case k < 50:
		a.name = a.root + " " + legal
	case k < 65:
		a.name = a.root + " " + n.root() + " " + legal
	case k < 77:
		a.name = a.root + " " + sector + " " + legal
	case k < 85:
		a.name = n.pick(genGroupWords[c.lang]) + " " + a.root + " " + legal
	case k < 90:
		s := genSurnames[c.lang]
		i := n.rng.IntN(len(s))
		a.name = s[i] + " & " + s[(i+1+n.rng.IntN(len(s)-1))%len(s)] + " " + a.root + " " + legal
	case k < 95:
		a.name = a.root + " " + sector
	default:
		a.name = a.root
	}
	a.domain = slug(a.root) + c.tld
	if n.rng.IntN(3) == 0 {
		a.domain = slug(a.root+"-"+sector) + c.tld
	}
	if n.rng.IntN(5) < 2 {
		a.taxID = n.taxID(c)
	}
	return a
}

// subsidiary invents a subsidiary of parent: same root, another sector.
func (n *names) subsidiary(parent *genAccount) *genAccount {
	c := parent.country
	a := &genAccount{root: parent.root, country: c, region: parent.region, industry: n.rng.IntN(len(genIndustries)), band: "201-500", parent: parent}
	if a.industry == parent.industry {
		a.industry = (a.industry + 1) % len(genIndustries)
	}
	sector := genIndustries[a.industry].words[c.lang]
	a.name = parent.root + " " + sector + " " + n.pick(c.legal)
	a.domain = slug(parent.root+"-"+sector) + c.tld
	return a
}

func (n *names) taxID(c *genCountry) string {
	digits := func(k int) string {
		var b strings.Builder
		for range k {
			b.WriteByte(byte('0' + n.rng.IntN(10)))
		}
		return b.String()
	}
	switch c.code {
	case "MX":
		return strings.ToUpper(string(rune('A'+n.rng.IntN(26)))+string(rune('A'+n.rng.IntN(26)))+string(rune('A'+n.rng.IntN(26)))) + digits(6) + "A" + digits(2)
	case "BR":
		d := digits(14)
		return d[:2] + "." + d[2:5] + "." + d[5:8] + "/" + d[8:12] + "-" + d[12:]
	case "US":
		d := digits(9)
		return d[:2] + "-" + d[2:]
	case "ES":
		return string(rune('A'+n.rng.IntN(8))) + digits(8)
	default:
		return c.code + digits(9)
	}
}

// variant spells account a as another partner (or the same one) might:
// another legal form or none, upper case, no group word, a typo, the
// domain with "www." or left out. Some are confidently the same account to
// the matcher, some only possibly.
func (n *names) variant(a *genAccount) (name, domain, taxID string) {
	name, domain = a.name, a.domain
	switch n.rng.IntN(7) {
	case 0: // another legal form
		name = strings.TrimSpace(strings.TrimSuffix(name, lastLegal(a))) + " " + n.pick(a.country.legal)
	case 1: // no legal form
		name = strings.TrimSpace(strings.TrimSuffix(name, lastLegal(a)))
	case 2:
		name = strings.ToUpper(name)
	case 3: // punctuation of the legal form dropped
		name = strings.NewReplacer(".", "", ",", "").Replace(name)
	case 4: // just the root and the sector
		name = a.root + " " + genIndustries[a.industry].words[a.country.lang]
	case 5: // a typo in the root
		r := []rune(a.root)
		if len(r) > 4 {
			i := 1 + n.rng.IntN(len(r)-3)
			r[i], r[i+1] = r[i+1], r[i]
		}
		name = strings.Replace(name, a.root, string(r), 1)
	default: // "&" spelled out
		name = strings.Replace(name, " & ", " and ", 1)
	}
	switch n.rng.IntN(10) {
	case 0, 1, 2, 3, 4:
	case 5, 6:
		domain = "www." + domain
	default:
		domain = ""
	}
	if n.rng.IntN(2) == 0 {
		taxID = a.taxID
	}
	return name, domain, taxID
}

func lastLegal(a *genAccount) string {
	for _, l := range a.country.legal {
		if strings.HasSuffix(a.name, " "+l) {
			return l
		}
	}
	return ""
}

// person returns a contact's name and e-mail at domain.
func (n *names) person(lang, domain string) (name, email string) {
	first, last := n.pick(genFirstNames[lang]), n.pick(genSurnames[lang])
	name = first + " " + last
	if domain != "" {
		email = slug(first) + "." + slug(last) + "@" + strings.TrimPrefix(domain, "www.")
	}
	return name, email
}

var asciiFold = strings.NewReplacer(
	"á", "a", "à", "a", "â", "a", "ã", "a", "ä", "ae", "é", "e", "è", "e", "ê", "e", "í", "i", "ó", "o", "ô", "o", "õ", "o",
	"ö", "oe", "ú", "u", "ü", "ue", "ç", "c", "ñ", "n", "ß", "ss", "î", "i", "Î", "i", "É", "e",
)

// slug lower-cases s into a domain label or partner ID: ASCII letters,
// digits and hyphens.
func slug(s string) string {
	s = asciiFold.Replace(strings.ToLower(s))
	var b strings.Builder
	dash := false
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// partnerName invents a reseller in country c.
func (n *names) partnerName(c *genCountry) string {
	return fmt.Sprintf("%s %s", n.root(), n.pick(genPartnerSuffixes[c.lang]))
}
