// Package app runs dealreg's commands against the ledger: it loads an
// aggregate from its stream, lets the domain decide, and appends the
// resulting events with optimistic concurrency and the caller's identity in
// their metadata. It also runs what follows the ledger: the projections the
// API reads, the duplicate checker that records a verdict on every
// submission, and the scheduler of expiries and reminders.
//
// The HTTP API and the CLI (token create, partner add, demo) both go
// through a Service, so the ledger is written in one way only.
package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// Config is what a Service needs.
type Config struct {
	Store  domain.EventStore
	Clock  domain.Clock // nil means the system clock
	Logger *slog.Logger
	// StatePath is the state database of the read side (views.db beside
	// the ledger); "" keeps it in memory, rebuilt from the ledger at
	// every start.
	StatePath string
	// CatchUpBatch is how many stored events one catch-up batch applies
	// and commits; 0 keeps the follower's default.
	CatchUpBatch int
	// DirectoryOnly builds only the directory (partners, tokens,
	// idempotency keys), in memory: enough for the console commands that
	// enrol partners and issue tokens, which then start fast on any
	// ledger and never write the state database that serve owns. Such a
	// service decides no verdicts; serve's does.
	DirectoryOnly bool
	// TickEvery is how often the scheduler looks for expiries and
	// reminders while running; 0 means one minute. Tests call RunDue.
	TickEvery time.Duration
	// IDs, when set, makes the IDs of new aggregates and events (those not
	// derived from an idempotency key or from the ledger); nil means random
	// time-ordered UUIDs. A generator sets it, with Clock, to build the same
	// ledger from the same seed. It must be safe for concurrent use.
	IDs func() uuid.UUID
	// Outbox is how webhooks are sent (app/outbox.go).
	Outbox OutboxConfig
	// CRM is the inbound CRM endpoint's configuration (app/crm.go).
	CRM CRMConfig
	// PublicURL is the portal's public address (serve --public-url):
	// links mailed by the outbox (customer attestations) point there.
	PublicURL string
}

// Service executes commands and keeps the read side up to date.
type Service struct {
	store     domain.EventStore
	clock     domain.Clock
	logger    *slog.Logger
	tick      time.Duration
	statePath string
	dirOnly   bool
	ids       func() uuid.UUID
	catchUp   int

	// Registrations, Directory, Pipeline, Conflicts and Policies are the
	// live views the API reads.
	Registrations *projections.Registrations
	Policies      *projections.Policies
	Directory     *projections.Directory
	Pipeline      *projections.Pipeline
	Conflicts     *projections.Conflicts
	// MDF and Presales are the benefit views (mdf.go, presales.go).
	MDF      *projections.MDF
	Presales *projections.Presales
	// Outbox holds webhook subscriptions and their deliveries (outbox.go).
	Outbox   *projections.Outbox
	dispatch *dispatcher
	crm      CRMConfig
	// Users are the people of the portal and console and their sessions
	// (users.go).
	Users *projections.Users
	// Analytics is the program analytics view (analytics.go).
	Analytics *projections.Analytics
	// Inbox indexes the portal inbox's notices per partner (inbox.go).
	Inbox *projections.Inbox

	// attestKey signs customer attestation links (attest.go).
	attestKey []byte
	// publicURL is Config.PublicURL without a trailing slash.
	publicURL string

	checker  *checker
	resolver *resolver
	tracks   *tracks
	state    *projections.State
	follower *projections.Follower

	mu      sync.Mutex
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	readyCh chan struct{}
}

