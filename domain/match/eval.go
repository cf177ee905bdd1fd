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

// RealWorldNegativeShare is the share of candidate pairs that are
// different organisations in a live claim book; Report reweights its
// precision to it.
const RealWorldNegativeShare = 0.57

// Report is the evaluation of the matcher on labelled pairs at its two
// thresholds: "duplicate" counts a pair as predicted same when the score
// reaches the duplicate threshold (verdict Same), "possible" when it
// reaches the possible one (Possible or Same).
type Report struct {
	Model string `json:"model,omitempty"`
	// CrossValidated is set when the scores are out-of-fold predictions.
	CrossValidated bool `json:"cross_validated,omitempty"`
	Pairs          int  `json:"pairs"`
	// NegativeShare is the share of different pairs in the input.
	NegativeShare float64         `json:"negative_share"`
	Duplicate     ThresholdReport `json:"duplicate"`
	Possible      ThresholdReport `json:"possible"`
}

// ThresholdReport holds precision and recall over all pairs plus the same
// figures per kind of pair. RealWorldPrecision is the precision the
// matcher would have if different pairs were RealWorldNegativeShare of the
// input (their counts reweighted); recall does not depend on the mix.
type ThresholdReport struct {
	Threshold          float64 `json:"threshold"`
	Precision          float64 `json:"precision"`
	Recall             float64 `json:"recall"`
	RealWorldPrecision float64 `json:"real_world_precision"`
	FalsePositiveRate  float64 `json:"false_positive_rate"`
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

// Evaluate compares every pair with the committed model and reports
// precision and recall at its duplicate and possible thresholds.
func Evaluate(pairs []Pair) Report {
	scores := make([]float64, len(pairs))
	for i, p := range pairs {
		scores[i] = Compare(p.A, p.B).Score
	}
	m := DefaultModel()
	r := evaluateScores(pairs, scores, m.dup, m.pos)
	r.Model = m.version
	return r
}

// CrossValidate trains the model k times on the pairs (Train), each time
// leaving one fold of organisations out, and reports the out-of-fold
// predictions at the thresholds chosen on them: the figures to expect on
// organisations the model never saw.
func CrossValidate(pairs []Pair, opt TrainOptions) (Report, error) {
	_, cv, err := Train(pairs, opt)
	if err != nil {
		return Report{}, err
	}
	return cv.Report, nil
}

func evaluateScores(pairs []Pair, scores []float64, dup, pos float64) Report {
	byDup := map[string]*Counts{}
	byPos := map[string]*Counts{}
	var dupAll, posAll Counts
	for i, p := range pairs {
		for _, x := range []struct {
			by   map[string]*Counts
			all  *Counts
			pred bool
		}{{byDup, &dupAll, scores[i] >= dup}, {byPos, &posAll, scores[i] >= pos}} {
			c := x.by[p.Kind]
			if c == nil {
				c = &Counts{}
				x.by[p.Kind] = c
			}
			c.tally(p.Same, x.pred)
			x.all.tally(p.Same, x.pred)
		}
	}
	r := Report{Pairs: len(pairs), Duplicate: thresholdReport(dup, dupAll, byDup), Possible: thresholdReport(pos, posAll, byPos)}
	r.NegativeShare = ratio(posAll.FP+posAll.TN, posAll.N)
	return r
}

// Summary is the report in one line: precision and recall at both
// thresholds, the real-world precision and the false-positive rate of each
// negative kind at the possible threshold.
func (r Report) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "duplicate P %.4f R %.4f (real-world P %.4f); possible P %.4f R %.4f (real-world P %.4f)",
		r.Duplicate.Precision, r.Duplicate.Recall, r.Duplicate.RealWorldPrecision,
		r.Possible.Precision, r.Possible.Recall, r.Possible.RealWorldPrecision)
	kinds := make([]string, 0, len(r.Possible.ByKind))
	for k := range r.Possible.ByKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		if fpr := r.Possible.ByKind[k].FalsePositiveRate; fpr != nil {
			fmt.Fprintf(&b, "; FPR %s %.3f", k, *fpr)
		}
	}
	return b.String()
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

func thresholdReport(threshold float64, all Counts, by map[string]*Counts) ThresholdReport {
	r := ThresholdReport{
		Threshold:         threshold,
		Precision:         ratio(all.TP, all.TP+all.FP),
		Recall:            ratio(all.TP, all.TP+all.FN),
		FalsePositiveRate: ratio(all.FP, all.FP+all.TN),
		Counts:            all,
		ByKind:            map[string]KindReport{},
	}
	// Reweighted precision: expected false positives if negatives were
	// RealWorldNegativeShare of the pairs, positives the rest.
	if pos, neg := all.TP+all.FN, all.FP+all.TN; pos > 0 && neg > 0 {
		tpr, fpr := float64(all.TP)/float64(pos), float64(all.FP)/float64(neg)
		t, f := tpr*(1-RealWorldNegativeShare), fpr*RealWorldNegativeShare
		if t+f > 0 {
			r.RealWorldPrecision = t / (t + f)
		}
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
