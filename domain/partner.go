package domain

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// PartnerTier is a partner's level in the program. Higher tiers may get
// more (named accounts, territory grants); the policy decides.
type PartnerTier string

// The partner tiers, lowest first.
const (
	TierRegistered PartnerTier = "registered"
	TierSilver     PartnerTier = "silver"
	TierGold       PartnerTier = "gold"
	TierPlatinum   PartnerTier = "platinum"
)

var partnerTiers = []string{"registered", "silver", "gold", "platinum"}

// Limits of partner, grant and token inputs.
const (
	MaxPartnerIDLen   = 64
	MaxPartnerNameLen = 200
	MaxPartnerRegions = 50
	MaxTokenNameLen   = 200
)

var partnerIDShape = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ValidPartnerID reports whether s can name a partner: 1–64 characters of
// lower-case letters, digits, '.', '_' and '-', starting with a letter or
// digit, so that it is safe in a stream name and a URL.
func ValidPartnerID(s string) bool { return partnerIDShape.MatchString(s) }

// PartnerStream returns the stream of partner id, "partner-<id>". It holds
// the partner's profile and its territory grants.
func PartnerStream(id string) string { return "partner-" + id }

// TokenStream returns the stream of API token id, "token-<uuid>".
func TokenStream(id uuid.UUID) string { return "token-" + id.String() }

// Partner is a reseller enrolled in the program.
type Partner struct {
	ID      string      `json:"id"`
	Name    string      `json:"name"`
	Tier    PartnerTier `json:"tier"`
	Regions []string    `json:"regions,omitempty"`
	// Verticals are the industries the partner sells into (see
	// docs/partners.md); like Regions they describe the partner, they
	// grant nothing (territory grants do).
	Verticals []string `json:"verticals,omitempty"`
}

// Normalize trims the partner's text and sorts and deduplicates its regions
// and verticals.
func (p Partner) Normalize() Partner {
	p.ID = strings.TrimSpace(p.ID)
	p.Name = strings.TrimSpace(p.Name)
	p.Tier = PartnerTier(strings.TrimSpace(string(p.Tier)))
	p.Regions = normalizeSet(p.Regions)
	p.Verticals = normalizeSet(p.Verticals)
	return p
}

// normalizeSet trims, sorts and deduplicates a list of names; an empty one
// is nil.
func normalizeSet(items []string) []string {
	out := make([]string, 0, len(items))
	for _, r := range items {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		return nil
	}
	return out
}

// Validate checks the partner and returns one EINVALID *Error listing every
// failing field, or nil.
func (p Partner) Validate() error {
	var v validator
	switch {
	case p.ID == "":
		v.add("id", FieldRequired, "is required")
	case !ValidPartnerID(p.ID):
		v.add("id", FieldInvalid, "must be 1-64 lower-case letters, digits, '.', '_' or '-'")
	}
	v.requiredText("name", p.Name, MaxPartnerNameLen, false)
	if p.Tier == "" {
		v.add("tier", FieldRequired, "is required")
	} else {
		v.oneOf("tier", string(p.Tier), partnerTiers)
	}
	v.stringList("regions", p.Regions, MaxPartnerRegions, MaxRegionLen)
	v.stringList("verticals", p.Verticals, MaxPartnerRegions, MaxIndustryLen)
	return v.err("the partner is invalid")
}

// PartnerAdded records that a partner joined the program. It is the first
// event of the partner's stream.
type PartnerAdded struct {
	Partner
	AddedBy string    `json:"added_by"`
	At      time.Time `json:"at"`
}

// PartnerUpdated records a new name, tier or region list of a partner.
type PartnerUpdated struct {
	Partner
	UpdatedBy string    `json:"updated_by"`
	At        time.Time `json:"at"`
}

// TerritoryGranted records that a partner was given exclusive rights in a
// territory or vertical. It belongs to the partner's stream.
type TerritoryGranted struct {
	GrantID   uuid.UUID      `json:"grant_id"`
	Grant     TerritoryGrant `json:"grant"`
	GrantedBy string         `json:"granted_by"`
	At        time.Time      `json:"at"`
}

// TokenIssued records a new API token. Only the SHA-256 of the secret is
// kept: the secret itself is shown once, to whoever created the token.
type TokenIssued struct {
	TokenID      uuid.UUID `json:"token_id"`
	Name         string    `json:"name"`
	Role         Role      `json:"role"`
	PartnerID    string    `json:"partner_id,omitempty"`
	SecretSHA256 string    `json:"secret_sha256"`
	IssuedBy     string    `json:"issued_by"`
	At           time.Time `json:"at"`
}

// TokenRevoked records that a token no longer authenticates anyone.
type TokenRevoked struct {
	TokenID   uuid.UUID `json:"token_id"`
	RevokedBy string    `json:"revoked_by"`
	At        time.Time `json:"at"`
}

