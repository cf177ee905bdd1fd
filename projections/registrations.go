package projections

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	json "github.com/goccy/go-json"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/domain/match"
)

// PolicyLookup returns the policy of a version and whether it is known.
type PolicyLookup func(version int) (domain.Policy, bool)

// DefaultPolicies knows only domain.DefaultPolicy, version 1, the only
// policy dealreg has so far.
func DefaultPolicies(version int) (domain.Policy, bool) {
	p := domain.DefaultPolicy()
	return p, version == p.Version
}

// Registrations is the registration pipeline projection: one
// RegistrationView and one detail per registration, as of Checkpoint. The
// views live in the state database (table registrations, with indexes for
// the API's filters and orders), so memory holds only a bounded cache of
// the aggregates being folded; a registration missing from the cache is
// folded again from its own stream in the ledger. The audit history is the
// stream itself, read from the ledger.
//
// It is safe for concurrent use; it is fed by one Follower (or by Apply,
// for a projection of its own) while any number of readers query it.
type Registrations struct {
	policies PolicyLookup
	ledger   domain.EventStore

	tracker
	db *sql.DB
	// standalone is set for a projection that owns its in-memory database
	// and commits at every Apply.
	standalone bool

	wmu   sync.Mutex // guards cache and dirty (the writer's side)
	cache map[uuid.UUID]*registration
	dirty map[uuid.UUID]*registration
	// MaxCached bounds the aggregates kept between batches.
	MaxCached int
	// pipeline answers the summary from memory (pipeline_mem.go).
	pipeline *pipelineIndex
}

var _ Handler = (*Registrations)(nil)

// NewRegistrations returns an empty projection at checkpoint 0. policies
// resolves the policy version recorded at submission, for review
// deadlines; nil means DefaultPolicies. ledger is where the audit history
// and evicted aggregates are read from; with nil, History is empty and
// nothing is evicted.
//
// On its own (Apply, CatchUp) the projection keeps its views in a private
// in-memory database; a Follower gives it the state database instead.
func NewRegistrations(policies PolicyLookup, ledger domain.EventStore) *Registrations {
	if policies == nil {
		policies = DefaultPolicies
	}
	return &Registrations{
		policies:  policies,
		ledger:    ledger,
		tracker:   newTracker(),
		cache:     make(map[uuid.UUID]*registration),
		dirty:     make(map[uuid.UUID]*registration),
		MaxCached: 50000,
		pipeline:  newPipelineIndex(),
	}
}

// registrationPrefix is how domain.RegistrationStream names streams.
var registrationPrefix = strings.TrimSuffix(domain.RegistrationStream(uuid.Nil), uuid.Nil.String())

// Apply folds one recorded event into a projection of its own and commits
// it. Events must come in global order. An event below the checkpoint was
// applied before and is ignored. Events of other streams only move the
// checkpoint. An event of a registration stream that cannot be decoded
// (malformed, or a type or schema version unknown to domain.DecodeEvent)
// or does not fit its registration (a revision gap, a wrong ID, an event
// before RegistrationDrafted) is an EINTERNAL error and leaves the
// projection unchanged, checkpoint included.
func (p *Registrations) Apply(rec domain.RecordedEvent) error {
	if err := p.ensureDB(); err != nil {
		return err
	}
	if rec.Position < p.Checkpoint() {
		return nil
	}
	ctx := context.Background()
	if err := p.fold(ctx, nil, rec); err != nil {
		p.dropDirty()
		return err
	}
	if err := p.flushOwn(ctx); err != nil {
		p.dropDirty()
		return err
	}
	p.Committed(rec.Position + 1)
	return nil
}

// ensureDB gives a projection of its own its private database.
func (p *Registrations) ensureDB() error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if p.db != nil {
		return nil
	}
	st, err := OpenState(context.Background(), "", nil)
	if err != nil {
		return err
	}
	p.db, p.standalone = st.db, true
	return nil
}

