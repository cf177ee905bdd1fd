package app

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// OutboxConfig is how the outbox's dispatcher sends.
type OutboxConfig struct {
	// SecretKey seals webhook signing secrets (32 bytes, AES-256-GCM).
	// Serve keeps it in a file beside the ledger; nil makes a random key
	// for this process only (secrets then cannot sign after a restart).
	SecretKey []byte
	// AllowPrivateTargets lets webhooks reach loopback and private-range
	// addresses (an admin's flag: tests, and receivers inside the
	// vendor's own network). Off, such targets are refused when a
	// subscription is created and again at every connection (SSRF).
	AllowPrivateTargets bool
	// Timeout bounds one attempt; 0 means 20 s.
	Timeout time.Duration
	// RetryFor is how long a delivery is retried before it goes to the
	// dead-letter list; 0 means 24 h.
	RetryFor time.Duration
	// Disabled leaves the dispatcher off (console commands).
	Disabled bool
	// SMTP is the mail server of the e-mail channel (app/notify.go).
	SMTP SMTPConfig
	// Manual runs no background dispatcher: deliveries go out only when
	// DeliverDue is called (tests drive it step by step).
	Manual bool
	// Workers bounds how many subscriptions (and people) are sent for at
	// once; 0 means 8.
	Workers int
}

// Backoff of the retries: the n-th retry waits between half and all of
// min(retryBase·2^(n-1), retryCap), the point in that range drawn from
// the delivery's ID and attempt (so a replay of the log is reproducible
// and receivers that fail together do not retry together).
const (
	retryBase = 5 * time.Second
	retryCap  = time.Hour
)

// RetryDelay is the wait after the n-th failed attempt of delivery id.
func RetryDelay(id string, n int) time.Duration {
	d := retryBase << min(n-1, 20)
	if d > retryCap || d <= 0 {
		d = retryCap
	}
	h := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d", id, n))
	frac := float64(binary.BigEndian.Uint64(h[:8])>>11) / (1 << 53)
	return d/2 + time.Duration(frac*float64(d/2))
}

// dispatcher sends the outbox's deliveries.
type dispatcher struct {
	s          *Service
	cfg        OutboxConfig
	aead       cipher.AEAD
	client     *http.Client
	salesforce *salesforceClient
	slots      chan struct{}   // one per running worker, Workers in all
	busyMu     sync.Mutex      //
	busy       map[string]bool // the channels that have a worker
}

func newDispatcher(s *Service, cfg OutboxConfig) *dispatcher {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 20 * time.Second
	}
	if cfg.RetryFor <= 0 {
		cfg.RetryFor = 24 * time.Hour
	}
	key := cfg.SecretKey
	if len(key) != 32 {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	d := &dispatcher{s: s, cfg: cfg, aead: aead, slots: make(chan struct{}, cfg.Workers), busy: map[string]bool{}}
	d.salesforce = &salesforceClient{d: d, tokens: map[string]sfToken{}}
	dialer := &net.Dialer{Timeout: 10 * time.Second, Control: d.refusePrivate}
	d.client = &http.Client{
		Timeout:   cfg.Timeout,
		Transport: &http.Transport{DialContext: dialer.DialContext, Proxy: nil, MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute},
		// A redirect is never followed: the receiver is the URL the admin
		// registered, and a 3xx counts as a failure.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return d
}

// refusePrivate is the dialer's check of every address it connects to,
// after name resolution: a public name that resolves to a private address
// is refused too.
func (d *dispatcher) refusePrivate(_, address string, _ syscall.RawConn) error {
	if d.cfg.AllowPrivateTargets {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook target %s: %w", address, err)
	}
	if privateAddr(ap.Addr()) {
		return fmt.Errorf("webhook target %s is a loopback, private or link-local address", address)
	}
	return nil
}

func privateAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsUnspecified() || a.IsMulticast() || a.IsInterfaceLocalMulticast() ||
		netip.MustParsePrefix("100.64.0.0/10").Contains(a) // carrier-grade NAT
}

// seal encrypts a signing secret for the ledger.
func (d *dispatcher) seal(secret string) string {
	nonce := make([]byte, d.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.StdEncoding.EncodeToString(d.aead.Seal(nonce, nonce, []byte(secret), nil))
}

// open decrypts a sealed signing secret.
func (d *dispatcher) open(sealed string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < d.aead.NonceSize() {
		return "", errors.New("sealed secret is malformed")
	}
	n := d.aead.NonceSize()
	plain, err := d.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return "", errors.New("sealed secret does not open with this server's key")
	}
	return string(plain), nil
}