// adminOnly checks that the actor may manage the program itself.
func adminOnly(actor Actor, action string) error {
	if err := actor.Validate(); err != nil {
		return err
	}
	if actor.Role != RoleAdmin {
		return Errorf(EFORBIDDEN, "only an admin may %s", action)
	}
	return nil
}

// AddPartner enrols a partner. exists tells whether the partner's stream
// already exists; adding it twice is a conflict.
func AddPartner(actor Actor, p Partner, exists bool, now time.Time) ([]Event, error) {
	if err := adminOnly(actor, "add a partner"); err != nil {
		return nil, err
	}
	p = p.Normalize()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if exists {
		return nil, Errorf(ECONFLICT, "partner %s already exists", p.ID)
	}
	return []Event{PartnerAdded{Partner: p, AddedBy: actor.ID, At: canonicalTime(now)}}, nil
}

// GrantTerritory gives partner g.PartnerID (which must exist, as
// partnerExists says) exclusive rights described by g. Channel directors,
// executives and admins may grant territories.
func GrantTerritory(actor Actor, id uuid.UUID, g TerritoryGrant, partnerExists bool, now time.Time) ([]Event, error) {
	if err := actor.Validate(); err != nil {
		return nil, err
	}
	switch actor.Role {
	case RoleChannelDirector, RoleExecutive, RoleAdmin:
	default:
		return nil, Errorf(EFORBIDDEN, "role %q may not grant territories", actor.Role)
	}
	g.Country = strings.ToUpper(strings.TrimSpace(g.Country))
	g.Region, g.Vertical = strings.TrimSpace(g.Region), strings.TrimSpace(g.Vertical)
	g.ValidFrom, g.ValidTo = canonicalTime(g.ValidFrom), canonicalTime(g.ValidTo)
	if err := g.Validate(); err != nil {
		return nil, err
	}
	if id == uuid.Nil {
		return nil, Errorf(EINTERNAL, "grant territory: no grant ID")
	}
	if !partnerExists {
		return nil, &Error{Code: EINVALID, Message: "the territory grant is invalid", Fields: []FieldError{
			{Field: "partner_id", Code: FieldInvalid, Message: "no such partner"},
		}}
	}
	return []Event{TerritoryGranted{GrantID: id, Grant: g, GrantedBy: actor.ID, At: canonicalTime(now)}}, nil
}

// IssueToken creates API token id for a caller with role (bound to
// partnerID when role is partner; partnerExists says whether that partner
// is enrolled). secretSHA256 is the lower-case hex SHA-256 of the secret.
func IssueToken(actor Actor, id uuid.UUID, name string, role Role, partnerID string, partnerExists bool, secretSHA256 string, now time.Time) ([]Event, error) {
	if err := adminOnly(actor, "issue tokens"); err != nil {
		return nil, err
	}
	var v validator
	name = strings.TrimSpace(name)
	v.requiredText("name", name, MaxTokenNameLen, false)
	switch {
	case !role.Valid():
		v.add("role", FieldInvalid, "must be one of: partner, channel_manager, channel_director, executive, channel_leader, channel_marketing, auditor, direct_sales, admin")
	case role == RolePartner && partnerID == "":
		v.add("partner_id", FieldRequired, "is required for a partner token")
	case role == RolePartner && !partnerExists:
		v.add("partner_id", FieldInvalid, "no such partner")
	case role != RolePartner && partnerID != "":
		v.add("partner_id", FieldInvalid, "only a partner token is bound to a partner")
	}
	if !sha256Hex.MatchString(secretSHA256) {
		v.add("secret_sha256", FieldInvalid, "must be 64 lower-case hex digits")
	}
	if err := v.err("the token is invalid"); err != nil {
		return nil, err
	}
	return []Event{TokenIssued{
		TokenID: id, Name: name, Role: role, PartnerID: partnerID,
		SecretSHA256: secretSHA256, IssuedBy: actor.ID, At: canonicalTime(now),
	}}, nil
}

// RevokeToken revokes token id; issued tells whether it exists and revoked
// whether it was revoked already (revoking twice is a conflict).
func RevokeToken(actor Actor, id uuid.UUID, issued, revoked bool, now time.Time) ([]Event, error) {
	if err := adminOnly(actor, "revoke tokens"); err != nil {
		return nil, err
	}
	switch {
	case !issued:
		return nil, Errorf(ENOTFOUND, "token not found")
	case revoked:
		return nil, Errorf(ECONFLICT, "token %s is already revoked", id)
	}
	return []Event{TokenRevoked{TokenID: id, RevokedBy: actor.ID, At: canonicalTime(now)}}, nil
}
