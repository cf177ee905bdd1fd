package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/text/language"
)

//go:embed locales/*.json
var localeFiles embed.FS

// catalog is one language's messages: key → text, with fmt verbs for
// arguments. The keys are the same in every file (TestCatalogsAgree).
type catalog map[string]string

// languages are the portal's languages, the first the fallback.
var languages = []language.Tag{language.English, language.Spanish}

var matcher = language.NewMatcher(languages)

// catalogs holds the embedded catalogs by base language ("en", "es").
var catalogs = mustLoadCatalogs()

func mustLoadCatalogs() map[string]catalog {
	out := map[string]catalog{}
	for _, tag := range languages {
		base, _ := tag.Base()
		b, err := localeFiles.ReadFile("locales/" + base.String() + ".json")
		if err != nil {
			panic(err)
		}
		var c catalog
		if err := json.Unmarshal(b, &c); err != nil {
			panic(fmt.Sprintf("locales/%s.json: %v", base, err))
		}
		out[base.String()] = c
	}
	return out
}

// Locale translates for one request.
type Locale struct {
	Lang string
	cat  catalog
}

// localeFor returns the catalog of lang ("en" or "es"), English for
// anything else.
func localeFor(lang string) Locale {
	if c, ok := catalogs[lang]; ok {
		return Locale{Lang: lang, cat: c}
	}
	return Locale{Lang: "en", cat: catalogs["en"]}
}

// negotiate picks the language of a request: the user's own setting, then
// the lang cookie an anonymous visitor chose, then Accept-Language,
// matched with golang.org/x/text/language.
func negotiate(r *http.Request, userLang string) string {
	if _, ok := catalogs[userLang]; ok {
		return userLang
	}
	if c, err := r.Cookie(langCookie); err == nil {
		if _, ok := catalogs[c.Value]; ok {
			return c.Value
		}
	}
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	_, i, _ := matcher.Match(tags...)
	base, _ := languages[i].Base()
	return base.String()
}

// T returns the message key, formatted with args; a missing key shows
// itself, so a gap is visible rather than blank.
func (l Locale) T(key string, args ...any) string {
	msg, ok := l.cat[key]
	if !ok {
		return key
	}
	if len(args) == 0 {
		return msg
	}
	return fmt.Sprintf(msg, args...)
}

// Has reports whether the catalog has key.
func (l Locale) Has(key string) bool { _, ok := l.cat[key]; return ok }

// fieldMessage is the text shown beside a field for an error code; the
// domain's own message (English) when the catalog has none for the code.
func (l Locale) fieldMessage(code, fallback string) string {
	key := "error." + strings.ReplaceAll(code, "_", "-")
	if l.Has(key) {
		return l.T(key)
	}
	return fallback
}
