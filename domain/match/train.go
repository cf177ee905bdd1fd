package match

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
)

// TrainOptions control Train. The zero value of a field takes the default
// given in its comment.
type TrainOptions struct {
	Folds int     // cross-validation folds; 5
	Seed  uint64  // shuffles organisations into folds; 1
	L2    float64 // ridge penalty on the fitted weights; 1
	// Gamma is the power the scaled IDF of a word is raised to; 5 (the
	// corpus is small: words of a few organisations must already weigh
	// much less than words of one).
	Gamma float64
	// PossibleRecall is the recall the possible threshold keeps on the
	// out-of-fold predictions; 0.905 (the goal is 0.90). About 7% of the
	// labelled same pairs share nothing a name matcher can see (Instacart
	// and Maplebear), so recall above 0.93 is out of reach.
	PossibleRecall float64
	// DuplicatePrecision is the precision the duplicate threshold keeps on
	// the out-of-fold predictions; 0.998.
	DuplicatePrecision float64
	Files              []string // recorded in the model file only
	// KindWeights weigh the pairs of some kinds more in the fit (kind ->
	// weight; others weigh 1).
	KindWeights map[string]float64
}

func (o TrainOptions) withDefaults() TrainOptions {
	if o.Folds == 0 {
		o.Folds = 5
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.L2 == 0 {
		o.L2 = 1
	}
	if o.Gamma == 0 {
		o.Gamma = 5
	}
	if o.KindWeights == nil {
		o.KindWeights = DefaultKindWeights
	}
	if o.PossibleRecall == 0 {
		o.PossibleRecall = 0.905
	}
	if o.DuplicatePrecision == 0 {
		o.DuplicatePrecision = 0.998
	}
	return o
}

// DefaultKindWeights weigh, in the fit, the hard negatives that cost most
// in a live claim book: a contained name that is another company (mostly a
// subsidiary: "Fresenius" and "Fresenius Medical Care") opens a conflict
// case on a free deal, and the held-back data has more of them than the
// dev pairs; a company against another's domain likewise. Weighing them
// more makes the model ask for more than containment before it flags.
var DefaultKindWeights = map[string]float64{"neg_name_contained": 3, "neg_domain": 3}

// Priors are the log-odds the model adds for account fields that labelled
// name pairs do not carry, set by hand: a shared company domain is strong
// evidence (a duplicate with any name evidence, on its own nearly one), a
// shared public host none, a different country a little against (a
// multinational registers in several), a shared tax ID decisive, two tax
// IDs of one country strong evidence of two legal entities (and such a
// pair is never a duplicate, see canBeSame).
var Priors = map[string]float64{
	"domain_equal":       5.5,
	"domain_label_equal": 3.5,
	"domain_differs":     -0.5,
	"public_host":        0,
	"country_same":       0.3,
	"country_differs":    -1.2,
	"tax_id_equal":       12,
	"tax_id_differs":     -4,
}

// CrossValidation is the result of k-fold cross-validation: every pair
// scored by the model trained on the other folds (folds group the pairs by
// organisation, so that no organisation is scored by a model that saw its
// names), and the report at the thresholds chosen on those scores.
type CrossValidation struct {
	Folds  int
	Scores []float64 // out-of-fold score of each pair, in input order
	Report Report
}

// trainPair is a labelled pair prepared for training.
type trainPair struct {
	f        *facts
	same     bool
	can      bool // canBeSame
	any      bool // hasEvidence
	wt       float64
	fold     int
	orgs     [2]int // organisations of the two names
	orgFolds [2]int // the folds of those organisations
}

// Train fits the scoring model on labelled pairs: word weights from the
// organisations the pairs name, a logistic regression of the features, and
// the duplicate and possible thresholds chosen on out-of-fold predictions
// of k-fold cross-validation. It is deterministic: the same pairs and
// options give the same model, byte for byte.
func Train(pairs []Pair, opt TrainOptions) (*Model, *CrossValidation, error) {
	opt = opt.withDefaults()
	if opt.Folds < 2 {
		return nil, nil, errors.New("match: train: want at least 2 folds")
	}
	tps, orgWords := prepareTraining(pairs, opt)
	orgSets := make([]map[string]bool, len(orgWords))
	for org, ws := range orgWords {
		orgSets[org] = setOf(strings.Join(ws, " "))
	}
	var npos int
	for _, p := range tps {
		if p.same {
			npos++
		}
	}
	if npos == 0 || npos == len(tps) {
		return nil, nil, errors.New("match: train: need both same and different pairs")
	}
	scores := make([]float64, len(tps))
	for k := range opt.Folds {
		in := func(p trainPair) bool { return p.fold != k }
		words := corpusWeights(tps, orgWords, orgSets, in, k, opt.Gamma)
		w, err := fit(tps, words, in, opt.L2)
		if err != nil {
			return nil, nil, fmt.Errorf("match: train: fold %d: %w", k+1, err)
		}
		for i, p := range tps {
			if p.fold == k {
				v := featurize(p.f, words.forPair(p))
				scores[i] = math.Round(sigmoid(w.logit(&v))*1e6) / 1e6
				if !p.any {
					scores[i] = math.Min(scores[i], noEvidenceCap)
				}
			}
		}
	}
	dup, pos := chooseThresholds(tps, scores, opt)
	for i, p := range tps {
		if scores[i] >= dup && !p.can {
			scores[i] = math.Round((dup-1e-6)*1e6) / 1e6
		}
	}
	cv := &CrossValidation{Folds: opt.Folds, Scores: scores, Report: evaluateScores(pairs, scores, dup, pos)}

	all := func(trainPair) bool { return true }
	words := corpusWeights(tps, orgWords, orgSets, all, -1, opt.Gamma)
	w, err := fit(tps, words, all, opt.L2)
	if err != nil {
		return nil, nil, fmt.Errorf("match: train: %w", err)
	}
	var f modelFile
	f.Comment = "Account-matching model: logistic regression over pair features, trained by `dealreg match train` (make train). Do not edit by hand; see docs/matching.md."
	f.Bias = round6(w.bias)
	f.Weights, f.Priors = map[string]float64{}, map[string]float64{}
	for i, n := range featureNames {
		if i < learnedFeatures {
			f.Weights[n] = round6(w.weights[i])
		} else {
			f.Priors[n] = Priors[n]
		}
	}
	f.Thresholds.Duplicate, f.Thresholds.Possible = dup, pos
	f.Words.Organisations, f.Words.Gamma = words.all.docs, words.all.gamma
	f.Words.DF = map[string]int{}
	for word, n := range words.all.df {
		if n >= 1 {
			f.Words.DF[word] = n
		}
	}
	f.Training = &TrainingInfo{Pairs: len(pairs), Files: opt.Files, Folds: opt.Folds, Seed: opt.Seed, L2: opt.L2, CVSummary: cv.Report.Summary()}
	m, err := modelFromFile(f)
	if err != nil {
		return nil, nil, err
	}
	return m, cv, nil
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// prepareTraining compares every pair once, groups names into
// organisations (names joined by a "same" pair are one) and assigns
// organisations to folds. It returns the words of each organisation.
func prepareTraining(pairs []Pair, opt TrainOptions) ([]trainPair, [][]string) {
	keyOf := func(a Account) string {
		if strings.TrimSpace(a.Name) != "" {
			if n := Normalise(a.Name); n != "" {
				return "n:" + n
			}
		}
		return "d:" + parseDomain(a.Domain).registrable
	}
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		p, ok := parent[x]
		if !ok {
			parent[x] = x
			return x
		}
		if p == x {
			return x
		}
		r := find(p)
		parent[x] = r
		return r
	}
	for _, p := range pairs {
		ra, rb := find(keyOf(p.A)), find(keyOf(p.B))
		if p.Same && ra != rb {
			if rb < ra {
				ra, rb = rb, ra
			}
			parent[rb] = ra
		}
	}
	roots := map[string]int{}
	var rootList []string
	orgOf := func(a Account) int {
		r := find(keyOf(a))
		id, ok := roots[r]
		if !ok {
			id = len(rootList)
			roots[r] = id
			rootList = append(rootList, r)
		}
		return id
	}
	tps := make([]trainPair, len(pairs))
	orgSets := map[int]map[string]bool{}
	addWords := func(org int, acc Account) {
		if strings.TrimSpace(acc.Name) == "" {
			return
		}
		n := prepareName(acc.Name)
		set := orgSets[org]
		if set == nil {
			set = map[string]bool{}
			orgSets[org] = set
		}
		for _, t := range n.core {
			set[t.text] = true
		}
		if n.alt != nil {
			for _, t := range n.alt.core {
				set[t.text] = true
			}
		}
	}
	for i, p := range pairs {
		a, b := p.A, p.B
		if accountLess(b, a) {
			a, b = b, a
		}
		f := factsOf(prepareAccount(a), prepareAccount(b))
		v := featurize(f, nil)
		tps[i] = trainPair{f: f, same: p.Same, can: canBeSame(&v), any: hasEvidence(&v), wt: 1}
		if w, ok := opt.KindWeights[p.Kind]; ok {
			tps[i].wt = w
		}
		// The fold follows the first name as written in the file, so
		// that all spellings of one organisation land in one fold.
		tps[i].orgs = [2]int{orgOf(p.A), orgOf(p.B)}
		addWords(tps[i].orgs[0], p.A)
		addWords(tps[i].orgs[1], p.B)
	}
	// Organisations are shuffled into folds in a fixed order: sorted keys,
	// then a seeded permutation.
	order := make([]int, len(rootList))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return rootList[order[i]] < rootList[order[j]] })
	r := rand.New(rand.NewPCG(opt.Seed, 0x6d61746368))
	r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	fold := make([]int, len(rootList))
	for i, org := range order {
		fold[org] = i % opt.Folds
	}
	for i := range tps {
		tps[i].fold = fold[tps[i].orgs[0]]
		tps[i].orgFolds = [2]int{fold[tps[i].orgs[0]], fold[tps[i].orgs[1]]}
	}
	orgWords := make([][]string, len(rootList))
	for org, set := range orgSets {
		ws := make([]string, 0, len(set))
		for w := range set {
			ws = append(ws, w)
		}
		sort.Strings(ws)
		orgWords[org] = ws
	}
	return tps, orgWords
}

