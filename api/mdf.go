package api

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// MDFRequestCreated answers a new MDF request: its number and the account
// after it.
type MDFRequestCreated struct {
	Request int            `json:"request"`
	Account app.MDFAccount `json:"account"`
}

type mdfApproveRequest struct {
	Amount domain.Money `json:"amount,omitzero"`
	Note   string       `json:"note"`
}

type mdfClaimRequest struct {
	Amount   domain.Money `json:"amount"`
	Receipts []string     `json:"receipts"`
	Note     string       `json:"note"`
}

type mdfReimburseRequest struct {
	Amount domain.Money `json:"amount,omitzero"`
	Reason string       `json:"reason"`
}

func (s *Server) mdfRoutes(g router) {
	a := s.app
	g.GET("/registrations/:id/mdf", s.getMDF)
	g.POST("/registrations/:id/mdf-requests", s.requestMDF)
	g.GET("/registrations/:id/mdf-requests/:n", s.getMDFRequest)
	g.POST("/registrations/:id/mdf-requests/:n/approve", mdfCommand(s, func(ctx context.Context, call app.Call, id uuid.UUID, n int, r mdfApproveRequest) (app.Result, error) {
		return a.ApproveMDF(ctx, call, id, n, r.Amount, r.Note)
	}))
	g.POST("/registrations/:id/mdf-requests/:n/reject", mdfCommand(s, func(ctx context.Context, call app.Call, id uuid.UUID, n int, r reasonRequest) (app.Result, error) {
		return a.RejectMDF(ctx, call, id, n, r.Reason)
	}))
	g.POST("/registrations/:id/mdf-requests/:n/withdraw", mdfCommand(s, func(ctx context.Context, call app.Call, id uuid.UUID, n int, r reasonRequest) (app.Result, error) {
		return a.WithdrawMDF(ctx, call, id, n, r.Reason)
	}))
	g.POST("/registrations/:id/mdf-requests/:n/receipts", s.uploadReceipt)
	g.GET("/registrations/:id/mdf-requests/:n/receipts/:sha256", s.downloadReceipt)
	g.POST("/registrations/:id/mdf-requests/:n/claim", mdfCommand(s, func(ctx context.Context, call app.Call, id uuid.UUID, n int, r mdfClaimRequest) (app.Result, error) {
		return a.ClaimMDF(ctx, call, id, n, r.Amount, r.Receipts, r.Note)
	}))
	g.POST("/registrations/:id/mdf-requests/:n/reimburse", mdfCommand(s, func(ctx context.Context, call app.Call, id uuid.UUID, n int, r mdfReimburseRequest) (app.Result, error) {
		return a.ReimburseMDF(ctx, call, id, n, r.Amount, r.Reason)
	}))
	g.POST("/registrations/:id/mdf-requests/:n/reject-claim", mdfCommand(s, func(ctx context.Context, call app.Call, id uuid.UUID, n int, r reasonRequest) (app.Result, error) {
		return a.RejectMDFClaim(ctx, call, id, n, r.Reason)
	}))
	g.GET("/mdf-requests", s.listMDFRequests)
	g.GET("/mdf-budgets", s.listMDFBudgets)
}

// mdfAccount reads the account of the registration in the path, if the
// caller may see it.
func (s *Server) mdfAccount(c echo.Context) (uuid.UUID, app.MDFAccount, error) {
	id, err := registrationIDParam(c)
	if err != nil {
		return uuid.Nil, app.MDFAccount{}, err
	}
	acc, err := s.app.MDFAccountOf(callerOf(c), id)
	return id, acc, err
}

func mdfRequestNumber(c echo.Context) (int, error) {
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil || n < 1 || strconv.Itoa(n) != c.Param("n") {
		return 0, domain.Errorf(domain.ENOTFOUND, "MDF request not found")
	}
	return n, nil
}

func (s *Server) getMDF(c echo.Context) error {
	_, acc, err := s.mdfAccount(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, acc)
}

func (s *Server) getMDFRequest(c echo.Context) error {
	id, acc, err := s.mdfAccount(c)
	if err != nil {
		return err
	}
	n, err := mdfRequestNumber(c)
	if err != nil {
		return err
	}
	if n > len(acc.Requests) {
		return domain.Errorf(domain.ENOTFOUND, "MDF request not found")
	}
	return c.JSON(http.StatusOK, projections.MDFRequestItem{RegistrationID: id, PartnerID: acc.PartnerID, MDFRequest: acc.Requests[n-1]})
}

func (s *Server) requestMDF(c echo.Context) error {
	id, _, err := s.mdfAccount(c)
	if err != nil {
		return err
	}
	var in domain.MDFRequestInput
	call, err := bindCall(c, &in)
	if err != nil {
		return err
	}
	n, err := s.app.RequestMDF(c.Request().Context(), call, id, in)
	if err != nil {
		return err
	}
	_, acc, err := s.mdfAccount(c)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/registrations/"+id.String()+"/mdf-requests/"+strconv.Itoa(n))
	return c.JSON(http.StatusCreated, MDFRequestCreated{Request: n, Account: acc})
}

