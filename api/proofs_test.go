package api_test

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/proof"
)

// harnessKey is the signing key of a harness ledger: fresh for each.
func harnessKey(tb testing.TB) (note.Signer, string) {
	tb.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "dealreg.test/ledger")
	require.NoError(tb, err)
	signer, err := note.NewSigner(skey)
	require.NoError(tb, err)
	return signer, vkey
}

func (h *harness) verifier(tb testing.TB) note.Verifier {
	tb.Helper()
	var k api.LedgerKey
	h.mustDo(tb, "acme", http.MethodGet, "/v1/ledger/key", nil, http.StatusOK, &k)
	v, err := proof.NewVerifier(k.Key)
	require.NoError(tb, err)
	require.Equal(tb, "dealreg.test/ledger", k.Origin)
	return v
}

func mustVerify(tb testing.TB, raw []byte, v note.Verifier, older *proof.Checkpoint) proof.Report {
	tb.Helper()
	rep, err := proof.Verify(raw, v, older)
	require.NoError(tb, err, "%s", raw)
	return rep
}

// The seed's dispute: two partners register the same account; each holds a
// receipt from its submission's answer, the reviewer a bundle that orders
// them, and each partner a bundle of its own side only.
func TestProofs_ReceiptsAndDisputeBundle(t *testing.T) {
	h := newHarness(t)
	v := h.verifier(t)
	var early api.CheckpointDoc
	h.mustDo(t, "acme", http.MethodGet, "/v1/ledger/checkpoint", nil, http.StatusOK, &early)
	olderCheckpoint, err := proof.OpenCheckpoint([]byte(early.Checkpoint), v)
	require.NoError(t, err)

	first := h.register(t, "acme", "Adventure Works Cycles", "", http.StatusCreated)
	h.clock.Advance(time.Hour)
	second := h.register(t, "globex", "Adventure Works", "", http.StatusCreated)
	require.Equal(t, domain.StatusPossibleDuplicate, second.Status)

	// Each answer carries the receipt of its submission, durable with it.
	var evs []proof.VerifiedEvent
	for _, r := range []api.Registration{second, first} {
		require.NotNil(t, r.Receipt, "a submission's answer carries its receipt")
		raw, err := json.Marshal(r.Receipt)
		require.NoError(t, err)
		rep := mustVerify(t, raw, v, nil)
		require.Equal(t, "RegistrationSubmitted", rep.Events[0].Leaf.Type)
		require.Equal(t, domain.RegistrationStream(r.ID), rep.Events[0].Leaf.Stream)
		evs = append(evs, rep.Events[0])
	}
	// Two receipts prove who was first by their leaf indexes.
	ordered := proof.Order(evs)
	require.Equal(t, domain.RegistrationStream(first.ID), ordered[0].Leaf.Stream)

	// The same receipt later, with a consistency proof from the checkpoint
	// the partner kept before.
	raw := h.mustDo(t, "acme", http.MethodGet, "/v1/registrations/"+first.ID.String()+"/receipt?since="+strconv.FormatInt(early.Size, 10), nil, http.StatusOK, nil)
	rep := mustVerify(t, raw, v, &olderCheckpoint)
	require.NotNil(t, rep.Older)

	// The partner's receipt list leaves out the verdict that names acme's
	// registration; the reviewer's holds it.
	var mine, staff proof.ReceiptList
	raw = h.mustDo(t, "globex", http.MethodGet, "/v1/registrations/"+second.ID.String()+"/receipts", nil, http.StatusOK, &mine)
	mustVerify(t, raw, v, nil)
	require.NotContains(t, string(raw), first.ID.String(), "a partner's receipts never name another registration")
	raw = h.mustDo(t, "manager", http.MethodGet, "/v1/registrations/"+second.ID.String()+"/receipts", nil, http.StatusOK, &staff)
	mustVerify(t, raw, v, nil)
	require.Less(t, len(mine.Receipts), len(staff.Receipts))
	types := func(l proof.ReceiptList) (out []string) {
		for _, r := range l.Receipts {
			out = append(out, r.Event.Type)
		}
		return out
	}
	require.Contains(t, types(staff), "RegistrationVerdictRecorded")
	require.NotContains(t, types(mine), "RegistrationVerdictRecorded")

	// The reviewer's bundle orders both claims against one checkpoint and
	// proves the case's events.
	c := h.onlyConflict(t)
	var bundle proof.Bundle
	raw = h.mustDo(t, "manager", http.MethodGet, "/v1/conflicts/"+c.ID.String()+"/proof", nil, http.StatusOK, &bundle)
	rep = mustVerify(t, raw, v, nil)
	require.Len(t, bundle.Submissions, 2)
	require.Equal(t, "all", bundle.Side)
	require.Equal(t, domain.RegistrationStream(first.ID), bundle.Submissions[0].Event.Stream, "acme registered first")
	require.Less(t, bundle.Submissions[0].LeafIndex, bundle.Submissions[1].LeafIndex)
	require.NotEmpty(t, bundle.Decisions)
	require.Equal(t, domain.ConflictStream(c.ID), bundle.Decisions[0].Event.Stream)
	require.Len(t, rep.Events, len(bundle.Submissions)+len(bundle.Decisions))

	// A partner's bundle: its own claim and its own registration's events.
	raw = h.mustDo(t, "globex", http.MethodGet, "/v1/conflicts/"+c.ID.String()+"/proof", nil, http.StatusOK, &bundle)
	mustVerify(t, raw, v, nil)
	require.Equal(t, "globex", bundle.Side)
	require.Len(t, bundle.Submissions, 1)
	require.Equal(t, domain.RegistrationStream(second.ID), bundle.Submissions[0].Event.Stream)
	require.NotContains(t, string(raw), first.ID.String())
	require.NotContains(t, string(raw), "acme")

	// Consistency between the early checkpoint and the latest.
	raw = h.mustDo(t, "auditor", http.MethodGet, "/v1/ledger/consistency?from="+strconv.FormatInt(early.Size, 10), nil, http.StatusOK, nil)
	mustVerify(t, raw, v, &olderCheckpoint)
	h.problem(t, "auditor", http.MethodGet, "/v1/ledger/consistency", nil, http.StatusBadRequest, domain.EINVALID)
	h.problem(t, "auditor", http.MethodGet, "/v1/ledger/checkpoints/999999", nil, http.StatusNotFound, domain.ENOTFOUND)
	var exact api.CheckpointDoc
	h.mustDo(t, "auditor", http.MethodGet, "/v1/ledger/checkpoints/"+strconv.FormatInt(early.Size, 10), nil, http.StatusOK, &exact)
	require.Equal(t, early, exact)
}