func (p *Registrations) flushOwn(ctx context.Context) error {
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	w, err := p.Flush()
	if err != nil || w == nil {
		return err
	}
	if err := w(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

func (p *Registrations) dropDirty() {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	for id := range p.dirty {
		delete(p.cache, id)
	}
	clear(p.dirty)
}

// Load implements Handler: the views are read from db as needed, so only
// the cache of aggregates is dropped.
func (p *Registrations) Load(_ context.Context, db *sql.DB) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.db, p.standalone = db, false
	clear(p.cache)
	clear(p.dirty)
	p.pipeline.loadFrom(db)
	return nil
}

// ApplyBatch implements Handler.
func (p *Registrations) ApplyBatch(b *Batch, rec domain.RecordedEvent) error {
	return p.fold(b.Context(), b, rec)
}

// Committed implements Handler.
func (p *Registrations) Committed(next uint64) {
	p.wmu.Lock()
	if p.ledger != nil && len(p.cache) > p.MaxCached {
		// Evict half: first the registrations in a final status (they
		// rarely change again), then those touched longest ago, since a
		// registration's events come in bursts (submission, verdict,
		// review, approval). One evicted is folded again from its stream
		// when it next changes.
		type touched struct {
			open bool
			pos  uint64
			id   uuid.UUID
		}
		old := make([]touched, 0, len(p.cache))
		for id, r := range p.cache {
			if _, d := p.dirty[id]; !d {
				old = append(old, touched{!r.agg.Status().Final(), r.touched, id})
			}
		}
		slices.SortFunc(old, func(a, b touched) int {
			if a.open != b.open {
				if a.open {
					return 1
				}
				return -1
			}
			return cmp.Compare(a.pos, b.pos)
		})
		for _, t := range old[:min(len(old), len(p.cache)/2)] {
			delete(p.cache, t.id)
		}
	}
	p.wmu.Unlock()
	p.pipeline.committed()
	p.mu.Lock()
	p.next = next
	p.wake()
	p.mu.Unlock()
}

// Flush implements Handler: it encodes the views of the registrations the
// batch changed, for a write of their rows.
func (p *Registrations) Flush() (Write, error) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if len(p.dirty) == 0 {
		return nil, nil
	}
	// Encoding the views is most of a flush's CPU, and nothing changes the
	// aggregates meanwhile: encode on every processor.
	type row struct {
		r            *registration
		args         []any // the columns of the INSERT below
		view, detail []byte
		err          error
	}
	rows := make([]row, 0, len(p.dirty))
	var hist []historyWrite
	for _, r := range p.dirty {
		rows = append(rows, row{r: r})
		if w, ok := r.takeHistory(); ok {
			hist = append(hist, w)
		}
	}
	workers := min(runtime.GOMAXPROCS(0), max(1, len(rows)/64))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(rows); i += workers {
				rows[i].args, rows[i].view, rows[i].detail, rows[i].err = rows[i].r.columns()
			}
		})
	}
	wg.Wait()
	args := make([]any, 0, len(rows)*len(registrationColumns))
	docs := make([]any, 0, len(rows)*3)
	piped := make([][]any, 0, len(rows))
	for _, e := range rows {
		if e.err != nil {
			return nil, e.err
		}
		args = append(args, e.args...)
		docs = append(docs, e.args[1], e.view, e.detail)
		piped = append(piped, e.args)
	}
	p.pipeline.flushed(piped)
	clear(p.dirty)
	return func(ctx context.Context, tx *sql.Tx) error {
		if err := execChunked(ctx, tx, args, len(registrationColumns), 1, upsertRegistrations); err != nil {
			return err
		}
		if err := execChunked(ctx, tx, docs, 3, 1, upsertDocs); err != nil {
			return err
		}
		return writeHistory(ctx, tx, hist)
	}, nil
}

// registrationColumns are the columns of table registrations, in the
// order columns returns them.
var registrationColumns = []string{"id", "pos", "partner_id", "status", "type", "country", "region", "awaiting", "last_sub_pos",
	"protected", "lapses_at", "industry", "stage", "close_q", "currency", "value_e4", "products", "progress_at", "account_key",
	"domain_key", "updated_pos", "expires_at"}

