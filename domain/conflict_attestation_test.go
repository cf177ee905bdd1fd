package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

var (
	cfAttID   = uuid.MustParse("00000000-0000-4000-8000-0000000000a1")
	cfAttHash = strings.Repeat("ab", 32)
	cfContact = domain.AttestationContact{Name: "Ana", Email: "Ana@XYZ.example"}
)

func TestConflict_AttestationRequest(t *testing.T) {
	exp := cfCmdAt.Add(domain.AttestationLifetime)
	c := cfOpen(t, cfPvP())
	for _, a := range []domain.Actor{cfAuditor, cfAdmin, cfSales} {
		_, err := c.RequestAttestation(a, cfAttID, cfAttHash, exp, cfContact, cfCmdAt)
		require.Equal(t, domain.EFORBIDDEN, domain.ErrorCode(err), a.Role)
	}
	_, err := c.RequestAttestation(cfStranger, cfAttID, cfAttHash, exp, cfContact, cfCmdAt)
	require.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err))
	_, err = c.RequestAttestation(cfManager, cfAttID, cfAttHash, exp, domain.AttestationContact{Email: "nope"}, cfCmdAt)
	requireFields(t, err, "email")
	_, err = cfOpen(t, cfPvD()).RequestAttestation(cfManager, cfAttID, cfAttHash, exp, cfContact, cfCmdAt)
	require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err), "partner-vs-direct cases are not attested")

	events, err := c.RequestAttestation(cfManager, cfAttID, cfAttHash, exp, cfContact, cfCmdAt)
	require.NoError(t, err)
	req := events[0].(domain.ConflictAttestationRequested)
	require.Equal(t, "ana@xyz.example", req.Personal.Email)
	require.Equal(t, exp, req.ExpiresAt)
}

func TestConflict_AttestationAnswer(t *testing.T) {
	exp := cfCmdAt.Add(domain.AttestationLifetime)
	c := cfOpen(t, cfPvP())
	cfDo(t, c)(c.RequestAttestation(cfManager, cfAttID, cfAttHash, exp, cfContact, cfCmdAt))
	rec, clause, _ := c.Recommendation()
	require.Equal(t, cfKeyA, rec)
	require.Equal(t, domain.ClauseFirstToRegister, clause)

	at := cfCmdAt.Add(time.Hour)
	_, err := c.Attest(strings.Repeat("cd", 32), cfKeyB, "cloud", at)
	require.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err), "unknown hash")
	_, err = c.Attest(cfAttHash, cfKeyB, "cloud", exp)
	require.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err), "expired")
	_, err = c.Attest(cfAttHash, cfKeyB, "", at)
	requireFields(t, err, "solution")
	_, err = c.Attest(cfAttHash, cfKeyC, "cloud", at)
	requireFields(t, err, "party_key")

	cfDo(t, c)(c.Attest(cfAttHash, cfKeyB, "cloud migration", at))
	_, err = c.Attest(cfAttHash, "", "", at)
	require.Equal(t, domain.ENOTFOUND, domain.ErrorCode(err), "single use")
	rec, clause, _ = c.Recommendation()
	require.Equal(t, cfKeyB, rec, "the recommendation follows the customer")
	require.Equal(t, domain.ClauseCustomerAttestation, clause)
	// Deciding for the first registrant now departs from it: level 2.
	_, err = c.Decide(cfManager, cfAward(cfKeyA), domain.DefaultPolicy(), at)
	require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err))
	events, err := c.Decide(cfManager, cfAward(cfKeyB), domain.DefaultPolicy(), at)
	require.NoError(t, err)
	require.False(t, events[0].(domain.ConflictDecided).Overrode)
}

// requireFields checks that err is EINVALID naming exactly fields.
func requireFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	require.Equal(t, domain.EINVALID, domain.ErrorCode(err), "%v", err)
	de := err.(*domain.Error)
	var got []string
	for _, f := range de.Fields {
		got = append(got, f.Field)
	}
	require.Equal(t, fields, got)
}
