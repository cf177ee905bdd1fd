package proof

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Document formats, named in each document's "format" field.
const (
	ReceiptFormat     = "dealreg-receipt/v1"
	ReceiptListFormat = "dealreg-receipts/v1"
	BundleFormat      = "dealreg-dispute-bundle/v1"
	ConsistencyFormat = "dealreg-consistency/v1"
)

// Receipt proves that one event is in the ledger at its position: the leaf
// bytes exactly as hashed, the leaf index, the recorded time, an inclusion
// proof and a signed checkpoint whose tree covers the leaf.
type Receipt struct {
	Format string `json:"format"`
	// Event is the leaf decoded, for people; it must match Leaf.
	Event Event `json:"event"`
	// Leaf is the leaf's bytes (base64), what RFC 6962 hashes as
	// SHA-256(0x00 || leaf).
	Leaf       []byte    `json:"leaf"`
	LeafIndex  int64     `json:"leaf_index"`
	RecordedAt time.Time `json:"recorded_at"`
	// InclusionProof is the RFC 6962 audit path from the leaf to the
	// checkpoint's root, each hash base64, leaf level first.
	InclusionProof [][]byte `json:"inclusion_proof"`
	// Checkpoint is the signed note: origin, size, root, signature.
	Checkpoint string `json:"checkpoint"`
	// Consistency, when asked for (?since=N), links an older checkpoint
	// of size N to Checkpoint.
	Consistency *ConsistencyProof `json:"consistency,omitempty"`
}

// ConsistencyProof is an RFC 6962 consistency proof from a tree of FromSize
// leaves to the document's checkpoint.
type ConsistencyProof struct {
	FromSize int64    `json:"from_size"`
	Proof    [][]byte `json:"proof"`
}

// ReceiptList is every receipt of one registration that its reader may
// see, all against one checkpoint.
type ReceiptList struct {
	Format         string    `json:"format"`
	RegistrationID string    `json:"registration_id"`
	Receipts       []Receipt `json:"receipts"`
}

// Bundle is a dispute's proof for the reviewer's file: the competing
// claims' receipts and the decisions' receipts, all against one checkpoint,
// so their leaf indexes order them.
type Bundle struct {
	Format     string `json:"format"`
	ConflictID string `json:"conflict_id"`
	// Side is "all" for vendor staff and auditors, or the partner whose
	// side alone the bundle shows.
	Side        string            `json:"side"`
	Checkpoint  string            `json:"checkpoint"`
	Submissions []Receipt         `json:"submissions"`
	Decisions   []Receipt         `json:"decisions"`
	Consistency *ConsistencyProof `json:"consistency,omitempty"`
}

// Consistency links two checkpoints: the tree of FromSize leaves is a
// prefix of the tree Checkpoint signs.
type Consistency struct {
	Format   string   `json:"format"`
	FromSize int64    `json:"from_size"`
	ToSize   int64    `json:"to_size"`
	Proof    [][]byte `json:"proof"`
	// Checkpoint is the signed checkpoint of ToSize leaves.
	Checkpoint string `json:"checkpoint"`
	// FromCheckpoint is the server's signed checkpoint of FromSize
	// leaves, when it signed one of exactly that size.
	FromCheckpoint string `json:"from_checkpoint,omitempty"`
}

// Failure is a verification failure in plain words: what failed and why.
type Failure struct {
	What   string // "receipt", "submission 2", "checkpoint" …
	Reason string
}

func (f *Failure) Error() string { return f.What + ": " + f.Reason }

func fail(what, format string, args ...any) error {
	return &Failure{What: what, Reason: fmt.Sprintf(format, args...)}
}

// VerifiedEvent is an event a receipt proved, with the checkpoint it was
// proved against.
type VerifiedEvent struct {
	Label      string
	Leaf       Leaf
	Checkpoint Checkpoint
}

// Report is what a verified document proved.
type Report struct {
	Format     string
	Checkpoint Checkpoint
	Events     []VerifiedEvent
	// Older is set when an older checkpoint was shown consistent with
	// Checkpoint.
	Older *Checkpoint
}

func hashes(what string, raw [][]byte) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(raw))
	for i, h := range raw {
		if len(h) != tlog.HashSize {
			return nil, fail(what, "hash %d of the proof has %d bytes, a SHA-256 hash has 32", i+1, len(h))
		}
		copy(out[i][:], h)
	}
	return out, nil
}

