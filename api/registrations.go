package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/eventstore/attachments"
	"github.com/dealreg/dealreg/projections"
	"github.com/dealreg/dealreg/proof"
)

// Registration is a registration as the API shows it: the detail view,
// what the partner is told about a duplicate, and (on GET) the history.
// Partners never see the duplicate check's finding (it names other
// registrations); vendor staff and auditors do.
type Registration struct {
	projections.RegistrationDetail
	// Notice tells the partner, in words, what the verdict means for it.
	Notice string `json:"notice,omitempty"`
	// DuplicateOf is set only when the partner registered the same
	// opportunity itself before: it names that earlier registration.
	DuplicateOf *uuid.UUID                 `json:"duplicate_of,omitempty"`
	History     []projections.HistoryEntry `json:"history,omitempty"`
	// Receipt answers a submission: the proof that the ledger holds it,
	// at its place in ledger order (proofs.go).
	Receipt *proof.Receipt `json:"receipt,omitempty"`
}

// RegistrationList is one page of registrations.
type RegistrationList struct {
	Items []RegistrationItem `json:"items"`
	// Next is the cursor of the next page, empty on the last.
	Next string `json:"next,omitempty"`
}

// rawList is how the API writes a RegistrationList: each item's JSON
// copied as the state database holds it (projections.ListJSON), never
// decoded and encoded again.
type rawList struct {
	Items []json.RawMessage `json:"items"`
	Next  string            `json:"next,omitempty"`
}

// RegistrationItem is a registration in a list: its view.
type RegistrationItem = projections.RegistrationView

// ReviewItem is a registration awaiting a decision.
type ReviewItem struct {
	projections.ReviewItem
	// Overdue says whether the due time has passed when the queue is read.
	Overdue bool `json:"overdue"`
}

type createRegistrationRequest struct {
	Type    domain.RegistrationType `json:"type"`
	Details domain.Details          `json:"details"`
	// Submit submits at once; otherwise the registration stays a draft.
	Submit bool `json:"submit"`
}

type rejectRequest struct {
	Reason      domain.RejectReason `json:"reason"`
	Explanation string              `json:"explanation"`
	Guidance    string              `json:"guidance"`
}

type returnRequest struct {
	Message         string   `json:"message"`
	RequestedFields []string `json:"requested_fields"`
}

type reasonRequest struct {
	Reason string `json:"reason"`
}

type closeRequest struct {
	// Outcome is "won" or "lost".
	Outcome    string       `json:"outcome"`
	FinalValue domain.Money `json:"final_value,omitzero"`
	Note       string       `json:"note"`
	Reason     string       `json:"reason"`
}

const (
	partnerDuplicateNotice = "This opportunity is already registered. Your registration cannot proceed."
	partnerOwnNotice       = "You have already registered this opportunity; see duplicate_of."
	partnerPossibleNotice  = "The account may already be claimed. A channel manager will review your registration."
)

// present shapes a registration for caller.
func present(caller app.Caller, d projections.RegistrationDetail) Registration {
	out := Registration{RegistrationDetail: d}
	if f := d.Finding; f != nil && d.Status == domain.StatusDuplicate {
		if f.OwnClaim && len(f.Matches) > 0 {
			m := f.Matches[0]
			out.DuplicateOf = &m
			out.Notice = partnerOwnNotice
		} else {
			out.Notice = partnerDuplicateNotice
		}
	}
	if d.Status == domain.StatusPossibleDuplicate {
		out.Notice = partnerPossibleNotice
	}
	if caller.Actor.Role == domain.RolePartner {
		out.Finding = nil
	}
	return out
}

// redactHistory hides, from partners, what the duplicate check's events
// say about other registrations and grants.
func redactHistory(caller app.Caller, h []projections.HistoryEntry) []projections.HistoryEntry {
	if caller.Actor.Role != domain.RolePartner {
		return h
	}
	for i, e := range h {
		if e.Type != "RegistrationVerdictRecorded" {
			continue
		}
		var v domain.RegistrationVerdictRecorded
		if json.Unmarshal(e.Data, &v) != nil {
			h[i].Data = json.RawMessage(`{}`)
			continue
		}
		shown := map[string]any{"registration_id": v.RegistrationID, "attempt": v.Attempt, "verdict": v.Verdict, "at": v.At}
		if v.OwnClaim {
			shown["own_claim"] = true
			shown["matches"] = v.Matches[:1]
		}
		h[i].Data, _ = json.Marshal(shown)
	}
	return h
}

