package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"math"
	"net/http"
	"sort"
	"strconv"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/proof"
)

// Proofs is what the proof routes need from the ledger (eventstore.SQLite
// has it): receipts and consistency proofs from the stored tree hashes, and
// the signed checkpoints it stored. See docs/proofs.md.
type Proofs interface {
	// Receipts returns a receipt per position, all against one signed
	// checkpoint; since > 0 adds a consistency proof from that size.
	Receipts(ctx context.Context, positions []uint64, since int64) ([]proof.Receipt, error)
	// SignedCheckpoint returns the signed checkpoint of size events (0:
	// the latest); domain.ENOTFOUND if none.
	SignedCheckpoint(ctx context.Context, size int64) ([]byte, error)
	// Consistency proves the tree of from events a prefix of the stored
	// checkpoint of to events (0: the latest).
	Consistency(ctx context.Context, from, to int64) (proof.Consistency, error)
}

// LedgerKey is the ledger's public verifier key.
type LedgerKey struct {
	// Key is the signed-note verifier key: origin+hash+base64(Ed25519).
	Key    string `json:"key"`
	Origin string `json:"origin"`
}

// CheckpointDoc is a signed checkpoint as the API shows it.
type CheckpointDoc struct {
	Size int64 `json:"size"`
	// Root is the RFC 6962 root hash, base64.
	Root string `json:"root"`
	// Checkpoint is the signed note (C2SP tlog-checkpoint), verbatim.
	Checkpoint string `json:"checkpoint"`
}

func (s *Server) proofRoutes(g router) {
	g.GET("/ledger/key", s.ledgerKey)
	g.GET("/ledger/checkpoint", s.latestCheckpoint)
	g.GET("/ledger/checkpoints/:size", s.checkpointOfSize)
	g.GET("/ledger/consistency", s.ledgerConsistency)
	g.GET("/registrations/:id/receipt", s.registrationReceipt)
	g.GET("/registrations/:id/receipts", s.registrationReceipts)
	g.GET("/conflicts/:id/proof", s.conflictProof)
}

// proofs returns the ledger's proofs, or 503 when the server has none (no
// signing key).
func (s *Server) proofs() (Proofs, error) {
	p := s.cfg.Proofs
	if p == nil {
		p, _ = s.store.(Proofs)
	}
	if p == nil || s.cfg.VerifierKey == "" {
		return nil, domain.Errorf(domain.EUNAVAILABLE, "this server signs no checkpoints: it has no signing key")
	}
	return p, nil
}

func (s *Server) ledgerKey(c echo.Context) error {
	if _, err := s.proofs(); err != nil {
		return err
	}
	v, err := proof.NewVerifier(s.cfg.VerifierKey)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, LedgerKey{Key: s.cfg.VerifierKey, Origin: v.Name()})
}

func checkpointDoc(signed []byte) (CheckpointDoc, error) {
	text, _, _ := cutNote(signed)
	cp, err := proof.ParseCheckpoint(text)
	if err != nil {
		return CheckpointDoc{}, err
	}
	return CheckpointDoc{Size: cp.Size, Root: base64.StdEncoding.EncodeToString(cp.Root[:]), Checkpoint: string(signed)}, nil
}

// cutNote splits a signed note into its text (with its final newline) and
// signature lines.
func cutNote(signed []byte) (string, string, bool) {
	for i := 0; i+1 < len(signed); i++ {
		if signed[i] == '\n' && signed[i+1] == '\n' {
			return string(signed[:i+1]), string(signed[i+2:]), true
		}
	}
	return string(signed), "", false
}

func (s *Server) serveCheckpoint(c echo.Context, size int64) error {
	p, err := s.proofs()
	if err != nil {
		return err
	}
	signed, err := p.SignedCheckpoint(c.Request().Context(), size)
	if err != nil {
		return err
	}
	doc, err := checkpointDoc(signed)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, doc)
}

func (s *Server) latestCheckpoint(c echo.Context) error { return s.serveCheckpoint(c, 0) }

func (s *Server) checkpointOfSize(c echo.Context) error {
	n, err := strconv.ParseInt(c.Param("size"), 10, 64)
	if err != nil || n < 1 {
		return domain.Errorf(domain.ENOTFOUND, "no checkpoint of size %q", c.Param("size"))
	}
	return s.serveCheckpoint(c, n)
}

func sizeParam(c echo.Context, name string, fields *[]domain.FieldError) int64 {
	v := c.QueryParam(name)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		*fields = append(*fields, domain.FieldError{Field: name, Code: domain.FieldOutOfRange, Message: name + " must be a tree size, a positive integer"})
	}
	return n
}