// VerifyReceipt checks one receipt with the ledger's verifier key: the
// checkpoint's signature, that the event shown is the leaf, that the leaf
// is at the index and time it claims, and that the inclusion proof leads
// from the leaf to the signed root.
func VerifyReceipt(what string, r Receipt, v note.Verifier) (VerifiedEvent, error) {
	if r.Format != ReceiptFormat {
		return VerifiedEvent{}, fail(what, "format is %q, not %q", r.Format, ReceiptFormat)
	}
	c, err := OpenCheckpoint([]byte(r.Checkpoint), v)
	if err != nil {
		return VerifiedEvent{}, fail(what, "%v", err)
	}
	leaf, err := DecodeLeaf(r.Leaf)
	if err != nil {
		return VerifiedEvent{}, fail(what, "%v", err)
	}
	if err := sameEvent(r.Event, leaf); err != nil {
		return VerifiedEvent{}, fail(what, "%v: the event or the leaf bytes were changed", err)
	}
	if r.LeafIndex < 0 || uint64(r.LeafIndex) != leaf.Position {
		return VerifiedEvent{}, fail(what, "the receipt gives leaf index %d but the leaf bytes say the event is at position %d", r.LeafIndex, leaf.Position)
	}
	if at := time.Unix(0, leaf.RecordedAt).UTC(); !r.RecordedAt.Equal(at) {
		return VerifiedEvent{}, fail(what, "the receipt gives recorded time %s but the leaf bytes say %s", r.RecordedAt.Format(time.RFC3339Nano), at.Format(time.RFC3339Nano))
	}
	if r.LeafIndex >= c.Size {
		return VerifiedEvent{}, fail(what, "the checkpoint covers %d events, which does not include leaf %d", c.Size, r.LeafIndex)
	}
	proof, err := hashes(what, r.InclusionProof)
	if err != nil {
		return VerifiedEvent{}, err
	}
	if err := tlog.CheckRecord(proof, c.Size, c.Root, r.LeafIndex, tlog.RecordHash(r.Leaf)); err != nil {
		return VerifiedEvent{}, fail(what, "the inclusion proof does not lead from this leaf at index %d to the checkpoint's root hash: the event, its index or the proof was changed, or the event is not in this ledger", r.LeafIndex)
	}
	return VerifiedEvent{Label: what, Leaf: leaf, Checkpoint: c}, nil
}

// CheckConsistency checks that older's tree is a prefix of newer's with p.
func CheckConsistency(what string, older, newer Checkpoint, p *ConsistencyProof) error {
	switch {
	case older.Origin != newer.Origin:
		return fail(what, "the older checkpoint is of the log %q, the newer of %q", older.Origin, newer.Origin)
	case older.Size > newer.Size:
		return fail(what, "the older checkpoint covers %d events, more than the %d of the document's: give the older one as --checkpoint", older.Size, newer.Size)
	case older.Size == newer.Size:
		if older.Root != newer.Root {
			return fail(what, "two checkpoints of the same size %d have different root hashes: the ledger was rewritten (a fork)", older.Size)
		}
		return nil
	case p == nil:
		return fail(what, "the document carries no consistency proof from size %d: fetch one with GET /v1/ledger/consistency?from=%d&to=%d", older.Size, older.Size, newer.Size)
	case p.FromSize != older.Size:
		return fail(what, "the document's consistency proof starts at size %d, the older checkpoint has size %d", p.FromSize, older.Size)
	}
	proof, err := hashes(what, p.Proof)
	if err != nil {
		return err
	}
	if err := tlog.CheckTree(proof, newer.Size, newer.Root, older.Size, older.Root); err != nil {
		return fail(what, "the ledger was rewritten: the checkpoint of %d events does not extend the older checkpoint of %d events (the consistency proof fails), so events at or before position %d were changed or removed since the older checkpoint was signed", newer.Size, older.Size, older.Size-1)
	}
	return nil
}