// presentHistory returns h with the stored data of each entry as the API
// shows event data (presentEventData). h itself, which may be the
// projection's, is left alone.
func presentHistory(h []projections.HistoryEntry) []projections.HistoryEntry {
	if h == nil {
		return nil
	}
	out := make([]projections.HistoryEntry, len(h))
	for i, e := range h {
		e.Data = presentEventData(e.Data)
		out[i] = e
	}
	return out
}

func registrationIDParam(c echo.Context) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		// Not a UUID: it cannot name a registration.
		return uuid.Nil, domain.Errorf(domain.ENOTFOUND, "registration not found")
	}
	return id, nil
}

// visibleRegistration returns the registration of the URL if the caller
// may see it. Handlers call it before they read the body, so that another
// partner's registration answers exactly as one that does not exist, with
// any body: nothing about the body is checked before visibility.
func (s *Server) visibleRegistration(c echo.Context) (uuid.UUID, projections.RegistrationDetail, error) {
	id, err := registrationIDParam(c)
	if err != nil {
		return uuid.Nil, projections.RegistrationDetail{}, err
	}
	d, err := s.app.Visible(callerOf(c), id)
	return id, d, err
}

// respond writes the registration as caller may see it after a command.
func (s *Server) respond(c echo.Context, status int, id uuid.UUID) error {
	d, err := s.app.Visible(callerOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(status, present(callerOf(c), d))
}

func (s *Server) createRegistration(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var req createRegistrationRequest
	if err := decodeJSON(body, &req, false); err != nil {
		return err
	}
	call, err := callFor(c, body)
	if err != nil {
		return err
	}
	id, res, err := s.app.Create(c.Request().Context(), call, req.Type, req.Details, req.Submit)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/registrations/"+id.String())
	if req.Submit {
		return s.respondWithReceipt(c, http.StatusCreated, id, res)
	}
	return s.respond(c, http.StatusCreated, id)
}

func (s *Server) listRegistrations(c echo.Context) error {
	q := c.QueryParams()
	f, fields, err := s.listFilter(c)
	if err != nil {
		return err
	}
	if v := q.Get("sort"); v != "" {
		sort, err := projections.ParseListSort(v)
		var de *domain.Error
		if errors.As(err, &de) {
			fields = append(fields, de.Fields...)
		}
		f.Sort = sort
		if f.Before > 0 && sort.Field == "updated" {
			fields = append(fields, domain.FieldError{Field: "sort", Code: domain.FieldInvalid, Message: "a list as of a past moment cannot be sorted by updated"})
		}
	}
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > projections.MaxListLimit {
			fields = append(fields, domain.FieldError{Field: "limit", Code: domain.FieldOutOfRange, Message: "must be an integer from 1 to " + strconv.Itoa(projections.MaxListLimit)})
		}
		limit = n
	}
	if fields != nil {
		return &domain.Error{Code: domain.EINVALID, Message: "invalid query parameters", Fields: fields}
	}
	if csv, err := wantsCSV(c); err != nil {
		return err
	} else if csv {
		return s.streamRegistrations(c, f, q.Get("cursor"), limit)
	}
	items, next, err := s.app.ListJSON(callerOf(c), f, q.Get("cursor"), limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rawList{Items: items, Next: next})
}

func knownStatus(s domain.Status) bool {
	switch s {
	case domain.StatusDraft, domain.StatusSubmitted, domain.StatusCleared, domain.StatusPossibleDuplicate, domain.StatusUnderReview,
		domain.StatusReturned, domain.StatusActive, domain.StatusExtensionRequested, domain.StatusRejected, domain.StatusDuplicate,
		domain.StatusExpired, domain.StatusClosedWon, domain.StatusClosedLost, domain.StatusWithdrawn:
		return true
	}
	return false
}