// New returns a Service; Start (or Begin) brings it up to date and running.
func New(cfg Config) *Service {
	if cfg.Clock == nil {
		cfg.Clock = domain.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.TickEvery <= 0 {
		cfg.TickEvery = time.Minute
	}
	s := &Service{
		store: cfg.Store, clock: cfg.Clock, logger: cfg.Logger, tick: cfg.TickEvery,
		statePath: cfg.StatePath, dirOnly: cfg.DirectoryOnly, ids: cfg.IDs, catchUp: cfg.CatchUpBatch,
		Directory: projections.NewDirectory(),
		Pipeline:  projections.NewPipeline(),
		Conflicts: projections.NewConflicts(cfg.Store),
		Policies:  projections.NewPolicies(),
		MDF:       projections.NewMDF(),
		Presales:  projections.NewPresales(),
		Users:     projections.NewUsers(),
		Analytics: projections.NewAnalytics(),
		readyCh:   make(chan struct{}),
		crm:       cfg.CRM,
	}
	s.Registrations = projections.NewRegistrations(s.Policies.Policy, cfg.Store)
	s.Outbox = projections.NewOutbox(cfg.Store)
	s.Inbox = projections.NewInbox(cfg.Store)
	if !cfg.DirectoryOnly && !cfg.Outbox.Disabled {
		s.dispatch = newDispatcher(s, cfg.Outbox)
	}
	s.attestKey = attestKeyFrom(cfg.Outbox.SecretKey)
	s.publicURL = strings.TrimRight(cfg.PublicURL, "/")
	s.checker = newChecker(s)
	s.resolver = newResolver(s)
	s.tracks = newTracks()
	return s
}

// PolicyAt returns the policy in force at t: every command decides under
// the version in force at its time (the clock's now, which the event
// records), and names it in its events.
func (s *Service) PolicyAt(t time.Time) domain.Policy { return s.Policies.InForce(t) }

// Policy returns the policy in force now.
func (s *Service) Policy() domain.Policy { return s.PolicyAt(s.clock.Now()) }

// Clock returns the service's clock.
func (s *Service) Clock() domain.Clock { return s.clock }

// handlers lists what the follower feeds, in the order each event reaches
// them: the policy first, so that every other handler decides under the
// policies published before the event; then the duplicate checker, so that
// it decides a submission from the book before the submission.
func (s *Service) handlers() []projections.Handler {
	if s.dirOnly {
		return []projections.Handler{s.Directory, s.Users}
	}
	// The track records come last: the checker's automatic decisions read
	// them, and the directory, as of the ledger before the submission.
	return []projections.Handler{s.Policies, s.checker, s.Registrations, s.Directory, s.Pipeline, s.Conflicts, s.resolver, s.tracks,
		s.MDF, s.Presales, s.Users, s.Analytics, s.Outbox, s.Inbox}
}

// Open opens the state database and restores every view, the claim book
// and their checkpoint from it. A stored state that cannot be trusted is
// discarded (and logged); the follower then rebuilds it from the ledger.
func (s *Service) Open(ctx context.Context) error {
	if s.Follower() != nil {
		return nil
	}
	path := s.statePath
	if s.dirOnly {
		path = ""
	}
	st, err := projections.OpenState(ctx, path, s.store)
	if err != nil {
		return err
	}
	if st.Discarded != "" {
		s.logger.Warn("state discarded; rebuilding it from the ledger", "state", s.statePath, "why", st.Discarded)
	}
	f := projections.NewFollower(s.store, st, s.handlers()...)
	if s.catchUp > 0 {
		f.CatchUpPage = s.catchUp
	}
	if err := f.Load(ctx); err != nil {
		st.Close()
		return err
	}
	s.mu.Lock()
	s.state, s.follower = st, f
	s.mu.Unlock()
	return nil
}

// Follower returns the follower that keeps the read side, for rebuilds
// and progress; nil before Open.
func (s *Service) Follower() *projections.Follower {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.follower
}

// Begin opens the service if needed and starts following the ledger in the
// background: catching up from the stored checkpoint, then applying new
// events as they are committed. Ready reports when it has caught up; with
// schedule set, the expiry scheduler runs every TickEvery from then on.
// Stop ends it all.
func (s *Service) Begin(schedule bool) error {
	if err := s.Open(context.Background()); err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	s.cancel = cancel
	s.mu.Unlock()
	f := s.Follower()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.retry(runCtx, "ledger follower", f.Run)
	}()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-runCtx.Done():
			return
		case <-f.ReadyCh():
		}
		close(s.readyCh)
		if s.dispatch != nil && !s.dispatch.cfg.Manual {
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.runDispatcher(runCtx)
			}()
		}
		if schedule {
			s.schedule(runCtx)
		}
	}()
	return nil
}

// Start is Begin, then waits until the service has caught up with the
// ledger (or ctx ends).
func (s *Service) Start(ctx context.Context, schedule bool) error {
	if err := s.Begin(schedule); err != nil {
		return err
	}
	return s.WaitReady(ctx)
}

