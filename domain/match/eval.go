package match

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Pair is one labelled example: two accounts and whether they are the same
// organisation. Kind names the phenomenon the pair illustrates
// (pos_variant, neg_shared_word...), so that results can be broken down.
type Pair struct {
	A, B   Account
	Same   bool
	Source string
	Kind   string
	Line   int // line in the input file, for error messages and debugging
}

// ReadPairs reads labelled pairs from CSV with the header
// name_a,name_b,same,source,kind. A name_b that looks like a web domain
// (acme.co.uk) is read as the Domain of the second account, otherwise as its
// Name. Errors carry the line number of the offending row.
func ReadPairs(r io.Reader) ([]Pair, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("match: pairs: empty input, want header name_a,name_b,same,source,kind")
		}
		return nil, fmt.Errorf("match: pairs: header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, want := range []string{"name_a", "name_b", "same"} {
		if _, ok := col[want]; !ok {
			return nil, fmt.Errorf("match: pairs: line 1: missing column %q", want)
		}
	}
	field := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	var out []Pair
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("match: pairs: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			return nil, fmt.Errorf("match: pairs: line %d: %d fields, want %d", line, len(rec), len(header))
		}
		p := Pair{Source: field(rec, "source"), Kind: field(rec, "kind"), Line: line}
		switch strings.TrimSpace(field(rec, "same")) {
		case "1", "true", "TRUE", "yes":
			p.Same = true
		case "0", "false", "FALSE", "no":
		default:
			return nil, fmt.Errorf("match: pairs: line %d: same = %q, want 0 or 1", line, field(rec, "same"))
		}
		a, b := strings.TrimSpace(field(rec, "name_a")), strings.TrimSpace(field(rec, "name_b"))
		if a == "" || b == "" {
			return nil, fmt.Errorf("match: pairs: line %d: empty name", line)
		}
		p.A = accountFromText(a)
		p.B = accountFromText(b)
		out = append(out, p)
	}
	return out, nil
}

func accountFromText(s string) Account {
	if LooksLikeDomain(s) {
		return Account{Domain: s}
	}
	return Account{Name: s}
}

// Report is the evaluation of the matcher on labelled pairs at its two
// thresholds: "duplicate" counts a pair as predicted same when Compare
// says Same, "possible" when it says Possible or Same.
type Report struct {
	Duplicate ThresholdReport `json:"duplicate"`
	Possible  ThresholdReport `json:"possible"`
}

// ThresholdReport holds precision and recall over all pairs plus the same
// figures per kind of pair.
type ThresholdReport struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	Counts
	ByKind map[string]KindReport `json:"by_kind"`
}

// Counts are the confusion counts behind the rates: tp (same, predicted
// same), fp (different, predicted same), fn (same, missed), tn, and n pairs.
type Counts struct {
	TP int `json:"tp"`
	FP int `json:"fp"`
	FN int `json:"fn"`
	TN int `json:"tn"`
	N  int `json:"n"`
}

// KindReport is the result on one kind of pair. A kind holds only positive
// or only negative pairs, so only some rates are defined and the others are
// omitted: recall for kinds with positive pairs, false_positive_rate (the
// share of different pairs wrongly predicted same) for kinds with negative
// pairs, precision only when the kind has both. Counts are always present.
type KindReport struct {
	Precision         *float64 `json:"precision,omitempty"`
	Recall            *float64 `json:"recall,omitempty"`
	FalsePositiveRate *float64 `json:"false_positive_rate,omitempty"`
	Counts
}

// Evaluate compares every pair and reports precision and recall at the
// duplicate (Same) and possible (Possible or Same) thresholds.
func Evaluate(pairs []Pair) Report {
	dup := map[string]*Counts{}
	pos := map[string]*Counts{}
	var dupAll, posAll Counts
	for _, p := range pairs {
		v := Compare(p.A, p.B).Verdict
		for _, x := range []struct {
			by   map[string]*Counts
			all  *Counts
			pred bool
		}{{dup, &dupAll, v == Same}, {pos, &posAll, v >= Possible}} {
			c := x.by[p.Kind]
			if c == nil {
				c = &Counts{}
				x.by[p.Kind] = c
			}
			c.tally(p.Same, x.pred)
			x.all.tally(p.Same, x.pred)
		}
	}
	return Report{Duplicate: thresholdReport(dupAll, dup), Possible: thresholdReport(posAll, pos)}
}

func (c *Counts) tally(same, pred bool) {
	c.N++
	switch {
	case same && pred:
		c.TP++
	case same:
		c.FN++
	case pred:
		c.FP++
	default:
		c.TN++
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func thresholdReport(all Counts, by map[string]*Counts) ThresholdReport {
	r := ThresholdReport{
		Precision: ratio(all.TP, all.TP+all.FP),
		Recall:    ratio(all.TP, all.TP+all.FN),
		Counts:    all,
		ByKind:    map[string]KindReport{},
	}
	kinds := make([]string, 0, len(by))
	for k := range by {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		c := *by[k]
		kr := KindReport{Counts: c}
		positives, negatives := c.TP+c.FN, c.FP+c.TN
		if positives > 0 {
			v := ratio(c.TP, positives)
			kr.Recall = &v
		}
		if negatives > 0 {
			v := ratio(c.FP, negatives)
			kr.FalsePositiveRate = &v
		}
		if positives > 0 && negatives > 0 && c.TP+c.FP > 0 {
			v := ratio(c.TP, c.TP+c.FP)
			kr.Precision = &v
		}
		r.ByKind[k] = kr
	}
	return r
}