func (s *Server) getRegistration(c echo.Context) error {
	id, err := registrationIDParam(c)
	if err != nil {
		return err
	}
	caller := callerOf(c)
	m, err := momentParam(c)
	if err != nil {
		return err
	}
	if !m.IsNow() {
		d, history, err := s.app.VisibleAt(c.Request().Context(), caller, id, m)
		if err != nil {
			return err
		}
		out := present(caller, d)
		out.History = presentHistory(redactHistory(caller, history))
		return c.JSON(http.StatusOK, out)
	}
	d, err := s.app.Visible(caller, id)
	if err != nil {
		return err
	}
	out := present(caller, d)
	out.History = presentHistory(redactHistory(caller, s.app.Registrations.History(id)))
	return c.JSON(http.StatusOK, out)
}

// momentParam reads ?as_of=<RFC 3339> or ?position=<global position>: a
// past moment of the ledger (the zero Moment: now).
func momentParam(c echo.Context) (projections.Moment, error) {
	var m projections.Moment
	var fields []domain.FieldError
	asOf, pos := c.QueryParam("as_of"), c.QueryParam("position")
	if asOf != "" && pos != "" {
		fields = append(fields, domain.FieldError{Field: "as_of", Code: domain.FieldInvalid, Message: "give as_of or position, not both"})
	}
	if asOf != "" {
		t, err := time.Parse(time.RFC3339Nano, asOf)
		if err != nil {
			fields = append(fields, domain.FieldError{Field: "as_of", Code: domain.FieldInvalid, Message: "must be an RFC 3339 time such as 2026-03-31T23:59:59Z"})
		}
		m.Time = t
	}
	if pos != "" {
		n, err := strconv.ParseUint(pos, 10, 64)
		if err != nil {
			fields = append(fields, domain.FieldError{Field: "position", Code: domain.FieldInvalid, Message: "must be a global position (0 or more): the moment just after that event"})
		}
		m.Through, m.ByPosition = n, true
	}
	if fields != nil {
		return projections.Moment{}, &domain.Error{Code: domain.EINVALID, Message: "invalid query parameters", Fields: fields}
	}
	return m, nil
}

// amendRegistration applies a JSON merge patch (RFC 7396) to the details of
// a draft or returned registration.
func (s *Server) amendRegistration(c echo.Context) error {
	id, current, err := s.visibleRegistration(c)
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var patch struct {
		Details json.RawMessage `json:"details"`
	}
	if err := decodeJSON(body, &patch, false); err != nil {
		return err
	}
	base, err := json.Marshal(current.Details)
	if err != nil {
		return err
	}
	merged, err := mergePatch(base, patch.Details)
	if err != nil {
		return invalidBody("details", "must be a JSON object")
	}
	var d domain.Details
	if err := decodeJSON(merged, &d, false); err != nil {
		return prefixFields(err, "details.")
	}
	call, err := callFor(c, body)
	if err != nil {
		return err
	}
	if _, err := s.app.Amend(c.Request().Context(), call, id, d); err != nil {
		return err
	}
	return s.respond(c, http.StatusOK, id)
}

// prefixFields puts prefix before the field names of a validation error.
func prefixFields(err error, prefix string) error {
	de, ok := err.(*domain.Error)
	if !ok {
		return err
	}
	out := *de
	out.Fields = make([]domain.FieldError, len(de.Fields))
	for i, f := range de.Fields {
		f.Field = prefix + f.Field
		out.Fields[i] = f
	}
	return &out
}

// command is the shape of every POST /v1/registrations/{id}/<action>
// handler: decode the body into req (if any), run the command.
func command[Req any](s *Server, run func(ctx context.Context, call app.Call, id uuid.UUID, req Req) (app.Result, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, _, err := s.visibleRegistration(c)
		if err != nil {
			return err
		}
		var req Req
		call, err := bindOptionalCall(c, &req)
		if err != nil {
			return err
		}
		if _, err := run(c.Request().Context(), call, id, req); err != nil {
			return err
		}
		return s.respond(c, http.StatusOK, id)
	}
}

type empty struct{}

func extensionNumber(c echo.Context) (int, error) {
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil || n < 1 {
		return 0, domain.Errorf(domain.ENOTFOUND, "extension request %q not found", c.Param("n"))
	}
	return n, nil
}