// upsertDocSQL writes one registration's view and detail (table
// registration_docs), kept prepared like upsertRegistrationSQL.
var upsertDocSQL = upsertDocs(1)

// upsertDocs is the statement that writes n registrations' view and
// detail.
func upsertDocs(n int) string {
	return "INSERT INTO registration_docs (pos, view, detail) VALUES " + placeholders(n, 3) +
		" ON CONFLICT (pos) DO UPDATE SET view = excluded.view, detail = excluded.detail"
}

// upsertRegistrationSQL writes one registration's row, the statement every
// commit uses (kept prepared by the state: keepStatements).
var upsertRegistrationSQL = upsertRegistrations(1)

// upsertRegistrations is the statement that writes n registrations' rows.
func upsertRegistrations(n int) string {
	set := make([]string, 0, len(registrationColumns))
	for _, c := range registrationColumns {
		if c != "id" && c != "pos" {
			set = append(set, c+" = excluded."+c)
		}
	}
	return "INSERT INTO registrations (" + strings.Join(registrationColumns, ", ") + ") VALUES " +
		placeholders(n, len(registrationColumns)) + " ON CONFLICT (id) DO UPDATE SET " + strings.Join(set, ", ")
}

// columns returns r's row of table registrations, and its view and
// detail encoded (table registration_docs).
func (r *registration) columns() (_ []any, view, detail []byte, err error) {
	built := r.buildView(r.updatedAt)
	v := &built
	if view, err = json.Marshal(v); err != nil {
		return nil, nil, nil, err
	}
	if detail, err = json.Marshal(r.detail()); err != nil {
		return nil, nil, nil, err
	}
	var lapses int64
	if !v.ProtectionLapsesAt.IsZero() {
		lapses = v.ProtectionLapsesAt.UnixNano()
	}
	var progress int64
	if !v.LastProgressAt.IsZero() {
		progress = v.LastProgressAt.UnixNano()
	}
	expires := int64(openEnd) // unprotected registrations come after every protected one
	if v.Status.Protected() {
		expires = lapses
	}
	return []any{v.ID.String(), int64(v.Position), v.PartnerID, string(v.Status), string(v.Type),
		strings.ToLower(v.Country), strings.ToLower(v.Region), awaitsDecision(v.Status), int64(r.lastSubmittedPos),
		v.Status.Protected(), lapses, strings.ToLower(v.Industry), string(v.BuyingStage), Quarter(v.ExpectedCloseDate),
		v.Currency, valueE4(v.EstimatedValue), productsColumn(v.ProductLines), progress,
		match.Normalise(v.CompanyName), match.RegistrableDomain(v.Domain), int64(r.touched), expires}, view, detail, nil
}

// Quarter names the calendar quarter of t (UTC), "2026-Q3"; "" for no time.
func Quarter(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.UTC()
	y := t.Year()
	if y < 0 || y > 9999 {
		return fmt.Sprintf("%04d-Q%d", y, (int(t.Month())+2)/3)
	}
	b := [7]byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-', 'Q', byte('0' + (int(t.Month())+2)/3)}
	return string(b[:])
}

// valueE4 is an amount in ten-thousandths: exact, since amounts carry at
// most domain.MaxMoneyDecimals (4) decimals and at most 10^12 units.
func valueE4(d decimal.Decimal) int64 { return d.Shift(4).Round(0).IntPart() }

// productsColumn keeps product lines so that one is matched with
// LIKE '%|line|%' and grouped without a second table.
func productsColumn(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('|')
	for _, l := range lines {
		b.WriteString(strings.ToLower(strings.ReplaceAll(l, "|", "/")))
		b.WriteByte('|')
	}
	return b.String()
}

// storedDetail is what the detail column holds beside the view.
type storedDetail struct {
	Details     domain.Details                      `json:"details"`
	Attachments []domain.Attachment                 `json:"attachments"`
	Finding     *domain.RegistrationVerdictRecorded `json:"finding,omitempty"`
}