// Verify checks a document (receipt, receipt list, bundle or consistency
// proof) with the ledger's verifier key and, if older is not nil, that the
// older checkpoint is consistent with the document's.
func Verify(raw []byte, v note.Verifier, older *Checkpoint) (Report, error) {
	var head struct {
		Format string `json:"format"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return Report{}, fail("file", "not a JSON document (%v)", err)
	}
	var rep Report
	rep.Format = head.Format
	var consistency *ConsistencyProof
	switch head.Format {
	case ReceiptFormat:
		var r Receipt
		if err := strictUnmarshal(raw, &r); err != nil {
			return Report{}, fail("receipt", "%v", err)
		}
		ev, err := VerifyReceipt("receipt", r, v)
		if err != nil {
			return Report{}, err
		}
		rep.Checkpoint, rep.Events, consistency = ev.Checkpoint, []VerifiedEvent{ev}, r.Consistency
	case ReceiptListFormat:
		var l ReceiptList
		if err := strictUnmarshal(raw, &l); err != nil {
			return Report{}, fail("receipts", "%v", err)
		}
		if len(l.Receipts) == 0 {
			return Report{}, fail("receipts", "the list holds no receipt")
		}
		for i, r := range l.Receipts {
			ev, err := VerifyReceipt(fmt.Sprintf("receipt %d", i+1), r, v)
			if err != nil {
				return Report{}, err
			}
			rep.Events = append(rep.Events, ev)
		}
		rep.Checkpoint, consistency = rep.Events[0].Checkpoint, l.Receipts[0].Consistency
		if err := sameCheckpoint(rep.Events); err != nil {
			return Report{}, err
		}
	case BundleFormat:
		var b Bundle
		if err := strictUnmarshal(raw, &b); err != nil {
			return Report{}, fail("bundle", "%v", err)
		}
		c, err := OpenCheckpoint([]byte(b.Checkpoint), v)
		if err != nil {
			return Report{}, fail("bundle checkpoint", "%v", err)
		}
		if len(b.Submissions) == 0 {
			return Report{}, fail("bundle", "it holds no submission's receipt")
		}
		for i, r := range b.Submissions {
			ev, err := VerifyReceipt(fmt.Sprintf("submission %d", i+1), r, v)
			if err != nil {
				return Report{}, err
			}
			rep.Events = append(rep.Events, ev)
		}
		for i, r := range b.Decisions {
			ev, err := VerifyReceipt(fmt.Sprintf("decision %d", i+1), r, v)
			if err != nil {
				return Report{}, err
			}
			rep.Events = append(rep.Events, ev)
		}
		for _, ev := range rep.Events {
			if ev.Checkpoint != c {
				return Report{}, fail(ev.Label, "it is proved against a checkpoint of %d events, not the bundle's checkpoint of %d events", ev.Checkpoint.Size, c.Size)
			}
		}
		rep.Checkpoint, consistency = c, b.Consistency
	case ConsistencyFormat:
		var d Consistency
		if err := strictUnmarshal(raw, &d); err != nil {
			return Report{}, fail("consistency", "%v", err)
		}
		c, err := OpenCheckpoint([]byte(d.Checkpoint), v)
		if err != nil {
			return Report{}, fail("consistency checkpoint", "%v", err)
		}
		if c.Size != d.ToSize {
			return Report{}, fail("consistency", "the document says to_size %d but its checkpoint covers %d events", d.ToSize, c.Size)
		}
		rep.Checkpoint, consistency = c, &ConsistencyProof{FromSize: d.FromSize, Proof: d.Proof}
		if d.FromCheckpoint != "" {
			from, err := OpenCheckpoint([]byte(d.FromCheckpoint), v)
			if err != nil {
				return Report{}, fail("consistency from_checkpoint", "%v", err)
			}
			if from.Size != d.FromSize {
				return Report{}, fail("consistency", "the document says from_size %d but its from_checkpoint covers %d events", d.FromSize, from.Size)
			}
			if err := CheckConsistency("consistency", from, c, consistency); err != nil {
				return Report{}, err
			}
			if older == nil {
				rep.Older = &from
			}
		} else if older == nil {
			return Report{}, fail("consistency", "the document holds no signed checkpoint of %d events: give the one you kept with --checkpoint", d.FromSize)
		}
	default:
		return Report{}, fail("file", "format %q is none of %s", head.Format, strings.Join([]string{ReceiptFormat, ReceiptListFormat, BundleFormat, ConsistencyFormat}, ", "))
	}
	if older != nil {
		if err := CheckConsistency("consistency with the older checkpoint", *older, rep.Checkpoint, consistency); err != nil {
			return Report{}, err
		}
		o := *older
		rep.Older = &o
	}
	return rep, nil
}

func sameCheckpoint(evs []VerifiedEvent) error {
	for _, ev := range evs[1:] {
		if ev.Checkpoint != evs[0].Checkpoint {
			return fail(ev.Label, "it is proved against a checkpoint of %d events, the first receipt against one of %d", ev.Checkpoint.Size, evs[0].Checkpoint.Size)
		}
	}
	return nil
}

func strictUnmarshal(raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("not a well-formed document (%v)", err)
	}
	return nil
}

// Order returns the events sorted by leaf index, first first: the ledger's
// order, which decides who registered first.
func Order(evs []VerifiedEvent) []VerifiedEvent {
	out := append([]VerifiedEvent(nil), evs...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Leaf.Position < out[j].Leaf.Position })
	return out
}