func (s *Server) registrationRoutes(g router) {
	a := s.app
	g.POST("/registrations", s.createRegistration)
	g.GET("/registrations", s.listRegistrations)
	g.GET("/registrations/:id", s.getRegistration)
	g.GET("/pipeline/summary", s.pipelineSummary)
	g.GET("/accounts/ownership", s.accountOwnership)
	g.PATCH("/registrations/:id", s.amendRegistration)
	g.POST("/registrations/:id/submit", s.submitRegistration) // proofs.go: answers with the receipt
	g.POST("/registrations/:id/review", command(s, func(ctx context.Context, call app.Call, id uuid.UUID, _ empty) (app.Result, error) {
		return a.StartReview(ctx, call, id)
	}))
	g.POST("/registrations/:id/approve", command(s, func(ctx context.Context, call app.Call, id uuid.UUID, _ empty) (app.Result, error) {
		return a.Approve(ctx, call, id)
	}))
	g.POST("/registrations/:id/reject", command(s, func(ctx context.Context, call app.Call, id uuid.UUID, r rejectRequest) (app.Result, error) {
		return a.Reject(ctx, call, id, r.Reason, r.Explanation, r.Guidance)
	}))
	g.POST("/registrations/:id/return", command(s, func(ctx context.Context, call app.Call, id uuid.UUID, r returnRequest) (app.Result, error) {
		return a.Return(ctx, call, id, r.Message, r.RequestedFields)
	}))
	g.POST("/registrations/:id/progress", command(s, func(ctx context.Context, call app.Call, id uuid.UUID, u domain.ProgressUpdate) (app.Result, error) {
		return a.Progress(ctx, call, id, u)
	}))
	g.POST("/registrations/:id/extensions", command(s, func(ctx context.Context, call app.Call, id uuid.UUID, r reasonRequest) (app.Result, error) {
		return a.RequestExtension(ctx, call, id, r.Reason)
	}))
	g.POST("/registrations/:id/extensions/:n/grant", func(c echo.Context) error {
		n, err := extensionNumber(c)
		if err != nil {
			return err
		}
		return command(s, func(ctx context.Context, call app.Call, id uuid.UUID, _ empty) (app.Result, error) {
			return a.GrantExtension(ctx, call, id, n)
		})(c)
	})
	g.POST("/registrations/:id/extensions/:n/deny", func(c echo.Context) error {
		n, err := extensionNumber(c)
		if err != nil {
			return err
		}
		return command(s, func(ctx context.Context, call app.Call, id uuid.UUID, r reasonRequest) (app.Result, error) {
			return a.DenyExtension(ctx, call, id, n, r.Reason)
		})(c)
	})
	g.POST("/registrations/:id/renew", command(s, func(ctx context.Context, call app.Call, id uuid.UUID, _ empty) (app.Result, error) {
		return a.Renew(ctx, call, id)
	}))
	g.POST("/registrations/:id/close", command(s, func(ctx context.Context, call app.Call, id uuid.UUID, r closeRequest) (app.Result, error) {
		switch r.Outcome {
		case "won":
			return a.CloseWon(ctx, call, id, r.FinalValue, r.Note)
		case "lost":
			return a.CloseLost(ctx, call, id, r.Reason)
		}
		return app.Result{}, &domain.Error{Code: domain.EINVALID, Message: "the close request is invalid", Fields: []domain.FieldError{
			{Field: "outcome", Code: domain.FieldInvalid, Message: "must be one of: won, lost"},
		}}
	}))
	g.POST("/registrations/:id/withdraw", command(s, func(ctx context.Context, call app.Call, id uuid.UUID, r reasonRequest) (app.Result, error) {
		return a.Withdraw(ctx, call, id, r.Reason)
	}))
	g.POST("/registrations/:id/attachments", s.uploadAttachment)
	g.GET("/registrations/:id/attachments/:sha256", s.downloadAttachment)
	g.GET("/review-queue", s.reviewQueue)
}

