// Package match decides whether two partner registrations concern the same
// customer account, so that the duplicate check on a new deal registration can
// flag conflicting claims before a channel manager approves them.
//
// Company names arrive as partners type them: with or without accents, legal
// forms (S.A., GmbH, Co., Ltd.), punctuation, typos, acronyms, translations,
// or only a web domain. Compare turns two accounts into a score in [0,1] (the
// probability, under the committed Model, that they are one organisation), a
// Verdict (NoMatch, Possible, Same) and the Signals that led to it, each with
// what it added to the log-odds, which is what a reviewer sees. Train fits
// the model on labelled pairs with cross-validation (docs/matching.md). CompareWith also consults Knowledge:
// decisions reviewers already took (aliases, "not the same" pairs, extra
// domains). Index generates candidates among many claims through inverted
// indexes so that a duplicate check stays fast at millions of claims, and
// Evaluate measures the matcher against labelled name pairs.
//
// The package is pure: no I/O, no clocks, no global mutable state, and every
// result is deterministic (no dependence on map iteration order).
package match
