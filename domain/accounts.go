package domain

import (
	"strings"
	"time"
)

// AccountsStream is the stream of reviewers' decisions about accounts: which
// names are the same customer, which are not, and which are subsidiaries of
// which. Duplicate detection learns from it.
const AccountsStream = "accounts"

// AccountMatchDecided records a reviewer's decision that two account names
// (or a name and a website domain) are, or are not, the same customer.
type AccountMatchDecided struct {
	A         string    `json:"a"`
	B         string    `json:"b"`
	Same      bool      `json:"same"`
	Note      string    `json:"note,omitempty"`
	DecidedBy string    `json:"decided_by"`
	At        time.Time `json:"at"`
}

// SubsidiaryLinked records that Subsidiary belongs to Parent (headquarters).
// A named-account claim on the parent then covers the subsidiary too.
type SubsidiaryLinked struct {
	Parent     string    `json:"parent"`
	Subsidiary string    `json:"subsidiary"`
	Note       string    `json:"note,omitempty"`
	LinkedBy   string    `json:"linked_by"`
	At         time.Time `json:"at"`
}

// EventType returns "AccountMatchDecided".
func (AccountMatchDecided) EventType() string { return "AccountMatchDecided" }

// EventType returns "SubsidiaryLinked".
func (SubsidiaryLinked) EventType() string { return "SubsidiaryLinked" }

// Limit of account names in decisions.
const MaxAccountNameLen = MaxCompanyNameLen

func validateAccountPair(v *validator, fa, a, fb, b string) {
	v.requiredText(fa, a, MaxAccountNameLen, false)
	v.requiredText(fb, b, MaxAccountNameLen, false)
	if strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b)) && strings.TrimSpace(a) != "" {
		v.add(fb, FieldInvalid, "must differ from "+fa)
	}
}

// DecideAccountMatch records that a and b are (same) or are not the same
// account. Reviewers decide.
func DecideAccountMatch(actor Actor, a, b string, same bool, note string, now time.Time) ([]Event, error) {
	if err := reviewerOnly(actor, "decide account matches"); err != nil {
		return nil, err
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	var v validator
	validateAccountPair(&v, "a", a, "b", b)
	v.text("note", note, MaxNoteLen, true)
	if err := v.err("the account decision is invalid"); err != nil {
		return nil, err
	}
	return []Event{AccountMatchDecided{A: a, B: b, Same: same, Note: note, DecidedBy: actor.ID, At: canonicalTime(now)}}, nil
}

// LinkSubsidiary records that subsidiary belongs to parent.
func LinkSubsidiary(actor Actor, parent, subsidiary, note string, now time.Time) ([]Event, error) {
	if err := reviewerOnly(actor, "link subsidiaries"); err != nil {
		return nil, err
	}
	parent, subsidiary = strings.TrimSpace(parent), strings.TrimSpace(subsidiary)
	var v validator
	validateAccountPair(&v, "parent", parent, "subsidiary", subsidiary)
	v.text("note", note, MaxNoteLen, true)
	if err := v.err("the subsidiary link is invalid"); err != nil {
		return nil, err
	}
	return []Event{SubsidiaryLinked{Parent: parent, Subsidiary: subsidiary, Note: note, LinkedBy: actor.ID, At: canonicalTime(now)}}, nil
}

func reviewerOnly(actor Actor, action string) error {
	if err := actor.Validate(); err != nil {
		return err
	}
	if !actor.Role.Reviewer() {
		return Errorf(EFORBIDDEN, "role %q may not %s", actor.Role, action)
	}
	return nil
}
