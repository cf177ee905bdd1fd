package main

import (
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/spf13/cobra"

	"github.com/dealreg/dealreg/domain/match"
)

func newMatchCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "match", Short: "Account matching tools"}
	var pairs []string
	var asJSON bool
	eval := &cobra.Command{
		Use:   "eval",
		Short: "Report the matcher's precision and recall on labelled pairs",
		Long: `eval reads labelled pairs (CSV with the header name_a,name_b,same,source,kind,
as testdata/company-names/dev.csv) and reports precision and recall
at the duplicate threshold (the partner is told at once) and at the possible
duplicate threshold (a reviewer looks), overall and per kind of pair.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ps []match.Pair
			for _, name := range pairs {
				got, err := readPairs(name)
				if err != nil {
					return err
				}
				ps = append(ps, got...)
			}
			report := match.Evaluate(ps)
			if asJSON {
				return printJSON(cmd.OutOrStdout(), report)
			}
			printReport(cmd.OutOrStdout(), len(ps), report)
			return nil
		},
	}
	eval.Flags().StringSliceVar(&pairs, "pairs", nil, "CSV file of labelled pairs (repeat, or separate with commas, to evaluate several together)")
	eval.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON (keys duplicate and possible)")
	_ = eval.MarkFlagRequired("pairs")
	cmd.AddCommand(eval)
	return cmd
}

// readPairs reads one CSV file of labelled pairs; a file with none is an error.
func readPairs(name string) ([]match.Pair, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ps, err := match.ReadPairs(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("%s holds no pairs", name)
	}
	return ps, nil
}

func printReport(w io.Writer, n int, r match.Report) {
	fmt.Fprintf(w, "%d pairs\n\n%-10s %9s %7s %6s %6s %6s %6s\n", n, "threshold", "precision", "recall", "tp", "fp", "fn", "tn")
	for _, t := range []struct {
		name string
		r    match.ThresholdReport
	}{{"duplicate", r.Duplicate}, {"possible", r.Possible}} {
		fmt.Fprintf(w, "%-10s %9.4f %7.4f %6d %6d %6d %6d\n", t.name, t.r.Precision, t.r.Recall, t.r.TP, t.r.FP, t.r.FN, t.r.TN)
	}
	kinds := make([]string, 0, len(r.Possible.ByKind))
	for k := range r.Possible.ByKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	fmt.Fprintf(w, "\nby kind (recall for positive kinds, false-positive rate for negative kinds)\n%-24s %5s %10s %10s\n", "kind", "n", "duplicate", "possible")
	for _, k := range kinds {
		d, p := r.Duplicate.ByKind[k], r.Possible.ByKind[k]
		fmt.Fprintf(w, "%-24s %5d %10s %10s\n", k, p.N, rate(d), rate(p))
	}
}

func rate(k match.KindReport) string {
	switch {
	case k.Recall != nil:
		return fmt.Sprintf("R %.3f", *k.Recall)
	case k.FalsePositiveRate != nil:
		return fmt.Sprintf("FPR %.3f", *k.FalsePositiveRate)
	}
	return "-"
}
