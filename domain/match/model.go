package match

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Model is the scoring model of the matcher: a logistic regression over the
// features of a pair (featureNames), the word weights it was trained with,
// and the two thresholds a verdict is read from. Its Version names it in
// every verdict, so that a verdict can be traced to the model that decided
// it. A Model is immutable once built.
type Model struct {
	version string
	bias    float64
	weights [numFeatures]float64
	words   *wordWeights
	dup     float64 // probability at or above which a pair is Same
	pos     float64 // ... Possible
	file    modelFile
}

// modelFile is the committed form of a Model (domain/match/model.json).
type modelFile struct {
	// Version is derived from the rest (see modelVersion) and checked on load.
	Version string  `json:"version"`
	Comment string  `json:"comment,omitempty"`
	Bias    float64 `json:"bias"`
	// Weights are fitted on labelled pairs; Priors are set by hand for the
	// account fields the pairs do not carry (domains, countries, tax IDs of
	// both sides). Both are in log-odds.
	Weights    map[string]float64 `json:"weights"`
	Priors     map[string]float64 `json:"priors"`
	Thresholds struct {
		Duplicate float64 `json:"duplicate"`
		Possible  float64 `json:"possible"`
	} `json:"thresholds"`
	// Words are the organisation counts per word of the training corpus
	// (a word no organisation used is left out). A word weighs by how many
	// organisations use it besides the one being compared: one other
	// already makes it weigh less than a word of its own.
	Words struct {
		Organisations int            `json:"organisations"`
		Gamma         float64        `json:"gamma"`
		DF            map[string]int `json:"df"`
	} `json:"words"`
	// Training records how the model was made: data, folds, seed and the
	// cross-validated figures the thresholds were chosen on.
	Training *TrainingInfo `json:"training,omitempty"`
}

// TrainingInfo says how a model was trained.
type TrainingInfo struct {
	Pairs     int      `json:"pairs"`
	Files     []string `json:"files,omitempty"`
	Folds     int      `json:"folds"`
	Seed      uint64   `json:"seed"`
	L2        float64  `json:"l2"`
	CVSummary string   `json:"cv_summary,omitempty"`
}

//go:embed model.json
var embeddedModel []byte

// loadDefaultModel parses the committed model once, when first needed (so
// that `dealreg match train` can replace a broken one).
var loadDefaultModel = sync.OnceValue(func() *Model {
	m, err := ParseModel(embeddedModel)
	if err != nil {
		panic("match: embedded model.json: " + err.Error())
	}
	return m
})

// DefaultModel returns the committed model (model.json) that Compare and
// Index use.
func DefaultModel() *Model { return loadDefaultModel() }

// ModelVersion is the version of the committed model, recorded with every
// verdict it decides.
func ModelVersion() string { return loadDefaultModel().version }

// ParseModel reads a model file, checking that every feature has a weight
// and that the version matches the content.
func ParseModel(data []byte) (*Model, error) {
	var f modelFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	m, err := modelFromFile(f)
	if err != nil {
		return nil, err
	}
	if f.Version != m.version {
		return nil, fmt.Errorf("model: version %q does not match its content (%s)", f.Version, m.version)
	}
	return m, nil
}

func modelFromFile(f modelFile) (*Model, error) {
	m := &Model{bias: f.Bias, dup: f.Thresholds.Duplicate, pos: f.Thresholds.Possible}
	for i, n := range featureNames {
		w, ok := f.Weights[n]
		if i >= learnedFeatures {
			w, ok = f.Priors[n]
		}
		if !ok {
			return nil, fmt.Errorf("model: no weight for feature %q", n)
		}
		m.weights[i] = w
	}
	if len(f.Weights)+len(f.Priors) != numFeatures {
		return nil, fmt.Errorf("model: %d weights for %d features", len(f.Weights)+len(f.Priors), numFeatures)
	}
	if !(0 < m.pos && m.pos <= m.dup && m.dup < 1) {
		return nil, fmt.Errorf("model: thresholds possible %v, duplicate %v: want 0 < possible <= duplicate < 1", m.pos, m.dup)
	}
	m.words = newWordWeights(f.Words.Organisations, f.Words.DF, f.Words.Gamma)
	m.version = modelVersion(f)
	f.Version = m.version
	m.file = f
	return m, nil
}

// modelVersion is "lr-" and the first 12 hex digits of the SHA-256 of what
// decides scores (bias, weights, priors, thresholds, word counts) in a
// canonical form, so two models score alike exactly when their versions
// are equal.
func modelVersion(f modelFile) string {
	var b strings.Builder
	num := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	b.WriteString("bias " + num(f.Bias) + "\n")
	for _, n := range featureNames {
		b.WriteString(n + " " + num(f.Weights[n]) + " " + num(f.Priors[n]) + "\n")
	}
	b.WriteString("thresholds " + num(f.Thresholds.Duplicate) + " " + num(f.Thresholds.Possible) + "\n")
	b.WriteString("organisations " + strconv.Itoa(f.Words.Organisations) + " gamma " + num(f.Words.Gamma) + "\n")
	words := make([]string, 0, len(f.Words.DF))
	for w := range f.Words.DF {
		words = append(words, w)
	}
	sort.Strings(words)
	for _, w := range words {
		b.WriteString(w + " " + strconv.Itoa(f.Words.DF[w]) + "\n")
	}
	sum := sha256.Sum256([]byte(b.String()))
	return "lr-" + hex.EncodeToString(sum[:6])
}

