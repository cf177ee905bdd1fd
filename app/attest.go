package app

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// Customer attestation links (domain/conflict_attestation.go).
//
// A link's token is "dat_" + base64url(payload) + "." + base64url(mac):
// the payload is the conflict ID, the attestation ID and the expiry (Unix
// seconds, big-endian), the mac its HMAC-SHA256 under a key derived from
// the server's secret key (the one that seals webhook secrets). A forged,
// altered or expired token is refused before the ledger is read; the
// ledger keeps only the token's SHA-256, which also makes it single use:
// the case records the answer against that hash.

const attestPrefix = "dat_"

// attestKeyFrom derives the attestation links' HMAC key from the server's
// secret key, so that the two uses never share a key.
func attestKeyFrom(secret []byte) []byte {
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("dealreg customer attestation links v1"))
	return m.Sum(nil)
}

// attestToken signs the link of attestation id of conflict cid, valid
// until exp (whole seconds).
func (s *Service) attestToken(cid, id uuid.UUID, exp time.Time) string {
	payload := make([]byte, 0, 40)
	payload = append(payload, cid[:]...)
	payload = append(payload, id[:]...)
	payload = binary.BigEndian.AppendUint64(payload, uint64(exp.Unix()))
	m := hmac.New(sha256.New, s.attestKey)
	m.Write(payload)
	return attestPrefix + base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// parseAttestToken checks token's signature and expiry at now and returns
// the conflict it belongs to. Every failure is the same not-found error.
func (s *Service) parseAttestToken(token string, now time.Time) (uuid.UUID, error) {
	spent := domain.Errorf(domain.ENOTFOUND, "attestation link not valid")
	rest, ok := strings.CutPrefix(token, attestPrefix)
	if !ok || len(rest) > 128 {
		return uuid.Nil, spent
	}
	p64, m64, ok := strings.Cut(rest, ".")
	if !ok {
		return uuid.Nil, spent
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p64)
	mac, err2 := base64.RawURLEncoding.DecodeString(m64)
	if err1 != nil || err2 != nil || len(payload) != 40 {
		return uuid.Nil, spent
	}
	m := hmac.New(sha256.New, s.attestKey)
	m.Write(payload)
	if !hmac.Equal(mac, m.Sum(nil)) {
		return uuid.Nil, spent
	}
	cid, _ := uuid.FromBytes(payload[:16])
	exp := time.Unix(int64(binary.BigEndian.Uint64(payload[32:])), 0)
	if !now.Before(exp) {
		return uuid.Nil, spent
	}
	// The re-encoded token must be the one given: one spelling per link.
	id, _ := uuid.FromBytes(payload[16:32])
	if !bytes.Equal([]byte(s.attestToken(cid, id, exp)), []byte(token)) {
		return uuid.Nil, spent
	}
	return cid, nil
}

// AttestationLink is an attestation just requested: the link to send to
// the prospect's contact. The token is shown to the requester and never
// stored.
type AttestationLink struct {
	AttestationID uuid.UUID `json:"attestation_id"`
	ConflictID    uuid.UUID `json:"conflict_id"`
	Token         string    `json:"token"`
	// Path is the public page of the link, under the server's address.
	Path      string    `json:"path"`
	ExpiresAt time.Time `json:"expires_at"`
}

// RequestAttestation sends (records) a customer attestation on open
// partner-vs-partner conflict id to contact. With an idempotency key the
// same request returns the same link again.
func (s *Service) RequestAttestation(ctx context.Context, call Call, id uuid.UUID, contact domain.AttestationContact) (AttestationLink, error) {
	now := s.clock.Now()
	aid := s.newID()
	if call.IdempotencyKey != "" {
		aid = uuid.NewSHA1(idNamespace, []byte("attestation\x00"+call.Actor.ID+"\x00"+call.IdempotencyKey))
	}
	exp := now.UTC().Truncate(time.Second).Add(domain.AttestationLifetime)
	token := s.attestToken(id, aid, exp)
	if _, err := s.updateConflict(ctx, call, id, func(c *domain.Conflict) ([]domain.Event, error) {
		return c.RequestAttestation(call.Actor, aid, HashSecret(token), exp, contact, now)
	}); err != nil {
		return AttestationLink{}, err
	}
	if call.IdempotencyKey != "" {
		// A replay: the link of the attestation first recorded.
		if c, err := s.conflictAggregate(ctx, id); err == nil {
			for _, a := range c.Attestations() {
				if a.Request.AttestationID == aid {
					exp = a.Request.ExpiresAt
					token = s.attestToken(id, aid, exp)
				}
			}
		}
	}
	return AttestationLink{AttestationID: aid, ConflictID: id, Token: token, Path: "/attest/" + token, ExpiresAt: exp}, nil
}

// errNotToSend marks a mail that is no longer of use: it is not sent,
// and not retried.
var errNotToSend = errors.New("not sent")

// attestationLink rebuilds, when its mail is sent, the link of the
// attestation the fields of its message name (notify.Classify): the
// outbox stores the link's parts, never its token. A link that can no
// longer be answered (expired, answered, its case decided) is
// errNotToSend.
func (s *Service) attestationLink(ctx context.Context, f map[string]string) (string, error) {
	cid, err1 := uuid.Parse(f["conflict"])
	aid, err2 := uuid.Parse(f["attestation"])
	exp, err3 := time.Parse(time.RFC3339, f["expires_at"])
	if err := errors.Join(err1, err2, err3); err != nil {
		return "", fmt.Errorf("attestation mail: %w", err)
	}
	if s.publicURL == "" {
		return "", fmt.Errorf("attestation mail: %w: the server has no public URL to link to", errNotToSend)
	}
	token := s.attestToken(cid, aid, exp)
	c, err := s.conflictAggregate(ctx, cid)
	if err == nil {
		_, err = c.PendingAttestation(HashSecret(token), s.clock.Now())
	}
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return "", fmt.Errorf("attestation mail: %w: the link can no longer be answered", errNotToSend)
	}
	if err != nil {
		return "", err
	}
	return s.publicURL + "/attest/" + token, nil
}