func (s *Server) reviewQueue(c echo.Context) error {
	limit := 0
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > projections.MaxListLimit {
			return &domain.Error{Code: domain.EINVALID, Message: "invalid query parameters", Fields: []domain.FieldError{
				{Field: "limit", Code: domain.FieldOutOfRange, Message: "must be an integer from 1 to " + strconv.Itoa(projections.MaxListLimit)},
			}}
		}
		limit = n
	}
	csv, err := wantsCSV(c)
	if err != nil {
		return err
	}
	group := c.QueryParam("group")
	fetch := limit
	if group != "" {
		fetch = 0 // filtered below, then cut to limit
	}
	items, err := s.app.ReviewQueue(callerOf(c), fetch)
	if err != nil {
		return err
	}
	now := s.app.Clock().Now()
	kept := items[:0]
	for _, v := range items {
		if group != "" && v.Group != group {
			continue
		}
		if limit > 0 && len(kept) == limit {
			break
		}
		kept = append(kept, v)
	}
	if csv {
		out := startCSV(c, "review-queue", append(registrationColumns[:len(registrationColumns):len(registrationColumns)],
			"group", "due_at", "overdue", "reminded", "escalated", "escalated_to"))
		for _, v := range kept {
			out.registration(v.RegistrationView, v.Group, csvTime(v.DueAt), strconv.FormatBool(v.Overdue(now)),
				strconv.FormatBool(v.Reminded), strconv.FormatBool(v.Escalated), string(v.EscalatedTo))
		}
		return out.flush()
	}
	out := make([]ReviewItem, 0, len(kept))
	for _, v := range kept {
		out = append(out, ReviewItem{ReviewItem: v, Overdue: v.Overdue(now)})
	}
	return c.JSON(http.StatusOK, map[string]any{"items": out})
}

// uploadAttachment stores the request body as a proof document and records
// it on the registration. The document's name comes from the filename
// query parameter or the Content-Disposition header. With an
// Idempotency-Key, a retry of the same upload answers as the first did.
//
// A refused upload keeps nothing: what can be checked before the body is
// read (the caller, the registration's state, the name, the quota against
// Content-Length) is checked first; the body is then staged in a temporary
// file and published under its hash only once the command is decided,
// just before its event is appended.
func (s *Server) uploadAttachment(c echo.Context) error {
	id, err := registrationIDParam(c)
	if err != nil {
		return err
	}
	// The Idempotency-Key is validated here; what the request asks (the
	// document and its name) is fingerprinted once the document is staged.
	call, err := callFor(c, nil)
	if err != nil {
		return err
	}
	caller := call.Caller
	// Check visibility and the role before storing anything.
	if _, err := s.app.Visible(caller, id); err != nil {
		return err
	}
	if caller.Actor.Role != domain.RolePartner {
		return domain.Errorf(domain.EFORBIDDEN, "only the registering partner may attach documents")
	}
	if s.attachments == nil {
		return domain.Errorf(domain.EUNAVAILABLE, "attachments are not configured")
	}
	name := uploadName(c)
	ctx := c.Request().Context()
	opts := app.AttachOptions{Quota: s.attachments.RegistrationQuota()}
	if err := s.attachments.CheckSize(c.Request().ContentLength); err != nil {
		return err
	}
	if call.IdempotencyKey == "" {
		// A retry with a key may repeat a recorded upload, which the
		// ledger answers once the document's hash is known.
		if err := s.app.CheckAttach(ctx, call, id, name, max(c.Request().ContentLength, 0), opts); err != nil {
			return err
		}
	}
	a, publish, discard, err := s.stageDocument(c, &call, name)
	if err != nil {
		return err
	}
	defer discard()
	opts.Publish = publish
	if _, err := s.app.Attach(ctx, call, id, a, opts); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/registrations/"+id.String()+"/attachments/"+a.SHA256)
	return c.JSON(http.StatusCreated, a)
}

// uploadName is the file name of an uploaded document: ?filename= or the
// Content-Disposition header's, reduced to a base name ("" without one).
func uploadName(c echo.Context) string {
	name := c.QueryParam("filename")
	if name == "" {
		if _, params, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentDisposition)); err == nil {
			name = params["filename"]
		}
	}
	return DocumentName(name)
}