// Version names the model.
func (m *Model) Version() string { return m.version }

// Thresholds returns the scores at or above which a pair is a duplicate
// (Same) and a possible duplicate.
func (m *Model) Thresholds() (duplicate, possible float64) { return m.dup, m.pos }

// MarshalJSON writes the model file.
func (m *Model) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m.file); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// capScore keeps a pair that cannot be a duplicate (canBeSame) just below
// the duplicate threshold, and one with nothing in common at noEvidenceCap.
func (m *Model) capScore(score float64, v *vector) float64 {
	if !hasEvidence(v) {
		return math.Min(score, noEvidenceCap)
	}
	if score >= m.dup && !canBeSame(v) {
		return math.Round((m.dup-1e-6)*1e6) / 1e6
	}
	return score
}

// verdict maps a score to a verdict at the model's thresholds.
func (m *Model) verdict(score float64) Verdict {
	switch {
	case score >= m.dup:
		return Same
	case score >= m.pos:
		return Possible
	}
	return NoMatch
}

// logit is the model's log-odds for a feature vector.
func (m *Model) logit(v *vector) float64 {
	z := m.bias
	for i, x := range v.x {
		if x != 0 {
			z += m.weights[i] * x
		}
	}
	return z
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// signals lists the contribution of each feature present, in log-odds,
// strongest first, with the words a reviewer reads.
func (m *Model) signals(v *vector) []Signal {
	var out []Signal
	for i, x := range v.x {
		if x == 0 {
			continue
		}
		c := round2(m.weights[i] * x)
		if c == 0 && i != fPublicHost {
			continue
		}
		out = append(out, Signal{Name: featureNames[i], Score: c, Detail: describeFeature(i, x, v.detail[i])})
	}
	out = append(out, Signal{Name: "baseline", Score: round2(m.bias), Detail: "starting point: most names that look alike are different organisations"})
	return out
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

func quoted(s string) string {
	if s == "" {
		return ""
	}
	return " '" + s + "'"
}

// describeFeature says in a reviewer's words what feature i with value x
// found.
func describeFeature(i int, x float64, detail string) string {
	q := quoted(detail)
	switch i {
	case fNameEqual:
		return "same name once spelled alike" + q
	case fSameWords:
		if x < 1 {
			return "same words, some misspelled" + q
		}
		return "same words in another order or form" + q
	case fAcronymWords:
		return "same words, some written as an acronym" + q
	case fContained:
		return "one name contained in the other" + q
	case fContainedWeight:
		if x < 0.5 {
			return "the contained name is common words" + q
		}
		return "the contained name is distinctive" + q
	case fContainedExtra:
		return "words the contained name lacks" + q
	case fContainedGeneric:
		return "the contained name is only generic words" + q
	case fPartial:
		return "names share some words, not all" + q
	case fPartialShared:
		if x < 0.5 {
			return "shared common word" + q
		}
		return "shared distinctive word" + q
	case fPartialExtraMax:
		return "words only one name has" + q
	case fPartialExtraMin:
		return "words of its own in the other name too" + q
	case fSharedLead:
		return "names start with the same word" + q
	case fTrailing:
		return "words after the legal form set aside" + q
	case fNoWordShared:
		return "no word in common" + q
	case fTypo:
		return "names differ by a typo" + q
	case fCharSim:
		return fmt.Sprintf("letters %.0f%% alike%s", 100*x, q)
	case fAcronym:
		return "acronym" + q
	case fParenthesised:
		return "name in parentheses matches the other name" + q
	case fQualifierOne:
		return "one name has a qualifier in parentheses" + q
	case fQualifierBoth:
		return "different qualifiers in parentheses" + q
	case fLegalDiffers:
		return "different legal forms" + q
	case fNameVsDomain:
		return "a name against a bare web domain"
	case fDomainSpellsName:
		return "web domain spells the name" + q
	case fDomainPartial:
		return "web domain matches part of the name" + q
	case fDomainOwnWord:
		return "the web domain has a word the name lacks" + q
	case fPlacesDiffer:
		return "the names carry different places" + q
	case fDomainEqual:
		return "same domain" + q
	case fDomainLabelEqual:
		return "same domain under another suffix" + q
	case fDomainDiffers:
		return "different domains" + q
	case fPublicHost:
		return "shared public host proves nothing" + q
	case fCountrySame:
		return "same country" + q
	case fCountryDiffers:
		return "different country" + q
	case fTaxEqual:
		return "same tax ID"
	case fTaxDiffers:
		return "different tax IDs in one country"
	}
	return featureNames[i] + q
}

// Explain renders the signals of a result as a reviewer reads them:
// "shared distinctive word 'telefonica' +0.41; same domain +0.32; different
// country −0.20". Contributions are in log-odds; the verdict comes from
// their sum.
func (r Result) Explain() string {
	parts := make([]string, 0, len(r.Signals))
	for _, s := range r.Signals {
		parts = append(parts, s.Detail+" "+formatContribution(s.Score))
	}
	return strings.Join(parts, "; ")
}

func formatContribution(c float64) string {
	if c < 0 {
		return "−" + strconv.FormatFloat(-c, 'f', 2, 64)
	}
	return "+" + strconv.FormatFloat(c, 'f', 2, 64)
}
