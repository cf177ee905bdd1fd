package projections

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/dealreg/dealreg/domain"
)

// PolicyAck is a partner's acknowledgement of a published policy version.
type PolicyAck struct {
	PartnerID      string    `json:"partner_id"`
	AcknowledgedBy string    `json:"acknowledged_by"`
	At             time.Time `json:"at"`
}

// Policies is the projection of the program's policy: every version with
// its document and what happened to it (the policy stream folded into a
// domain.PolicyBook), and the partners' acknowledgements. It answers which
// version is in force at an instant, so that commands decide under it and
// views resolve the versions that events name. It is safe for concurrent
// use.
type Policies struct {
	tracker
	book *domain.PolicyBook
	acks map[int]map[string]PolicyAck // version -> partner -> acknowledgement
	rows *rowSet
}

var _ Handler = (*Policies)(nil)

// NewPolicies returns the projection of a ledger without policy events:
// version 1 (domain.DefaultPolicy) in force since the beginning.
func NewPolicies() *Policies {
	return &Policies{tracker: newTracker(), book: domain.NewPolicyBook(), acks: map[int]map[string]PolicyAck{}, rows: newRowSet("policies")}
}

// Rows of the projection: "e:<revision>" an event of the policy stream (as
// stored: type, schema version, data), "a:<version>:<partner>" an
// acknowledgement.
type storedPolicyEvent struct {
	Type    string          `json:"type"`
	Version int             `json:"schema_version"`
	Data    json.RawMessage `json:"data"`
}

// Load implements Handler.
func (p *Policies) Load(ctx context.Context, db *sql.DB) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rows.reset()
	p.book = domain.NewPolicyBook()
	clear(p.acks)
	err := LoadRows(ctx, db, p.rows.view, func(key string, body []byte) error {
		switch key[:2] {
		case "e:":
			var s storedPolicyEvent
			if err := json.Unmarshal(body, &s); err != nil {
				return err
			}
			ev, err := domain.DecodeEvent(s.Type, s.Version, s.Data)
			if err != nil {
				return err
			}
			return p.book.Apply(ev)
		case "a:":
			var a struct {
				Version int       `json:"version"`
				Ack     PolicyAck `json:"ack"`
			}
			if err := json.Unmarshal(body, &a); err != nil {
				return err
			}
			p.ack(a.Version, a.Ack)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("policies: %w", err)
	}
	return nil
}

func (p *Policies) ack(version int, a PolicyAck) {
	m := p.acks[version]
	if m == nil {
		m = map[string]PolicyAck{}
		p.acks[version] = m
	}
	m[a.PartnerID] = a
}

// ApplyBatch implements Handler.
func (p *Policies) ApplyBatch(b *Batch, rec domain.RecordedEvent) error {
	policy := rec.Stream == domain.PolicyStream
	if !policy && !strings.HasPrefix(rec.Stream, "policy-ack-") {
		p.mu.Lock()
		if rec.Position >= p.next {
			p.advance(rec.Position)
		}
		p.mu.Unlock()
		return nil
	}
	ev, err := decodeEvent(b, rec)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if rec.Position < p.next {
		return nil
	}
	switch e := ev.(type) {
	case domain.PolicyAcknowledged:
		a := PolicyAck{PartnerID: e.PartnerID, AcknowledgedBy: e.AcknowledgedBy, At: rec.RecordedAt}
		p.ack(e.Version, a)
		p.rows.mark(fmt.Sprintf("a:%08d:%s", e.Version, e.PartnerID), func() any {
			return struct {
				Version int       `json:"version"`
				Ack     PolicyAck `json:"ack"`
			}{e.Version, a}
		})
	default:
		if !policy {
			return badEvent(rec, "not an event of a policy acknowledgement stream")
		}
		if err := p.book.Apply(ev); err != nil {
			return badEvent(rec, err.Error())
		}
		stored := storedPolicyEvent{Type: rec.Type, Version: rec.SchemaVersion, Data: json.RawMessage(slices.Clone(rec.Data))}
		p.rows.mark(fmt.Sprintf("e:%012d", rec.Revision), func() any { return stored })
	}
	p.advance(rec.Position)
	return nil
}

// Flush implements Handler.
func (p *Policies) Flush() (Write, error) { return p.rows.flush(p.mu.RLocker()) }

// Committed implements Handler.
func (p *Policies) Committed(next uint64) {
	p.mu.Lock()
	p.next = next
	p.mu.Unlock()
}

// InForce returns the policy in force at t.
func (p *Policies) InForce(t time.Time) domain.Policy {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.book.InForce(t)
}

// Policy returns the document of version n and whether it exists; it is
// the PolicyLookup of the views that resolve the versions events name.
func (p *Policies) Policy(n int) (domain.Policy, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	v, ok := p.book.Version(n)
	return v.Policy, ok
}

// PolicyVersionView is one version as the API shows it: its state at the
// instant asked about, and its document.
type PolicyVersionView struct {
	domain.PolicyVersion
	State string
}

// Version returns version n with its state at t.
func (p *Policies) Version(n int, t time.Time) (PolicyVersionView, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	v, ok := p.book.Version(n)
	if !ok {
		return PolicyVersionView{}, false
	}
	return PolicyVersionView{PolicyVersion: v, State: p.book.State(n, t)}, true
}

// Versions returns every version, oldest first, with its state at t.
func (p *Policies) Versions(t time.Time) []PolicyVersionView {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]PolicyVersionView, 0, p.book.Latest())
	for n := 1; n <= p.book.Latest(); n++ {
		v, _ := p.book.Version(n)
		out = append(out, PolicyVersionView{PolicyVersion: v, State: p.book.State(n, t)})
	}
	return out
}

// Book returns a copy of the policy book, for commands to decide on.
func (p *Policies) Book() (*domain.PolicyBook, error) {
	p.mu.RLock()
	events := p.book.Events()
	p.mu.RUnlock()
	return domain.RebuildPolicyBook(events...)
}

// Acknowledgements returns the acknowledgements of version n by partner.
func (p *Policies) Acknowledgements(n int) map[string]PolicyAck {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make(map[string]PolicyAck, len(p.acks[n]))
	for k, a := range p.acks[n] {
		out[k] = a
	}
	return out
}

// Acknowledged returns the versions partner acknowledged.
func (p *Policies) Acknowledged(partnerID string) []int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out []int
	for v, m := range p.acks {
		if _, ok := m[partnerID]; ok {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}