func (s *Server) ledgerConsistency(c echo.Context) error {
	var fields []domain.FieldError
	from, to := sizeParam(c, "from", &fields), sizeParam(c, "to", &fields)
	if c.QueryParam("from") == "" {
		fields = append(fields, domain.FieldError{Field: "from", Code: domain.FieldRequired, Message: "from is the size of the older checkpoint"})
	}
	if fields != nil {
		return &domain.Error{Code: domain.EINVALID, Message: "invalid query parameters", Fields: fields}
	}
	p, err := s.proofs()
	if err != nil {
		return err
	}
	doc, err := p.Consistency(c.Request().Context(), from, to)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, doc)
}

// since reads the optional ?since=N (an older checkpoint's size).
func since(c echo.Context) (int64, error) {
	var fields []domain.FieldError
	n := sizeParam(c, "since", &fields)
	if fields != nil {
		return 0, &domain.Error{Code: domain.EINVALID, Message: "invalid query parameters", Fields: fields}
	}
	return n, nil
}

// partnerMaySee says whether a partner may hold the leaf bytes of e, an
// event of its own registration's stream. A leaf is the event exactly as
// stored, so it cannot be redacted: the duplicate check's verdict naming
// other registrations, grants or direct deals is left out.
func partnerMaySee(e domain.RecordedEvent) bool {
	if e.Type != "RegistrationVerdictRecorded" {
		return true
	}
	var v domain.RegistrationVerdictRecorded
	if json.Unmarshal(e.Data, &v) != nil {
		return false
	}
	others := len(v.Matches)
	if v.OwnClaim && others > 0 {
		others--
	}
	return others == 0 && len(v.GrantConflicts) == 0 && len(v.DirectMatches) == 0
}

// visibleEvents returns the events of registration id the caller may hold
// receipts for, in ledger order.
func (s *Server) visibleEvents(ctx context.Context, caller app.Caller, id uuid.UUID) ([]domain.RecordedEvent, error) {
	return visibleEvents(ctx, s.store, caller, id)
}

