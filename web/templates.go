package web

import (
	"html/template"
	"io/fs"
	"reflect"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// parsePages parses each page template together with the layout.
func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"date": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02")
		},
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"money": func(d decimal.Decimal, cur string) string {
			if d.IsZero() && cur == "" {
				return ""
			}
			return d.StringFixed(2) + " " + cur
		},
		"str": func(v any) string {
			if s, ok := v.(interface{ String() string }); ok {
				return s.String()
			}
			if s, ok := v.(string); ok {
				return s
			}
			// Named string types (domain.Status, domain.ConflictKind, …).
			if rv := reflect.ValueOf(v); rv.Kind() == reflect.String {
				return rv.String()
			}
			return ""
		},
		"join":    strings.Join,
		"options": func(f inputField, opts []string) selectField { return selectField{F: f, Options: opts} },
		"field": func(l Locale, name, value, typ string, required bool, errs map[string]string) inputField {
			return inputField{L: l, Name: name, Value: value, Type: typ, Required: required, Error: errs[name]}
		},
	}
	for k, v := range moreFuncs {
		funcs[k] = v
	}
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html"))
	// Files named _*.html hold parts shared by pages, not pages.
	if parts, _ := fs.Glob(templateFiles, "templates/_*.html"); len(parts) > 0 {
		layout = template.Must(layout.ParseFS(templateFiles, parts...))
	}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || strings.HasPrefix(name, "_") {
			continue
		}
		pages[name] = template.Must(template.Must(layout.Clone()).ParseFS(templateFiles, n))
	}
	return pages
}

// inputField is one input of a form as the "input" template draws it:
// label, help text from the catalog (key "help.<name>"), the value typed,
// and the error beside it.
type inputField struct {
	L        Locale
	Name     string
	Value    string
	Type     string
	Required bool
	Error    string
}

// ID is the field's element ID.
func (f inputField) ID() string {
	return "f-" + strings.NewReplacer(".", "-", "_", "-").Replace(f.Name)
}

// Help is the field's help text, "" when the catalog has none.
func (f inputField) Help() string {
	if f.L.Has("help." + f.Name) {
		return f.L.T("help." + f.Name)
	}
	return ""
}

// selectField is a select of options, each labelled "option.<value>".
type selectField struct {
	F       inputField
	Options []string
}