// outboxCall is the identity of what the dispatcher appends.
var outboxCall = Call{Caller: Caller{Actor: domain.Actor{ID: "system:outbox", Role: domain.RoleAdmin}, Name: "outbox"}}

// DeliverDue sends, for every enabled subscription that is not failing
// and every person with mail due, its pending deliveries that are due at
// the clock's now, oldest first, stopping at the first that fails (it is
// retried later; those after it wait, so order holds). Each subscription
// is a worker of its own, at most OutboxConfig.Workers at once: a receiver
// that hangs until the timeout holds up its own deliveries only. A
// subscription already being sent for (by the background dispatcher or
// another call) is left to that worker. DeliverDue returns, when every
// worker it started is done, how many were delivered; tests call it
// directly.
func (s *Service) DeliverDue(ctx context.Context) (int, error) {
	return s.deliverDue(ctx, true)
}

// deliverDue starts a worker for every channel with work and no worker;
// with wait it waits for them and sums up, without (the background
// dispatcher) it returns at once and the workers end on their own.
func (s *Service) deliverDue(ctx context.Context, wait bool) (int, error) {
	d := s.dispatch
	if d == nil {
		return 0, nil
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		n    int
		errs []error
	)
	run := func(key string, work func(context.Context) (int, error)) {
		if !d.claim(key) {
			return
		}
		wg.Add(1)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer wg.Done()
			defer d.release(key)
			select {
			case d.slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			k, err := work(ctx)
			<-d.slots
			if err != nil && ctx.Err() == nil && !wait {
				s.logger.Error("outbox dispatcher", "channel", key, "err", err)
			}
			mu.Lock()
			n += k
			if err != nil && ctx.Err() == nil {
				errs = append(errs, err)
			}
			mu.Unlock()
		}()
	}
	for _, sub := range s.Outbox.Subscriptions() {
		if !sub.Enabled {
			continue
		}
		if _, failing, err := s.Outbox.Failing(ctx, sub.ID); err != nil || failing {
			if err != nil {
				errs = append(errs, err)
			}
			continue
		}
		run(sub.ID, func(ctx context.Context) (int, error) { return s.deliverSubscription(ctx, sub) })
	}
	if d.cfg.SMTP.Addr != "" {
		for _, p := range s.Outbox.People() {
			run(projections.EmailPrefix+p.ID, func(ctx context.Context) (int, error) { return s.deliverMail(ctx, projections.EmailPrefix+p.ID, &p) })
		}
		contacts, err := s.Outbox.PendingChannels(ctx, projections.ContactPrefix)
		if err != nil {
			errs = append(errs, err)
		}
		for _, sub := range contacts {
			run(sub, func(ctx context.Context) (int, error) { return s.deliverMail(ctx, sub, nil) })
		}
	}
	if !wait {
		return 0, nil
	}
	wg.Wait()
	if ctx.Err() != nil {
		return n, ctx.Err()
	}
	return n, errors.Join(errs...)
}

// claim marks channel key as having a worker; false if it has one.
func (d *dispatcher) claim(key string) bool {
	d.busyMu.Lock()
	defer d.busyMu.Unlock()
	if d.busy[key] {
		return false
	}
	d.busy[key] = true
	return true
}

func (d *dispatcher) release(key string) {
	d.busyMu.Lock()
	delete(d.busy, key)
	d.busyMu.Unlock()
}

// deliverSubscription sends one subscription's due deliveries in ledger
// order until none is due or one fails.
func (s *Service) deliverSubscription(ctx context.Context, sub projections.OutboxSubscription) (int, error) {
	d := s.dispatch
	n := 0
	for ctx.Err() == nil {
		if sub.Kind == domain.TargetSalesforce {
			k, more, err := s.deliverSalesforce(ctx, sub)
			n += k
			if err != nil || !more {
				return n, err
			}
			continue
		}
		del, ok, err := s.Outbox.NextPending(ctx, sub.ID)
		if err != nil {
			return n, err
		}
		if !ok || del.NextAt.After(s.clock.Now()) {
			return n, nil
		}
		out, gone := d.attempt(ctx, sub, del)
		if ctx.Err() != nil {
			return n, ctx.Err() // stopped mid-send: sent again after a restart
		}
		if err := s.Outbox.Record(ctx, del, out); err != nil {
			return n, err
		}
		if gone {
			ev := domain.WebhookDisabled{ID: sub.ID, Reason: "the receiver answered 410 Gone", At: s.clock.Now()}
			_, err := s.execute(ctx, outboxCall, domain.WebhooksStream, func([]domain.Event) ([]domain.Event, error) {
				return []domain.Event{ev}, nil
			})
			return n, err
		}
		if !out.Delivered {
			return n, nil
		}
		n++
	}
	return n, ctx.Err()
}