func (r *registration) detail() storedDetail {
	d := storedDetail{Details: r.agg.Details(), Attachments: r.agg.Attachments(), Finding: r.finding}
	if d.Attachments == nil {
		d.Attachments = []domain.Attachment{}
	}
	return d
}

// decodeRegistrationEvent returns the registration event in rec and its
// registration ID, or a nil event for an event of another stream. Streams
// are told apart by name, before decoding, so that events of other
// aggregates are skipped whether or not this binary knows their types.
func decodeRegistrationEvent(b *Batch, rec domain.RecordedEvent) (domain.Event, uuid.UUID, error) {
	suffix, ok := strings.CutPrefix(rec.Stream, registrationPrefix)
	if !ok {
		return nil, uuid.Nil, nil
	}
	ev, err := decodeEvent(b, rec)
	if err != nil {
		return nil, uuid.Nil, err
	}
	if _, ok := ev.(domain.RegistrationEvent); !ok {
		return nil, uuid.Nil, badEvent(rec, "not a registration event")
	}
	id, err := uuid.Parse(suffix)
	if err != nil {
		return nil, uuid.Nil, badEvent(rec, "the stream name holds no registration ID")
	}
	return ev, id, nil
}

// decodeEvent decodes rec (once per batch when b holds it) for a view. An
// event this binary does not know is an error, never skipped: skipping
// would fold a view over a hole, and the aggregates could not replay the
// stream either; the ledger is newer than this binary.
func decodeEvent(b *Batch, rec domain.RecordedEvent) (domain.Event, error) {
	ev, err := b.Decode(rec)
	if errors.Is(err, domain.ErrUnknownEvent) {
		return nil, badEvent(rec, "this version of dealreg does not know the event; upgrade it")
	}
	if err != nil {
		return nil, badEvent(rec, err.Error())
	}
	return ev, nil
}

func badEvent(rec domain.RecordedEvent, why string) error {
	return domain.Errorf(domain.EINTERNAL, "project event %d (%s in %s revision %d): %s",
		rec.Position, rec.Type, rec.Stream, rec.Revision, why)
}

// fold applies one event to the cached aggregate of its registration,
// loading it from the ledger if it was evicted.
func (p *Registrations) fold(ctx context.Context, b *Batch, rec domain.RecordedEvent) error {
	ev, id, err := decodeRegistrationEvent(b, rec)
	if err != nil || ev == nil {
		return err
	}
	if got := ev.(domain.RegistrationEvent).AggregateID(); got != id {
		return badEvent(rec, fmt.Sprintf("the event names registration %s", got))
	}
	p.wmu.Lock()
	defer p.wmu.Unlock()
	r, known := p.cache[id]
	if !known && rec.Revision > 0 && p.ledger != nil {
		if r, err = p.reload(ctx, rec, id); err != nil {
			return err
		}
	}
	if r == nil {
		r = &registration{agg: &domain.Registration{}}
	}
	if err := r.apply(rec, ev); err != nil {
		return err
	}
	r.track(rec.Position, true)
	p.cache[id] = r
	p.dirty[id] = r
	return nil
}

// reload folds registration id's events before rec again from the ledger.
func (p *Registrations) reload(ctx context.Context, rec domain.RecordedEvent, id uuid.UUID) (*registration, error) {
	recs, err := p.ledger.ReadStream(ctx, rec.Stream, domain.ReadStreamOptions{Count: int(rec.Revision)})
	if err != nil && !errors.Is(err, domain.ErrStreamNotFound) {
		return nil, fmt.Errorf("reload registration %s: %w", id, err)
	}
	r := &registration{agg: &domain.Registration{}}
	for _, e := range recs {
		ev, _, err := decodeRegistrationEvent(nil, e)
		if err != nil {
			return nil, err
		}
		if err := r.apply(e, ev); err != nil {
			return nil, err
		}
		r.track(e.Position, false)
	}
	return r, nil
}