// corpus is the word counts of the organisations a model is fitted on,
// and which organisations they count.
type corpus struct {
	all     *wordWeights
	counted []bool            // per organisation: counted in all
	orgSets []map[string]bool // per organisation: its words
}

// corpusWeights counts, for each word, the organisations that use it among
// those named in the pairs selected by in, leaving out the organisations of
// fold heldOut (-1: none): an organisation the model is tested on must be
// one it never saw, not even as the other side of a pair it was fitted on.
func corpusWeights(tps []trainPair, orgWords [][]string, orgSets []map[string]bool, in func(trainPair) bool, heldOut int, gamma float64) *corpus {
	c := &corpus{counted: make([]bool, len(orgWords)), orgSets: orgSets}
	docs := 0
	df := map[string]int{}
	for _, p := range tps {
		if !in(p) {
			continue
		}
		for j, org := range p.orgs {
			if c.counted[org] || len(orgWords[org]) == 0 || p.orgFolds[j] == heldOut {
				continue
			}
			c.counted[org] = true
			docs++
			for _, w := range orgWords[org] {
				df[w]++
			}
		}
	}
	c.all = newWordWeights(docs, df, gamma)
	return c
}

// forPair is the word weights a pair is featurized with: the counts
// without the pair's own organisations. A pair the model will judge is of
// organisations its corpus does not hold (a new claim, and mostly a new
// candidate), so a word counts as common only when *other* organisations
// use it: "Fresenius" against "Fresenius Medical Care" is a word of a
// brand family only if a third organisation uses it too.
func (c *corpus) forPair(p trainPair) *wordWeights {
	w := *c.all
	w.less = func(word string) int {
		n := 0
		for j, org := range p.orgs {
			if c.counted[org] && c.orgSets[org][word] && (j == 0 || org != p.orgs[0]) {
				n++
			}
		}
		return n
	}
	return &w
}