// mdfCommand is the shape of every POST .../mdf-requests/{n}/<action>
// handler: the registration must be visible to the caller (another
// partner's answers as one that does not exist), then the body is decoded
// and the command run; the answer is the account after it.
func mdfCommand[Req any](s *Server, run func(ctx context.Context, call app.Call, id uuid.UUID, n int, req Req) (app.Result, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, _, err := s.mdfAccount(c)
		if err != nil {
			return err
		}
		n, err := mdfRequestNumber(c)
		if err != nil {
			return err
		}
		var req Req
		call, err := bindOptionalCall(c, &req)
		if err != nil {
			return err
		}
		if _, err := run(c.Request().Context(), call, id, n, req); err != nil {
			return err
		}
		_, acc, err := s.mdfAccount(c)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, acc)
	}
}

// uploadReceipt stores the request body as a receipt of an approved MDF
// request, through the attachment store like a proof document: what can be
// checked before the body is read is checked first, and the document is
// published under its hash only once the command is decided.
func (s *Server) uploadReceipt(c echo.Context) error {
	id, _, err := s.mdfAccount(c)
	if err != nil {
		return err
	}
	n, err := mdfRequestNumber(c)
	if err != nil {
		return err
	}
	call, err := callFor(c, nil)
	if err != nil {
		return err
	}
	if s.attachments == nil {
		return domain.Errorf(domain.EUNAVAILABLE, "attachments are not configured")
	}
	name := uploadName(c)
	ctx := c.Request().Context()
	if err := s.attachments.CheckSize(c.Request().ContentLength); err != nil {
		return err
	}
	if call.IdempotencyKey == "" {
		if err := s.app.CheckMDFReceipt(ctx, call, id, n, name); err != nil {
			return err
		}
	}
	r, publish, discard, err := s.stageDocument(c, &call, name)
	if err != nil {
		return err
	}
	defer discard()
	if _, err := s.app.AddMDFReceipt(ctx, call, id, n, r, publish); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/registrations/"+id.String()+"/mdf-requests/"+strconv.Itoa(n)+"/receipts/"+r.SHA256)
	return c.JSON(http.StatusCreated, r)
}

func (s *Server) downloadReceipt(c echo.Context) error {
	_, acc, err := s.mdfAccount(c)
	if err != nil {
		return err
	}
	n, err := mdfRequestNumber(c)
	if err != nil {
		return err
	}
	sha := strings.ToLower(c.Param("sha256"))
	var r *domain.Attachment
	if n <= len(acc.Requests) {
		q := acc.Requests[n-1]
		if i := slices.IndexFunc(q.Receipts, func(a domain.Attachment) bool { return a.SHA256 == sha }); i >= 0 {
			r = &q.Receipts[i]
		}
	}
	if r == nil || s.attachments == nil {
		return domain.Errorf(domain.ENOTFOUND, "receipt not found")
	}
	return s.serveDocument(c, sha, r.Filename)
}

var mdfStates = []string{
	string(domain.MDFRequestedState), string(domain.MDFApprovedState), string(domain.MDFRejectedState),
	string(domain.MDFClaimedState), string(domain.MDFReimbursedState), string(domain.MDFClaimRejectedState),
	string(domain.MDFWithdrawnState),
}

var quarterShape = regexp.MustCompile(`^[0-9]{4}-Q[1-4]$`)

func (s *Server) listMDFRequests(c echo.Context) error {
	f := projections.MDFRequestFilter{PartnerID: c.QueryParam("partner_id"), State: domain.MDFState(c.QueryParam("state"))}
	if f.State != "" && !slices.Contains(mdfStates, string(f.State)) {
		return &domain.Error{Code: domain.EINVALID, Message: "invalid query parameters", Fields: []domain.FieldError{
			{Field: "state", Code: domain.FieldInvalid, Message: "must be one of: " + strings.Join(mdfStates, ", ")},
		}}
	}
	items, err := s.app.MDFRequests(callerOf(c), f)
	if err != nil {
		return err
	}
	return listAnswer(c, "mdf-requests", items)
}

func (s *Server) listMDFBudgets(c echo.Context) error {
	quarter := c.QueryParam("quarter")
	if quarter != "" && !quarterShape.MatchString(quarter) {
		return &domain.Error{Code: domain.EINVALID, Message: "invalid query parameters", Fields: []domain.FieldError{
			{Field: "quarter", Code: domain.FieldInvalid, Message: "must be a quarter such as 2026-Q2"},
		}}
	}
	items, err := s.app.MDFBudgets(callerOf(c), c.QueryParam("partner_id"), quarter)
	if err != nil {
		return err
	}
	return listAnswer(c, "mdf-budgets", items)
}