// apply folds ev, recorded as rec, into r.
func (r *registration) apply(rec domain.RecordedEvent, ev domain.Event) error {
	// The stream revision must be the next one, or the aggregate would be
	// folded over a gap and the view would silently be wrong.
	if rec.Revision != uint64(r.agg.Version()) {
		return badEvent(rec, fmt.Sprintf("expected stream revision %d", r.agg.Version()))
	}
	if err := r.agg.Apply(ev); err != nil {
		return badEvent(rec, err.Error())
	}
	r.observe(rec, ev)
	r.touched = rec.Position
	r.updatedAt = rec.RecordedAt
	return nil
}

func historyEntry(rec domain.RecordedEvent, ev domain.Event) HistoryEntry {
	summary, actor := describe(ev)
	// Malformed metadata must not stop the projection: the event is a fact
	// either way, only its description is poorer.
	md, _ := ParseMetadata(rec.Metadata)
	if md.ActorID != "" {
		actor = md.ActorID
	}
	return HistoryEntry{
		EventID:    rec.ID,
		Position:   rec.Position,
		Revision:   rec.Revision,
		Type:       rec.Type,
		RecordedAt: rec.RecordedAt,
		ActorID:    actor,
		ActorName:  md.ActorName,
		Role:       md.Role,
		Summary:    summary,
		Data:       slices.Clone(rec.Data),
	}
}

// Get returns the view of registration id and whether it exists.
func (p *Registrations) Get(id uuid.UUID) (RegistrationView, bool) {
	d, ok := p.get(id, false)
	return d.RegistrationView, ok
}

// Detail returns everything known about registration id and whether it
// exists.
func (p *Registrations) Detail(id uuid.UUID) (RegistrationDetail, bool) {
	return p.get(id, true)
}

func (p *Registrations) get(id uuid.UUID, withDetail bool) (RegistrationDetail, bool) {
	db := p.database()
	if db == nil {
		return RegistrationDetail{}, false
	}
	var view, detail []byte
	q := "SELECT d.view, '' FROM registrations r JOIN registration_docs d ON d.pos = r.pos WHERE r.id = ?"
	if withDetail {
		q = "SELECT d.view, d.detail FROM registrations r JOIN registration_docs d ON d.pos = r.pos WHERE r.id = ?"
	}
	if err := queryRow(db, q, id.String()).Scan(&view, &detail); err != nil {
		return RegistrationDetail{}, false
	}
	var d RegistrationDetail
	if json.Unmarshal(view, &d.RegistrationView) != nil {
		return RegistrationDetail{}, false
	}
	if withDetail {
		var sd storedDetail
		if json.Unmarshal(detail, &sd) != nil {
			return RegistrationDetail{}, false
		}
		d.Details, d.Attachments, d.Finding = sd.Details, sd.Attachments, sd.Finding
	}
	return d, true
}

func (p *Registrations) database() *sql.DB {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	return p.db
}

// WaitUntil blocks until registration id exists and ok holds for its view,
// then returns the view; or until ctx is done (ctx's error). The submit
// call uses it to wait for the duplicate check's verdict.
func (p *Registrations) WaitUntil(ctx context.Context, id uuid.UUID, ok func(RegistrationView) bool) (RegistrationView, error) {
	for {
		_, applied := p.waitChan()
		if v, known := p.Get(id); known && ok(v) {
			return v, nil
		}
		select {
		case <-applied:
		case <-ctx.Done():
			return RegistrationView{}, ctx.Err()
		}
	}
}

// History returns every event of registration id in order, as far as the
// projection has applied them, or nil if it does not exist. It reads the
// registration's stream from the ledger.
func (p *Registrations) History(id uuid.UUID) []HistoryEntry {
	v, ok := p.Get(id)
	if !ok || p.ledger == nil {
		return nil
	}
	recs, err := p.ledger.ReadStream(context.Background(), domain.RegistrationStream(id), domain.ReadStreamOptions{Count: v.Version})
	if err != nil {
		return nil
	}
	out := make([]HistoryEntry, 0, len(recs))
	for _, rec := range recs {
		ev, err := domain.DecodeEvent(rec.Type, rec.SchemaVersion, rec.Data)
		if err != nil {
			return nil
		}
		out = append(out, historyEntry(rec, ev))
	}
	return out
}