// WaitReady waits until the service has caught up with the ledger.
func (s *Service) WaitReady(ctx context.Context) error {
	select {
	case <-s.readyCh:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Ready reports whether the service has caught up with the ledger as it
// was at Begin; the views answer only then.
func (s *Service) Ready() bool {
	select {
	case <-s.readyCh:
		return true
	default:
		return false
	}
}

// CaughtUp returns the follower's checkpoint and the ledger's head.
func (s *Service) CaughtUp(ctx context.Context) (applied, head uint64) {
	head, _ = s.head(ctx)
	f := s.Follower()
	if f == nil {
		return 0, head
	}
	return f.Checkpoint(), head
}

// retry runs fn until ctx ends, restarting it after a pause when it fails:
// a follower that meets an event it cannot apply stays before it, logs,
// and tries again rather than skip it.
func (s *Service) retry(ctx context.Context, name string, fn func(context.Context) error) {
	for {
		err := fn(ctx)
		if ctx.Err() != nil || errors.Is(err, domain.ErrClosed) {
			return
		}
		s.logger.Error(name+" stopped; retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// Stop ends the background work, waits for it and closes the state
// database.
func (s *Service) Stop() {
	s.mu.Lock()
	cancel := s.cancel
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	s.wg.Wait()
	if s.state != nil {
		s.state.Close()
	}
}

// WaitFor waits until the read side has applied and committed the event at
// pos, and every side effect it caused (a verdict, a conflict carried
// over) is in the ledger.
func (s *Service) WaitFor(ctx context.Context, pos uint64) error {
	f := s.Follower()
	if f == nil {
		return domain.Errorf(domain.EINTERNAL, "the service is not started")
	}
	return f.WaitFor(ctx, pos)
}

// head returns the position after the newest stored event.
func (s *Service) head(ctx context.Context) (uint64, error) {
	if h, ok := s.store.(interface{ Head() uint64 }); ok {
		return h.Head(), nil
	}
	last, err := s.store.ReadAll(ctx, domain.ReadAllOptions{Direction: domain.Backwards, FromEnd: true, Count: 1})
	if err != nil || len(last) == 0 {
		return 0, err
	}
	return last[0].Position + 1, nil
}

// Caller is who a command runs for: the authenticated actor and the name of
// its token, for the audit trail.
type Caller struct {
	Actor domain.Actor
	Name  string
}

// Call is one request: the caller, and what ties its events together.
type Call struct {
	Caller
	// IdempotencyKey, when set, makes the request safe to retry: a retry
	// returns the first result and appends nothing.
	IdempotencyKey string
	// RequestHash fingerprints the request's content (see HashRequest);
	// reusing a key for a different request is refused.
	RequestHash   string
	CorrelationID string
}

// HashRequest fingerprints a request for idempotency: the operation and
// its content.
func HashRequest(op string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(op))
	h.Write([]byte{0})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Result is what a command appended.
type Result struct {
	Stream   string
	Position uint64 // of the last event appended (or of the first request's, when Replayed)
	// Replayed is set when the request repeated an idempotency key: nothing
	// was appended and the first request's outcome stands.
	Replayed bool
}

// idNamespace derives deterministic event IDs from idempotency keys.
var idNamespace = uuid.MustParse("a3d1f0a2-5b7c-4e0e-9f3a-6c2b8d4e1f70")

// newID returns a new random ID that sorts by creation time (UUID version 7),
// so that consecutive events land on neighbouring pages of the ledger's
// event-ID index instead of a random page each; or one from Config.IDs.
func (s *Service) newID() uuid.UUID {
	if s.ids != nil {
		return s.ids()
	}
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.New()
	}
	return id
}

// eventIDs returns the IDs of n events appended to stream by call: random
// ones, or, with an idempotency key, ones derived from the caller, the key
// and the stream, so that a concurrent retry collides with the first
// request in the store's unique index instead of appending twice.
func (s *Service) eventIDs(call Call, stream string, n int) []uuid.UUID {
	ids := make([]uuid.UUID, n)
	for i := range ids {
		if call.IdempotencyKey == "" {
			ids[i] = s.newID()
			continue
		}
		ids[i] = uuid.NewSHA1(idNamespace, fmt.Appendf(nil, "%s\x00%s\x00%s\x00%d", call.Actor.ID, call.IdempotencyKey, stream, i))
	}
	return ids
}

// metadata returns the JSON metadata of call's events.
func metadata(call Call) []byte {
	md := projections.Metadata{
		ActorID:        call.Actor.ID,
		ActorName:      call.Name,
		Role:           call.Actor.Role,
		PartnerID:      call.Actor.PartnerID,
		CorrelationID:  call.CorrelationID,
		IdempotencyKey: call.IdempotencyKey,
		RequestHash:    call.RequestHash,
	}
	b, err := json.Marshal(md)
	if err != nil {
		panic(err) // a struct of strings always marshals
	}
	return b
}

// encode turns domain events into store events with call's identity.
func encode(call Call, stream string, events []domain.Event, ids []uuid.UUID) ([]domain.EventData, error) {
	md := metadata(call)
	out := make([]domain.EventData, len(events))
	for i, e := range events {
		typ, version, data, err := domain.EncodeEvent(e)
		if err != nil {
			return nil, err
		}
		out[i] = domain.EventData{ID: ids[i], Type: typ, SchemaVersion: version, Data: data, Metadata: md}
	}
	return out, nil
}

// replayed returns the first request's result when call repeats an
// idempotency key already recorded, after waiting for the projections to
// reach the ledger's head (so a request that just committed is seen). It
// is an ECONFLICT error to reuse a key for another request.
func (s *Service) replayed(ctx context.Context, call Call) (Result, bool, error) {
	if call.IdempotencyKey == "" {
		return Result{}, false, nil
	}
	head, err := s.head(ctx)
	if err != nil {
		return Result{}, false, err
	}
	if head > 0 {
		// Every projection, not only the directory: the answer is read
		// from them.
		if err := s.WaitFor(ctx, head-1); err != nil {
			return Result{}, false, err
		}
	}
	first, ok := s.Directory.IdempotentRequest(call.Actor.ID, call.IdempotencyKey)
	if !ok {
		return Result{}, false, nil
	}
	if first.RequestHash != call.RequestHash {
		return Result{}, false, &domain.Error{Code: domain.ECONFLICT,
			Message: "the Idempotency-Key was already used for a different request; use a new key",
			Fields:  []domain.FieldError{{Field: "Idempotency-Key", Code: domain.FieldDuplicate, Message: "already used for a different request"}}}
	}
	return Result{Stream: first.Stream, Position: first.Position, Replayed: true}, true, nil
}

// maxAttempts bounds how often a command is retried when another writer
// appended to its stream between reading and appending.
const maxAttempts = 5

// execute runs a command on one stream: it reads the stream, lets decide
// produce events from it (nil events when the stream does not exist),
// appends them expecting the stream unchanged, and retries on a race. The
// projections have applied the result when it returns.
func (s *Service) execute(ctx context.Context, call Call, stream string, decide func(events []domain.Event) ([]domain.Event, error)) (Result, error) {
	if res, ok, err := s.replayed(ctx, call); err != nil || ok {
		return res, err
	}
	fresh := false
	for attempt := 1; ; attempt++ {
		stored, err := s.readStream(ctx, stream)
		if err != nil {
			return Result{}, err
		}
		events, err := decide(stored)
		if err != nil {
			// A retry that raced the first request lands here (its
			// command no longer fits the state the first one left).
			if res, ok, rerr := s.replayed(ctx, call); rerr == nil && ok {
				return res, nil
			}
			// A refusal on folded state (a partner just enrolled by
			// another process) stands only once the follower has
			// reached the ledger's head as it is now (fresh.go).
			if !fresh && refusalOnFolded(err) {
				fresh = true
				if s.catchUpFresh(ctx) == nil {
					attempt--
					continue
				}
			}
			return Result{}, err
		}
		if len(events) == 0 {
			return Result{Stream: stream}, nil
		}
		expected := domain.NoStream()
		if len(stored) > 0 {
			expected = domain.Exact(uint64(len(stored) - 1))
		}
		data, err := encode(call, stream, events, s.eventIDs(call, stream, len(events)))
		if err != nil {
			return Result{}, err
		}
		res, err := s.store.Append(ctx, stream, expected, data...)
		var wrong *domain.WrongExpectedRevisionError
		if errors.As(err, &wrong) && attempt < maxAttempts {
			continue
		}
		if err != nil {
			return Result{}, err
		}
		if err := s.WaitFor(ctx, res.Position); err != nil {
			return Result{}, err
		}
		return Result{Stream: stream, Position: res.Position}, nil
	}
}

// readStream returns the decoded events of stream, none if it does not
// exist.
func (s *Service) readStream(ctx context.Context, stream string) ([]domain.Event, error) {
	recs, err := s.store.ReadStream(ctx, stream, domain.ReadStreamOptions{})
	if errors.Is(err, domain.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return domain.DecodeRecorded(recs)
}
