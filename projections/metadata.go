package projections

import (
	json "github.com/goccy/go-json"

	"github.com/dealreg/dealreg/domain"
)

// Metadata is the metadata the API writes on every event: who acted, in
// which role and for which partner, and the IDs that tie a request's events
// together. Every key is optional.
type Metadata struct {
	ActorID        string      `json:"actor_id,omitempty"`
	ActorName      string      `json:"actor_name,omitempty"`
	Role           domain.Role `json:"role,omitempty"`
	PartnerID      string      `json:"partner_id,omitempty"`
	CorrelationID  string      `json:"correlation_id,omitempty"`
	CausationID    string      `json:"causation_id,omitempty"`
	IdempotencyKey string      `json:"idempotency_key,omitempty"`
	// RequestHash fingerprints the request an idempotency key was first
	// used with, so that reusing the key for another request is refused.
	RequestHash string `json:"request_hash,omitempty"`
}

// ParseMetadata decodes event metadata. Empty or null metadata is the zero
// Metadata; unknown keys are ignored. Malformed JSON is an error, which
// projections ignore (see the package comment) but tools such as verify may
// want to report.
func ParseMetadata(raw json.RawMessage) (Metadata, error) {
	var m Metadata
	if len(raw) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return Metadata{}, err
	}
	return m, nil
}