// attempt sends del once and judges the answer (judge); 410 disables the
// subscription (gone).
func (d *dispatcher) attempt(ctx context.Context, sub projections.OutboxSubscription, del projections.OutboxDelivery) (out projections.AttemptOutcome, gone bool) {
	now := d.s.clock.Now()
	code, retryAfter, latency, err := d.post(ctx, sub, del, now)
	if code == http.StatusGone {
		out.Attempt = projections.OutboxAttempt{Delivery: del.ID, N: del.Attempts + 1, At: now, StatusCode: code, Latency: latency,
			Error: "410 Gone: the subscription is disabled"}
		out.Dead = true
		return out, true
	}
	throttled := code == http.StatusTooManyRequests || code >= 500
	return d.judge(del, now, code, retryAfter, latency, err, throttled), false
}

// judge is the outcome of one attempt of del at now: only a 2xx without
// error delivers; a throttled answer (429, 5xx, a CRM's rate limit) waits
// at least its Retry-After; anything else, a timeout or a refused
// connection is retried with backoff until RetryFor has passed since the
// first attempt, and then the delivery is dead.
func (d *dispatcher) judge(del projections.OutboxDelivery, now time.Time, code int, retryAfter, latency time.Duration, err error, throttled bool) (out projections.AttemptOutcome) {
	out.Attempt = projections.OutboxAttempt{Delivery: del.ID, N: del.Attempts + 1, At: now, StatusCode: code, Latency: latency}
	if err != nil {
		out.Attempt.Error = err.Error()
	}
	if err == nil && code >= 200 && code < 300 {
		out.Delivered = true
		return out
	}
	if out.Attempt.Error == "" {
		out.Attempt.Error = "HTTP " + strconv.Itoa(code)
	}
	first := del.FirstTry
	if first.IsZero() {
		first = now
	}
	wait := RetryDelay(del.ID, out.Attempt.N)
	if throttled && retryAfter > wait {
		wait = retryAfter
	}
	if now.Add(wait).Sub(first) > d.cfg.RetryFor {
		out.Dead = true
		return out
	}
	out.RetryAt = now.Add(wait)
	return out
}

// post sends one signed request; it returns the status code, the
// Retry-After the receiver asked for and how long the exchange took.
func (d *dispatcher) post(ctx context.Context, sub projections.OutboxSubscription, del projections.OutboxDelivery, now time.Time) (int, time.Duration, time.Duration, error) {
	secret, err := d.open(sub.SealedSecret)
	if err != nil {
		return 0, 0, 0, err
	}
	sig, err := SignWebhook(secret, del.ID, now, del.Payload)
	if err != nil {
		return 0, 0, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.URL, bytes.NewReader(del.Payload))
	if err != nil {
		return 0, 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "dealreg-webhooks/1")
	req.Header.Set(standardwebhooks.HeaderWebhookID, del.ID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	start := time.Now()
	res, err := d.client.Do(req)
	if err != nil {
		return 0, 0, time.Since(start), err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	return res.StatusCode, parseRetryAfter(res.Header.Get("Retry-After"), now), time.Since(start), nil
}

// SignWebhook returns the webhook-signature header of a delivery per
// Standard Webhooks: "v1," and the base64 HMAC-SHA256, keyed by the
// secret's base64 after "whsec_", of "id.timestamp.body".
func SignWebhook(secret, id string, at time.Time, body []byte) (string, error) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return "", err
	}
	return wh.Sign(id, at, body)
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// runDispatcher delivers after every commit and every second until ctx
// ends.
func (s *Service) runDispatcher(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if _, err := s.deliverDue(ctx, false); err != nil && ctx.Err() == nil {
			s.logger.Error("outbox dispatcher", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.Outbox.Kick():
		case <-t.C:
		}
	}
}