// DocumentName reduces the file name an upload gave to a base name ("" for
// none): no directory, nothing that climbs out of one. The API and the
// pages name uploaded documents with it.
func DocumentName(name string) string {
	name = filepath.Base(filepath.Clean("/" + name))
	if name == "/" || name == "." {
		name = ""
	}
	return name
}

// stageDocument stages the request body in the attachment store and
// returns the attachment it would record as name (StageDocument). With an
// Idempotency-Key, call's request hash becomes the document's, so a retry
// sending the same bytes under the same name gets the first answer and
// records nothing more.
func (s *Server) stageDocument(c echo.Context, call *app.Call, name string) (a domain.Attachment, publish func() error, discard func(), err error) {
	a, publish, discard, err = StageDocument(c.Request().Context(), s.attachments, c.Request().Body, c.Request().Header.Get(echo.HeaderContentType), name)
	if err == nil && call.IdempotencyKey != "" {
		call.RequestHash = app.HashRequest(c.Request().Method+" "+c.Request().URL.Path,
			[]byte(a.SHA256+"\x00"+a.ContentType+"\x00"+a.Filename))
	}
	return a, publish, discard, err
}

// StageDocument stages body, declared as contentType, in the attachment
// store and returns the attachment it would record as name; publish
// stores it under its hash (once the command is decided), discard drops
// what was staged and is always to be called. It is the one stager of
// uploaded documents (proofs, MDF receipts) for the API and the pages.
func StageDocument(ctx context.Context, store *attachments.Store, body io.Reader, contentType, name string) (a domain.Attachment, publish func() error, discard func(), err error) {
	staged, err := store.Stage(ctx, body, contentType)
	if err != nil {
		return domain.Attachment{}, nil, nil, err
	}
	blob := staged.Blob()
	if stored, err := store.Stat(blob.SHA256); err == nil {
		// The same bytes are stored already (another registration's, or
		// an earlier upload): Publish will keep those, as first typed.
		blob = stored
	}
	a = domain.Attachment{SHA256: blob.SHA256, Size: blob.Size, ContentType: blob.ContentType, Filename: name}
	publish = func() error {
		stored, err := staged.Publish()
		if err == nil && stored.ContentType != a.ContentType {
			// The same bytes were stored, with another declared type, by
			// an upload that raced this one; the event must name what a
			// download serves.
			return domain.Errorf(domain.ECONFLICT, "the document is already stored as %s; upload it declared as that type", stored.ContentType)
		}
		return err
	}
	return a, publish, func() { staged.Discard() }, nil
}

func (s *Server) downloadAttachment(c echo.Context) error {
	id, err := registrationIDParam(c)
	if err != nil {
		return err
	}
	d, err := s.app.Visible(callerOf(c), id)
	if err != nil {
		return err
	}
	sha := strings.ToLower(c.Param("sha256"))
	var att *domain.Attachment
	for i := range d.Attachments {
		if d.Attachments[i].SHA256 == sha {
			att = &d.Attachments[i]
		}
	}
	if att == nil || s.attachments == nil {
		return domain.Errorf(domain.ENOTFOUND, "attachment %s not found on registration %s", c.Param("sha256"), id)
	}
	return s.serveDocument(c, sha, att.Filename)
}

// serveDocument sends the stored document sha as a download named
// filename: its own media type, never sniffed, its digest, its size.
func (s *Server) serveDocument(c echo.Context, sha, filename string) error {
	return ServeDocument(c.Response(), s.attachments, sha, filename)
}

// ServeDocument sends the stored document sha as a download named
// filename, for the API and the pages alike.
func ServeDocument(w http.ResponseWriter, store *attachments.Store, sha, filename string) error {
	f, blob, err := store.Open(sha)
	if err != nil {
		return err
	}
	defer f.Close()
	h := w.Header()
	h.Set(echo.HeaderContentType, blob.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Digest", "sha-256="+sha)
	disp := "attachment"
	if filename != "" {
		disp = mime.FormatMediaType("attachment", map[string]string{"filename": filename})
	}
	h.Set(echo.HeaderContentDisposition, disp)
	h.Set(echo.HeaderContentLength, strconv.FormatInt(blob.Size, 10))
	w.WriteHeader(http.StatusOK)
	_, err = io.Copy(w, f)
	return err
}
