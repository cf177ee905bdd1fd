package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/google/uuid"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// tokenPrefix starts every token secret, so that leaked tokens are easy to
// recognise (secret scanners) and so that a typo'd header fails fast.
const tokenPrefix = "drt_"

// HashSecret returns the lower-case hex SHA-256 of a token secret, the only
// form in which the ledger keeps it.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// IssuedToken is a newly created token. Secret is shown once and never
// stored.
type IssuedToken struct {
	projections.TokenView
	Secret string `json:"token"`
}

// CreateToken issues an API token with role, bound to partnerID for the
// partner role.
func (s *Service) CreateToken(ctx context.Context, call Call, name string, role domain.Role, partnerID string) (IssuedToken, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return IssuedToken{}, err
	}
	secret := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	id := s.newID()
	if call.IdempotencyKey != "" {
		// A retried creation must not mint a second token, but the secret
		// of the first cannot be shown again.
		if _, ok, err := s.replayed(ctx, call); err != nil {
			return IssuedToken{}, err
		} else if ok {
			return IssuedToken{}, domain.Errorf(domain.ECONFLICT, "a token was already created with this Idempotency-Key; its secret is shown only once")
		}
	}
	_, exists := s.Directory.Partner(partnerID)
	if !exists && partnerID != "" && s.catchUpFresh(ctx) == nil {
		// A partner just enrolled by another process (fresh.go).
		_, exists = s.Directory.Partner(partnerID)
	}
	_, err := s.execute(ctx, call, domain.TokenStream(id), func(stored []domain.Event) ([]domain.Event, error) {
		return domain.IssueToken(call.Actor, id, name, role, partnerID, exists, HashSecret(secret), s.clock.Now())
	})
	if err != nil {
		return IssuedToken{}, err
	}
	t, _ := s.Directory.Token(id)
	return IssuedToken{TokenView: t, Secret: secret}, nil
}

// RevokeToken revokes token id.
func (s *Service) RevokeToken(ctx context.Context, call Call, id uuid.UUID) error {
	_, err := s.execute(ctx, call, domain.TokenStream(id), func(stored []domain.Event) ([]domain.Event, error) {
		revoked := len(stored) > 1
		return domain.RevokeToken(call.Actor, id, len(stored) > 0, revoked, s.clock.Now())
	})
	return err
}

// Authenticate returns the caller a bearer token secret stands for, or an
// EUNAUTHORIZED error for an unknown, malformed or revoked token. A token
// unknown to the directory is looked up again once the directory has
// caught up with the ledger's head (see freshToken), so a token just issued
// by another process (dealreg token create while serve runs) works at once.
func (s *Service) Authenticate(ctx context.Context, secret string) (Caller, error) {
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) > 200 {
		return Caller{}, domain.Errorf(domain.EUNAUTHORIZED, "the bearer token is not a dealreg token")
	}
	hash := HashSecret(secret)
	t, ok := s.Directory.TokenBySecretHash(hash)
	if !ok {
		t, ok = s.freshToken(ctx, hash)
	}
	if !ok {
		return Caller{}, domain.Errorf(domain.EUNAUTHORIZED, "the bearer token is unknown or revoked")
	}
	return Caller{Actor: domain.Actor{ID: "token:" + t.ID.String(), Role: t.Role, PartnerID: t.PartnerID}, Name: t.Name}, nil
}

// freshToken looks the token up again once the follower has reached the
// ledger's head as it is now (catchUpFresh). A flood of unknown tokens
// stays cheap: the store shares one look among concurrent calls, a look
// costs one pragma when nothing was committed, and the directory is then
// usually at the head already.
func (s *Service) freshToken(ctx context.Context, hash string) (projections.TokenView, bool) {
	if err := s.catchUpFresh(ctx); err != nil {
		return projections.TokenView{}, false
	}
	return s.Directory.TokenBySecretHash(hash)
}

// AddPartner enrols a partner.
func (s *Service) AddPartner(ctx context.Context, call Call, p domain.Partner) (projections.PartnerView, error) {
	p = p.Normalize()
	if !domain.ValidPartnerID(p.ID) {
		// Validate before naming a stream after it.
		_, err := domain.AddPartner(call.Actor, p, false, s.clock.Now())
		return projections.PartnerView{}, err
	}
	_, err := s.execute(ctx, call, domain.PartnerStream(p.ID), func(stored []domain.Event) ([]domain.Event, error) {
		return domain.AddPartner(call.Actor, p, len(stored) > 0, s.clock.Now())
	})
	if err != nil {
		return projections.PartnerView{}, err
	}
	v, _ := s.Directory.Partner(p.ID)
	return v, nil
}

// GrantTerritory gives a partner exclusive rights in a territory.
func (s *Service) GrantTerritory(ctx context.Context, call Call, g domain.TerritoryGrant) (projections.GrantView, error) {
	id := s.newID()
	if call.IdempotencyKey != "" {
		id = uuid.NewSHA1(idNamespace, []byte("grant\x00"+call.Actor.ID+"\x00"+call.IdempotencyKey))
	}
	stream := domain.PartnerStream(g.PartnerID)
	if !domain.ValidPartnerID(g.PartnerID) {
		_, err := domain.GrantTerritory(call.Actor, id, g, false, s.clock.Now())
		return projections.GrantView{}, err
	}
	_, err := s.execute(ctx, call, stream, func(stored []domain.Event) ([]domain.Event, error) {
		return domain.GrantTerritory(call.Actor, id, g, len(stored) > 0, s.clock.Now())
	})
	if err != nil {
		return projections.GrantView{}, err
	}
	p, _ := s.Directory.Partner(g.PartnerID)
	for _, gv := range p.Grants {
		if gv.ID == id {
			return gv, nil
		}
	}
	// execute waited for the directory to apply the grant.
	return projections.GrantView{}, domain.Errorf(domain.EINTERNAL, "grant %s missing from the directory after it was recorded", id)
}

// Partners lists the partners: all of them for vendor staff and auditors,
// its own for a partner.
func (s *Service) Partners(caller Caller) ([]projections.PartnerView, error) {
	if err := caller.Actor.Validate(); err != nil {
		return nil, err
	}
	if caller.Actor.Role == domain.RolePartner {
		p, ok := s.Directory.Partner(caller.Actor.PartnerID)
		if !ok {
			return []projections.PartnerView{}, nil
		}
		return []projections.PartnerView{p}, nil
	}
	return s.Directory.Partners(), nil
}