// fitted is a fitted logistic regression.
type fitted struct {
	bias    float64
	weights [numFeatures]float64
}

func (w *fitted) logit(v *vector) float64 {
	z := w.bias
	for i, x := range v.x {
		z += w.weights[i] * x
	}
	return z
}

// fit fits a logistic regression of the learned features by Newton's
// method (iteratively reweighted least squares) with a ridge penalty l2 on
// the weights (not the bias). The priors enter as a fixed offset.
func fit(tps []trainPair, words *corpus, in func(trainPair) bool, l2 float64) (*fitted, error) {
	const d = learnedFeatures + 1 // weights, then the bias
	var rows [][d]float64
	var ys, offsets, wts []float64
	for _, p := range tps {
		if !in(p) {
			continue
		}
		v := featurize(p.f, words.forPair(p))
		var row [d]float64
		copy(row[:learnedFeatures], v.x[:learnedFeatures])
		row[learnedFeatures] = 1
		off := 0.0
		for i := learnedFeatures; i < numFeatures; i++ {
			off += Priors[featureNames[i]] * v.x[i]
		}
		rows = append(rows, row)
		offsets = append(offsets, off)
		wts = append(wts, p.wt)
		y := 0.0
		if p.same {
			y = 1
		}
		ys = append(ys, y)
	}
	var beta [d]float64
	for iter := 0; iter < 100; iter++ {
		var grad [d]float64
		var hess [d][d]float64
		for r, row := range rows {
			z := offsets[r]
			for j := range d {
				z += beta[j] * row[j]
			}
			p := sigmoid(z)
			wt := wts[r] * p * (1 - p)
			for j := range d {
				if row[j] == 0 {
					continue
				}
				grad[j] += wts[r] * (ys[r] - p) * row[j]
				for k := range d {
					hess[j][k] += wt * row[j] * row[k]
				}
			}
		}
		for j := range learnedFeatures {
			grad[j] -= l2 * beta[j]
			hess[j][j] += l2
		}
		hess[d-1][d-1] += 1e-9
		step, err := solve(hess, grad)
		if err != nil {
			return nil, err
		}
		delta := 0.0
		for j := range d {
			beta[j] += step[j]
			delta = math.Max(delta, math.Abs(step[j]))
		}
		if delta < 1e-9 {
			break
		}
	}
	w := &fitted{bias: beta[learnedFeatures]}
	copy(w.weights[:learnedFeatures], beta[:learnedFeatures])
	for i := learnedFeatures; i < numFeatures; i++ {
		w.weights[i] = Priors[featureNames[i]]
	}
	return w, nil
}

