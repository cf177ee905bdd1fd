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
	cmd.AddCommand(newMatchEvalCommand(), newMatchTrainCommand())
	return cmd
}

// evalOutput is what `match eval --json` prints: the committed model's
// report on the pairs and, with --cv, the cross-validated one.
type evalOutput struct {
	match.Report
	OutOfFold *match.Report `json:"out_of_fold,omitempty"`
}

func newMatchEvalCommand() *cobra.Command {
	var pairs []string
	var asJSON bool
	var folds int
	eval := &cobra.Command{
		Use:   "eval",
		Short: "Report the matcher's precision and recall on labelled pairs",
		Long: `eval reads labelled pairs (CSV with the header name_a,name_b,same,source,kind,
as testdata/company-names/dev.csv) and reports, for the committed model,
precision and recall at the duplicate threshold (the partner is told at once)
and at the possible duplicate threshold (a reviewer looks), the precision
reweighted to the real-world mix (57% of candidate pairs are different
organisations), and recall or false-positive rate per kind of pair.

With --cv k it also trains k models, each leaving out one fold of
organisations, and reports their out-of-fold predictions at thresholds
chosen on them: the figures to expect on organisations the model never saw.
On the pairs the committed model was trained on, those are the honest ones.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ps, err := readAllPairs(pairs)
			if err != nil {
				return err
			}
			out := evalOutput{Report: match.Evaluate(ps)}
			if folds > 0 {
				cv, err := match.CrossValidate(ps, match.TrainOptions{Folds: folds})
				if err != nil {
					return err
				}
				out.OutOfFold = &cv
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%d pairs (%.0f%% different), model %s\n", len(ps), 100*out.NegativeShare, out.Model)
			printReport(w, out.Report)
			if out.OutOfFold != nil {
				fmt.Fprintf(w, "\ncross-validated: %d folds by organisation, out-of-fold predictions\n", folds)
				printReport(w, *out.OutOfFold)
			}
			return nil
		},
	}
	eval.Flags().StringSliceVar(&pairs, "pairs", nil, "CSV file of labelled pairs (repeat, or separate with commas, to evaluate several together)")
	eval.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON (keys duplicate and possible; out_of_fold with --cv)")
	eval.Flags().IntVar(&folds, "cv", 0, "also cross-validate with this many folds (0: no)")
	_ = eval.MarkFlagRequired("pairs")
	return eval
}

func newMatchTrainCommand() *cobra.Command {
	var pairs []string
	var out string
	var opt match.TrainOptions
	train := &cobra.Command{
		Use:   "train",
		Short: "Train the matcher's scoring model on labelled pairs",
		Long: `train fits the account matcher's model on labelled pairs: word weights from
the organisations the pairs name, a logistic regression of the pair features,
and the duplicate and possible thresholds, chosen on the out-of-fold
predictions of k-fold cross-validation (folds group pairs by organisation).
It prints the cross-validated figures and writes the model file, which the
matcher embeds (domain/match/model.json); the same pairs and options give the
same file, byte for byte.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ps, err := readAllPairs(pairs)
			if err != nil {
				return err
			}
			opt.Files = pairs
			m, cv, err := match.Train(ps, opt)
			if err != nil {
				return err
			}
			body, err := m.MarshalJSON()
			if err != nil {
				return err
			}
			if err := os.WriteFile(out, body, 0o644); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%d pairs, model %s written to %s\n\ncross-validated: %d folds by organisation, out-of-fold predictions\n", len(ps), m.Version(), out, cv.Folds)
			printReport(w, cv.Report)
			return nil
		},
	}
	train.Flags().StringSliceVar(&pairs, "pairs", nil, "CSV file of labelled pairs (repeat, or separate with commas)")
	train.Flags().StringVar(&out, "out", "domain/match/model.json", "model file to write")
	train.Flags().IntVar(&opt.Folds, "folds", 5, "cross-validation folds")
	train.Flags().Uint64Var(&opt.Seed, "seed", 1, "seed of the assignment of organisations to folds")
	_ = train.MarkFlagRequired("pairs")
	return train
}

func readAllPairs(names []string) ([]match.Pair, error) {
	var ps []match.Pair
	for _, name := range names {
		got, err := readPairs(name)
		if err != nil {
			return nil, err
		}
		ps = append(ps, got...)
	}
	return ps, nil
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

func printReport(w io.Writer, r match.Report) {
	fmt.Fprintf(w, "\n%-10s %9s %9s %7s %13s %6s %6s %6s %6s\n", "threshold", "score>=", "precision", "recall", "real-world P", "tp", "fp", "fn", "tn")
	for _, t := range []struct {
		name string
		r    match.ThresholdReport
	}{{"duplicate", r.Duplicate}, {"possible", r.Possible}} {
		fmt.Fprintf(w, "%-10s %9.6f %9.4f %7.4f %13.4f %6d %6d %6d %6d\n", t.name, t.r.Threshold, t.r.Precision, t.r.Recall, t.r.RealWorldPrecision, t.r.TP, t.r.FP, t.r.FN, t.r.TN)
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