func visibleEvents(ctx context.Context, store domain.EventStore, caller app.Caller, id uuid.UUID) ([]domain.RecordedEvent, error) {
	events, err := store.ReadStream(ctx, domain.RegistrationStream(id), domain.ReadStreamOptions{})
	if err != nil {
		return nil, err
	}
	if caller.Actor.Role != domain.RolePartner {
		return events, nil
	}
	var out []domain.RecordedEvent
	for _, e := range events {
		if partnerMaySee(e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// submissionReceipt returns the receipt of registration id's submission at
// or before position at (0: its first submission).
func (s *Server) submissionReceipt(ctx context.Context, id uuid.UUID, at uint64, sinceSize int64) (*proof.Receipt, error) {
	p, err := s.proofs()
	if err != nil {
		return nil, err
	}
	return SubmissionReceipt(ctx, s.store, p, id, at, sinceSize)
}

// SubmissionReceipt returns the receipt of registration id's submission at
// or before position at (0: its first submission), with a consistency
// proof from the checkpoint of sinceSize events when it is above 0. The
// caller must be one who may see the registration (app.Service.Visible).
func SubmissionReceipt(ctx context.Context, store domain.EventStore, p Proofs, id uuid.UUID, at uint64, sinceSize int64) (*proof.Receipt, error) {
	stream := domain.RegistrationStream(id)
	if at > 0 && at != math.MaxUint64 {
		// A submission that just appended at at: the receipt of that
		// event, if it is the registration's submission, needs no read
		// of the stream to find it.
		rs, err := p.Receipts(ctx, []uint64{at}, sinceSize)
		if err != nil {
			return nil, err
		}
		if e := rs[0].Event; e.Stream == stream && e.Type == "RegistrationSubmitted" {
			return &rs[0], nil
		}
	}
	events, err := store.ReadStream(ctx, stream, domain.ReadStreamOptions{})
	if err != nil {
		return nil, err
	}
	var pos uint64
	found := false
	for _, e := range events {
		if e.Type != "RegistrationSubmitted" || (at > 0 && e.Position > at) {
			continue
		}
		pos, found = e.Position, true
		if at == 0 {
			break
		}
	}
	if !found {
		return nil, domain.Errorf(domain.ECONFLICT, "the registration has not been submitted: it has no receipt yet")
	}
	rs, err := p.Receipts(ctx, []uint64{pos}, sinceSize)
	if err != nil {
		return nil, err
	}
	return &rs[0], nil
}

// RegistrationReceipts returns the receipt list of registration id: one
// receipt per event of it that caller may hold (a partner: none for a
// verdict naming others), all against one checkpoint. The caller must be
// one who may see the registration (app.Service.Visible); the API and the
// portal answer with it alike.
func RegistrationReceipts(ctx context.Context, store domain.EventStore, p Proofs, caller app.Caller, id uuid.UUID, sinceSize int64) (proof.ReceiptList, error) {
	events, err := visibleEvents(ctx, store, caller, id)
	if err != nil {
		return proof.ReceiptList{}, err
	}
	positions := make([]uint64, len(events))
	for i, e := range events {
		positions[i] = e.Position
	}
	list := proof.ReceiptList{Format: proof.ReceiptListFormat, RegistrationID: id.String(), Receipts: []proof.Receipt{}}
	if len(positions) > 0 {
		if list.Receipts, err = p.Receipts(ctx, positions, sinceSize); err != nil {
			return proof.ReceiptList{}, err
		}
	}
	return list, nil
}

func (s *Server) registrationReceipt(c echo.Context) error {
	id, _, err := s.visibleRegistration(c)
	if err != nil {
		return err
	}
	n, err := since(c)
	if err != nil {
		return err
	}
	r, err := s.submissionReceipt(c.Request().Context(), id, 0, n)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (s *Server) registrationReceipts(c echo.Context) error {
	id, _, err := s.visibleRegistration(c)
	if err != nil {
		return err
	}
	n, err := since(c)
	if err != nil {
		return err
	}
	p, err := s.proofs()
	if err != nil {
		return err
	}
	list, err := RegistrationReceipts(c.Request().Context(), s.store, p, callerOf(c), id, n)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list)
}

// conflictProof answers GET /v1/conflicts/{id}/proof: the competing
// claims' receipts and the decisions on the case, against one checkpoint.
// Vendor staff and auditors get every party and the case's own events; a
// partner gets its own claim and the events of its own registration only.
func (s *Server) conflictProof(c echo.Context) error {
	id, err := conflictIDParam(c)
	if err != nil {
		return err
	}
	caller := callerOf(c)
	v, err := s.conflictFor(caller, id)
	if err != nil {
		return err
	}
	if caller.Actor.Role == domain.RoleDirectSales {
		return domain.Errorf(domain.EFORBIDDEN, "direct sales may not read partner registrations' proofs")
	}
	n, err := since(c)
	if err != nil {
		return err
	}
	p, err := s.proofs()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	claims := make([]uint64, 0, len(v.Parties))
	for _, party := range v.Parties {
		claims = append(claims, party.ClaimPosition)
	}
	sort.Slice(claims, func(i, j int) bool { return claims[i] < claims[j] })
	var decisions []uint64
	side := "all"
	if caller.Actor.Role == domain.RolePartner {
		side = caller.Actor.PartnerID
		events, err := s.visibleEvents(ctx, caller, v.Parties[0].RegistrationID)
		if err != nil {
			return err
		}
		for _, e := range events {
			if e.Position > claims[0] {
				decisions = append(decisions, e.Position)
			}
		}
	} else {
		events, err := s.store.ReadStream(ctx, domain.ConflictStream(id), domain.ReadStreamOptions{})
		if err != nil {
			return err
		}
		for _, e := range events {
			decisions = append(decisions, e.Position)
		}
	}
	rs, err := p.Receipts(ctx, append(append([]uint64{}, claims...), decisions...), n)
	if err != nil {
		return err
	}
	b := proof.Bundle{
		Format: proof.BundleFormat, ConflictID: id.String(), Side: side, Checkpoint: rs[0].Checkpoint,
		Submissions: rs[:len(claims)], Decisions: rs[len(claims):], Consistency: rs[0].Consistency,
	}
	if b.Decisions == nil {
		b.Decisions = []proof.Receipt{}
	}
	return c.JSON(http.StatusOK, b)
}

// submitRegistration is POST /v1/registrations/{id}/submit: the command,
// answered with the registration and the receipt of this submission.
func (s *Server) submitRegistration(c echo.Context) error {
	id, _, err := s.visibleRegistration(c)
	if err != nil {
		return err
	}
	var req empty
	call, err := bindOptionalCall(c, &req)
	if err != nil {
		return err
	}
	res, err := s.app.Submit(c.Request().Context(), call, id)
	if err != nil {
		return err
	}
	return s.respondWithReceipt(c, http.StatusOK, id, res)
}

// respondWithReceipt writes the registration as respond does, with the
// receipt of the submission res made (the latest at or before its
// position). The checkpoint that
// covers the submission was stored in the submission's own commit; a
// server without a signing key answers without a receipt.
func (s *Server) respondWithReceipt(c echo.Context, status int, id uuid.UUID, res app.Result) error {
	at := res.Position
	if res.Replayed {
		// A retry answers with the submission it repeats: the latest.
		at = math.MaxUint64
	}
	d, err := s.app.Visible(callerOf(c), id)
	if err != nil {
		return err
	}
	out := present(callerOf(c), d)
	if _, perr := s.proofs(); perr == nil {
		if out.Receipt, err = s.submissionReceipt(c.Request().Context(), id, at, 0); err != nil {
			return err
		}
	}
	return c.JSON(status, out)
}