// AttestationMail returns the outbox's delivery of the e-mail of
// attestation id (its status: pending, delivered, dead), if one exists.
func (s *Service) AttestationMail(ctx context.Context, id uuid.UUID) (projections.OutboxDelivery, bool) {
	dels, err := s.Outbox.Deliveries(ctx, projections.ContactPrefix+id.String(), "", 0, 1)
	if err != nil || len(dels) == 0 {
		return projections.OutboxDelivery{}, false
	}
	return dels[0], true
}

func (s *Service) conflictAggregate(ctx context.Context, id uuid.UUID) (*domain.Conflict, error) {
	stored, err := s.readStream(ctx, domain.ConflictStream(id))
	if err != nil {
		return nil, err
	}
	if len(stored) == 0 {
		return nil, domain.Errorf(domain.ENOTFOUND, "attestation link not valid")
	}
	return domain.RebuildConflict(stored...)
}

// AttestationChoice is one partner the customer may name.
type AttestationChoice struct {
	PartyKey string
	Partner  string // the partner's display name
}

// AttestationQuestion is all the public page shows: the named partners,
// and until when the link can be answered. Nothing else of the case.
type AttestationQuestion struct {
	Choices   []AttestationChoice
	ExpiresAt time.Time
}

// AttestationQuestionFor returns what the link token asks. A forged,
// expired, answered or unknown link, or one whose case is decided, is
// ENOTFOUND, in the same words.
func (s *Service) AttestationQuestionFor(ctx context.Context, token string) (AttestationQuestion, error) {
	now := s.clock.Now()
	cid, err := s.parseAttestToken(token, now)
	if err != nil {
		return AttestationQuestion{}, err
	}
	c, err := s.conflictAggregate(ctx, cid)
	if err != nil {
		return AttestationQuestion{}, domain.Errorf(domain.ENOTFOUND, "attestation link not valid")
	}
	req, err := c.PendingAttestation(HashSecret(token), now)
	if err != nil {
		return AttestationQuestion{}, err
	}
	q := AttestationQuestion{ExpiresAt: req.ExpiresAt}
	seen := map[string]bool{}
	for _, p := range c.Parties() {
		if p.Kind != domain.PartyPartner || seen[p.PartnerID] {
			continue
		}
		seen[p.PartnerID] = true
		name := p.PartnerID
		if v, ok := s.Directory.Partner(p.PartnerID); ok && v.Name != "" {
			name = v.Name
		}
		q.Choices = append(q.Choices, AttestationChoice{PartyKey: p.Key, Partner: name})
	}
	return q, nil
}

// Attest records the customer's answer to the link token: the party it
// works with ("" for none of them) and the solution. The link is spent
// once answered.
func (s *Service) Attest(ctx context.Context, token, partyKey, solution string) error {
	cid, err := s.parseAttestToken(token, s.clock.Now())
	if err != nil {
		return err
	}
	hash := HashSecret(token)
	call := Call{Caller: Caller{Actor: domain.Actor{ID: "customer:attestation", Role: domain.RoleAdmin}, Name: "prospect's contact (attestation link)"}}
	_, err = s.updateConflict(ctx, call, cid, func(c *domain.Conflict) ([]domain.Event, error) {
		return c.Attest(hash, partyKey, solution, s.clock.Now())
	})
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return domain.Errorf(domain.ENOTFOUND, "attestation link not valid")
	}
	return err
}