// solve solves a·x = b by Gaussian elimination with partial pivoting.
func solve(a [learnedFeatures + 1][learnedFeatures + 1]float64, b [learnedFeatures + 1]float64) ([learnedFeatures + 1]float64, error) {
	const n = learnedFeatures + 1
	for c := range n {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		if math.Abs(a[p][c]) < 1e-12 {
			return b, errors.New("singular system (a feature never occurs?)")
		}
		a[c], a[p] = a[p], a[c]
		b[c], b[p] = b[p], b[c]
		for r := c + 1; r < n; r++ {
			f := a[r][c] / a[c][c]
			for k := c; k < n; k++ {
				a[r][k] -= f * a[c][k]
			}
			b[r] -= f * b[c]
		}
	}
	var x [n]float64
	for r := n - 1; r >= 0; r-- {
		s := b[r]
		for k := r + 1; k < n; k++ {
			s -= a[r][k] * x[k]
		}
		x[r] = s / a[r][r]
	}
	return x, nil
}

// chooseThresholds picks, on out-of-fold scores, the highest possible
// threshold that keeps opt.PossibleRecall and the lowest duplicate
// threshold whose precision reaches opt.DuplicatePrecision.
func chooseThresholds(tps []trainPair, scores []float64, opt TrainOptions) (dup, pos float64) {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool { return scores[idx[i]] > scores[idx[j]] })
	var npos int
	for _, p := range tps {
		if p.same {
			npos++
		}
	}
	// Pairs that cannot be Same (canBeSame) count as not predicted at the
	// duplicate threshold.
	tp, fp, dtp, dfp := 0, 0, 0, 0
	dup, pos = 0.999999, 0
	for i := 0; i < len(idx); {
		s := scores[idx[i]]
		canHere := false
		for ; i < len(idx) && scores[idx[i]] == s; i++ {
			p := tps[idx[i]]
			if p.same {
				tp++
			} else {
				fp++
			}
			if p.can && p.same {
				dtp++
				canHere = true
			} else if p.can {
				dfp++
				canHere = true
			}
		}
		if s <= 0 {
			break
		}
		if canHere && s >= 0.5 && float64(dtp)/float64(dtp+dfp) >= opt.DuplicatePrecision {
			dup = s
		}
		if pos == 0 && float64(tp)/float64(npos) >= opt.PossibleRecall {
			pos = s
		}
	}
	if pos == 0 || pos > dup {
		pos = math.Min(dup, math.Max(pos, 1e-6))
	}
	return dup, pos
}
