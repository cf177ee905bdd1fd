package projections

import (
	"cmp"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/dealreg/dealreg/domain"
)

// SummaryKeys are what a pipeline summary can group by, with the column
// each reads.
var SummaryKeys = map[string]string{
	"partner": "partner_id", "status": "status", "type": "type", "country": "country", "region": "region",
	"vertical": "industry", "stage": "stage", "quarter": "close_q", "product_line": "products",
}

// SummaryGroup is one group of a pipeline summary: how many registrations
// and their estimated value, one sum per currency (never across currencies).
type SummaryGroup struct {
	Key    map[string]string `json:"key"`
	Count  int               `json:"count"`
	Values []domain.Money    `json:"values"`
}

// Summary is the partner-sourced pipeline grouped: the groups, and the
// total of every registration that matched.
type Summary struct {
	GroupBy []string       `json:"group_by"`
	Groups  []SummaryGroup `json:"groups"`
	Total   SummaryGroup   `json:"total"`
}

// Summary groups the registrations matching f by the keys of groupBy
// (names of SummaryKeys, in that order), counting them and summing their
// estimated value per currency, exactly. Grouped by product_line, a
// registration counts in the group of each of its product lines (so the
// groups may add up to more than the total). Groups come largest first,
// then by key. It reads the narrow table registrations only.
func (p *Registrations) Summary(f ListFilter, groupBy []string) (Summary, error) {
	db := p.database()
	if db == nil {
		return Summary{}, domain.Errorf(domain.EUNAVAILABLE, "registrations are not loaded yet")
	}
	cols := make([]string, len(groupBy))
	for i, k := range groupBy {
		c, ok := SummaryKeys[k]
		if !ok {
			return Summary{}, domain.Errorf(domain.EINVALID, "cannot group by %q", k)
		}
		cols[i] = c
	}
	if f.Before == 0 {
		if acc, ok := p.pipeline.summary(f, groupBy); ok {
			return acc.result(groupBy), nil
		}
	}
	// Every matching row is read and grouped here, in a hash map: SQLite's
	// GROUP BY sorts the rows first, which cost many times the scan.
	sel := strings.Join(append(slices.Clone(cols), "currency", "value_e4"), ", ")
	from := "registrations"
	cond, args := f.where()
	if f.Before > 0 {
		// As it stood then: the versions that held at that moment.
		from = "registration_history"
		at, a := atMoment(f.Before)
		if cond != "" {
			cond += " AND "
		}
		cond, args = cond+at, append(args, a...)
	}
	q := "SELECT " + sel + " FROM " + from
	if cond != "" {
		q += " WHERE " + cond
	}
	rows, err := query(db, q, args...)
	if err != nil {
		return Summary{}, fmt.Errorf("pipeline summary: %w", err)
	}
	defer rows.Close()

	acc := newSummaryAcc(len(groupBy))
	strs, ids := []string{""}, map[string]uint32{"": 0}
	intern := func(b []byte) uint32 {
		if id, ok := ids[string(b)]; ok {
			return id
		}
		id := uint32(len(strs))
		strs = append(strs, string(b))
		ids[string(b)] = id
		return id
	}
	raw := make([]sql.RawBytes, len(cols)+1) // the group columns, then the currency
	dest := make([]any, 0, len(raw)+1)
	for i := range raw {
		dest = append(dest, &raw[i])
	}
	var value int64
	dest = append(dest, &value)
	at := slices.Index(groupBy, "product_line")
	var key summaryKey
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return Summary{}, fmt.Errorf("pipeline summary: %w", err)
		}
		currency := string(raw[len(cols)])
		acc.addTotal(currency, value)
		for i, b := range raw[:len(cols)] {
			if i != at {
				key[i] = intern(b)
			}
		}
		if at < 0 {
			acc.add(key, currency, value)
			continue
		}
		lines := []string{""}
		if v := string(raw[at]); v != "" {
			lines = strings.Split(strings.Trim(v, "|"), "|")
		}
		for _, l := range lines {
			key[at] = intern([]byte(l))
			acc.add(key, currency, value)
		}
	}
	if err := rows.Err(); err != nil {
		return Summary{}, fmt.Errorf("pipeline summary: %w", err)
	}
	acc.names = func(id uint32) string { return strs[id] }
	acc.finishKeys()
	return acc.result(groupBy), nil
}

// summaryKey is a group's key: an interned value per group-by key.
type summaryKey [9]uint32

// summaryAcc counts and sums a summary's groups.
type summaryAcc struct {
	n      int // keys in use
	groups map[summaryKey]*sumGroup
	total  sumGroup
	names  func(uint32) string // interned value -> value
}

type sumGroup struct {
	key    []string
	count  int
	values []currencySum
}

func newSummaryAcc(n int) *summaryAcc {
	return &summaryAcc{n: n, groups: map[summaryKey]*sumGroup{}}
}

func (g *sumGroup) add(currency string, v int64) {
	g.count++
	if currency == "" {
		return
	}
	for i := range g.values {
		if g.values[i].currency == currency {
			g.values[i].e4 += v
			return
		}
	}
	g.values = append(g.values, currencySum{currency: currency, e4: v})
}

func (a *summaryAcc) addTotal(currency string, v int64) { a.total.add(currency, v) }

func (a *summaryAcc) add(k summaryKey, currency string, v int64) {
	g := a.groups[k]
	if g == nil {
		g = &sumGroup{}
		a.groups[k] = g
	}
	g.add(currency, v)
}

// finishKeys names every group's key values.
func (a *summaryAcc) finishKeys() {
	for k, g := range a.groups {
		g.key = make([]string, a.n)
		for i := range g.key {
			g.key[i] = a.names(k[i])
		}
	}
}

// result is the Summary: groups largest first, then by key; values by
// currency.
func (a *summaryAcc) result(groupBy []string) Summary {
	group := func(g *sumGroup) SummaryGroup {
		out := SummaryGroup{Key: map[string]string{}, Count: g.count, Values: []domain.Money{}}
		for i, k := range g.key {
			out.Key[groupBy[i]] = k
		}
		for _, v := range g.values {
			out.Values = append(out.Values, domain.Money{Amount: decimal.New(v.e4, -4), Currency: v.currency})
		}
		slices.SortFunc(out.Values, func(a, b domain.Money) int { return cmp.Compare(a.Currency, b.Currency) })
		return out
	}
	s := Summary{GroupBy: groupBy, Groups: make([]SummaryGroup, 0, len(a.groups)), Total: group(&a.total)}
	all := make([]*sumGroup, 0, len(a.groups))
	for _, g := range a.groups {
		all = append(all, g)
	}
	slices.SortFunc(all, func(a, b *sumGroup) int {
		if c := cmp.Compare(b.count, a.count); c != 0 {
			return c
		}
		return slices.Compare(a.key, b.key)
	})
	for _, g := range all {
		s.Groups = append(s.Groups, group(g))
	}
	return s
}

// currencySum is a group's estimated value in one currency, in
// ten-thousandths.
type currencySum struct {
	currency string
	e4       int64
}
