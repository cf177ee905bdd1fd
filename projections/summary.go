package projections

import (
	"cmp"
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
// then by key. It reads the covering index registrations_pipeline only.
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
	sel := strings.Join(append(slices.Clone(cols), "currency"), ", ")
	q := "SELECT " + sel + ", count(*), sum(value_e4) FROM registrations"
	cond, args := f.where()
	if f.Before > 0 {
		// As it stood then: the versions that held at that moment.
		q = "SELECT " + sel + ", count(*), sum(value_e4) FROM registration_history"
		at, a := atMoment(f.Before)
		if cond != "" {
			cond += " AND "
		}
		cond, args = cond+at, append(args, a...)
	}
	if cond != "" {
		q += " WHERE " + cond
	}
	q += " GROUP BY " + sel
	rows, err := query(db, q, args...)
	if err != nil {
		return Summary{}, fmt.Errorf("pipeline summary: %w", err)
	}
	defer rows.Close()

	type acc struct {
		key    []string
		count  int
		values map[string]int64 // currency -> value_e4
	}
	groups := map[string]*acc{}
	total := &acc{values: map[string]int64{}}
	add := func(g *acc, currency string, n int, sum int64) {
		g.count += n
		if currency != "" {
			g.values[currency] += sum
		}
	}
	for rows.Next() {
		vals := make([]string, len(cols)+1)
		dest := make([]any, 0, len(cols)+3)
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		var n int
		var sum int64
		dest = append(dest, &n, &sum)
		if err := rows.Scan(dest...); err != nil {
			return Summary{}, fmt.Errorf("pipeline summary: %w", err)
		}
		currency := vals[len(cols)]
		add(total, currency, n, sum)
		for _, key := range expandProducts(groupBy, vals[:len(cols)]) {
			id := strings.Join(key, "\x00")
			g := groups[id]
			if g == nil {
				g = &acc{key: key, values: map[string]int64{}}
				groups[id] = g
			}
			add(g, currency, n, sum)
		}
	}
	if err := rows.Err(); err != nil {
		return Summary{}, fmt.Errorf("pipeline summary: %w", err)
	}
	group := func(g *acc) SummaryGroup {
		out := SummaryGroup{Key: map[string]string{}, Count: g.count, Values: []domain.Money{}}
		for i, k := range g.key {
			out.Key[groupBy[i]] = k
		}
		for cur, v := range g.values {
			out.Values = append(out.Values, domain.Money{Amount: decimal.New(v, -4), Currency: cur})
		}
		slices.SortFunc(out.Values, func(a, b domain.Money) int { return cmp.Compare(a.Currency, b.Currency) })
		return out
	}
	s := Summary{GroupBy: groupBy, Groups: make([]SummaryGroup, 0, len(groups)), Total: group(total)}
	all := make([]*acc, 0, len(groups))
	for _, g := range groups {
		all = append(all, g)
	}
	slices.SortFunc(all, func(a, b *acc) int {
		if c := cmp.Compare(b.count, a.count); c != 0 {
			return c
		}
		return slices.Compare(a.key, b.key)
	})
	for _, g := range all {
		s.Groups = append(s.Groups, group(g))
	}
	return s, nil
}

// expandProducts turns one row's group values into its group keys: the
// row itself, or one key per product line when grouped by product_line.
func expandProducts(groupBy, vals []string) [][]string {
	at := slices.Index(groupBy, "product_line")
	if at < 0 {
		return [][]string{vals}
	}
	lines := strings.Split(strings.Trim(vals[at], "|"), "|")
	if vals[at] == "" {
		lines = []string{""}
	}
	out := make([][]string, 0, len(lines))
	for _, l := range lines {
		key := slices.Clone(vals)
		key[at] = l
		out = append(out, key)
	}
	return out
}
