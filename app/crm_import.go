package app

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dealreg/dealreg/domain"
)

// The bulk import of the CRM's existing opportunities into the direct
// pipeline (docs/crm.md): POST /v1/direct-opportunities:batch and
// `dealreg import-crm FILE.csv` both come here. Every row is validated
// before anything is appended: one bad row refuses the whole batch, with
// a field error per problem naming its row. Idempotent by CRM ID: the
// opportunity's ID is derived from it, so a row imported before (by either
// path, at any time) is reported "existing" and appended again never.

// MaxImportRows bounds one import batch.
const MaxImportRows = 1000

// ImportItem is what became of one row.
type ImportItem struct {
	Row    int       `json:"row"` // from 1: the first opportunity (in a CSV, the line after the header)
	CRMID  string    `json:"crm_id"`
	ID     uuid.UUID `json:"id"`
	Status string    `json:"status"` // "imported" or "existing"
}

// ImportResult answers an import.
type ImportResult struct {
	Imported int          `json:"imported"`
	Existing int          `json:"existing"`
	Items    []ImportItem `json:"items"`
}

// CRMDirectID is the ID of the direct opportunity imported for CRM ID
// crmID: the same on every import.
func CRMDirectID(crmID string) uuid.UUID {
	return uuid.NewSHA1(idNamespace, []byte("crm-direct\x00"+crmID))
}

func rowField(row int, field string) string { return fmt.Sprintf("rows[%d].%s", row, field) }

// ImportDirect imports opportunities from the CRM into the direct
// pipeline, all or nothing as far as validation goes. Only direct sales
// (the CRM integration) and admins may.
func (s *Service) ImportDirect(ctx context.Context, call Call, opps []domain.DirectOpportunity) (ImportResult, error) {
	if call.Actor.Role != domain.RoleDirectSales && call.Actor.Role != domain.RoleAdmin {
		return ImportResult{}, domain.Errorf(domain.EFORBIDDEN, "only direct sales may import CRM opportunities")
	}
	if len(opps) == 0 {
		return ImportResult{}, &domain.Error{Code: domain.EINVALID, Message: "the import is empty",
			Fields: []domain.FieldError{{Field: "opportunities", Code: domain.FieldRequired, Message: "give at least one opportunity"}}}
	}
	if len(opps) > MaxImportRows {
		return ImportResult{}, &domain.Error{Code: domain.ETOOLARGE, Message: fmt.Sprintf("an import carries at most %d opportunities; split it", MaxImportRows),
			Fields: []domain.FieldError{{Field: "opportunities", Code: domain.FieldTooLong, Message: fmt.Sprintf("%d rows, at most %d", len(opps), MaxImportRows)}}}
	}
	now := s.clock.Now()
	var fields []domain.FieldError
	seen := map[string]int{}
	for i, o := range opps {
		row := i + 1
		crm := strings.TrimSpace(o.CRMID)
		if crm == "" {
			fields = append(fields, domain.FieldError{Field: rowField(row, "crm_id"), Code: domain.FieldRequired, Message: "the CRM ID is required: the import is idempotent by it"})
		} else if first, dup := seen[crm]; dup {
			fields = append(fields, domain.FieldError{Field: rowField(row, "crm_id"), Code: domain.FieldDuplicate, Message: fmt.Sprintf("the same CRM ID as row %d", first)})
		} else {
			seen[crm] = row
		}
		if _, err := domain.RecordDirectOpportunity(call.Actor, uuid.Nil, o, now); err != nil {
			var de *domain.Error
			if !errors.As(err, &de) {
				return ImportResult{}, err
			}
			if len(de.Fields) == 0 {
				return ImportResult{}, err // not the row's fault: the caller's
			}
			for _, f := range de.Fields {
				f.Field = rowField(row, f.Field)
				fields = append(fields, f)
			}
		}
	}
	if len(fields) > 0 {
		return ImportResult{}, &domain.Error{Code: domain.EINVALID, Message: "the import is invalid; nothing was imported", Fields: fields}
	}
	byCRM := map[string]uuid.UUID{}
	for _, v := range s.Pipeline.List(false) {
		if v.CRMID != "" {
			byCRM[v.CRMID] = v.ID
		}
	}
	// Each row is its own stream, idempotent by its CRM ID: a request's
	// Idempotency-Key must not make the second row a replay of the first.
	call.IdempotencyKey, call.RequestHash = "", ""
	res := ImportResult{Items: make([]ImportItem, 0, len(opps))}
	for i, o := range opps {
		crm := strings.TrimSpace(o.CRMID)
		item := ImportItem{Row: i + 1, CRMID: crm, ID: CRMDirectID(crm), Status: "imported"}
		if id, ok := byCRM[crm]; ok {
			item.ID, item.Status = id, "existing"
		} else {
			r, err := s.execute(ctx, call, domain.DirectStream(item.ID), func(stored []domain.Event) ([]domain.Event, error) {
				if len(stored) > 0 {
					return nil, nil // imported before
				}
				return domain.RecordDirectOpportunity(call.Actor, item.ID, o, s.clock.Now())
			})
			if err != nil {
				return res, fmt.Errorf("row %d (CRM ID %s): %w", item.Row, crm, err)
			}
			if r.Position == 0 && !r.Replayed {
				item.Status = "existing"
			}
		}
		if item.Status == "existing" {
			res.Existing++
		} else {
			res.Imported++
		}
		res.Items = append(res.Items, item)
	}
	return res, nil
}

// CRMImportColumns are the columns of an import CSV; crm_id, company_name,
// country and owner are required, the others may be left out.
var CRMImportColumns = []string{"crm_id", "company_name", "domain", "tax_id", "country", "region", "industry",
	"product_lines", "amount", "currency", "buying_stage", "first_contact_date", "owner"}

// ParseCRMCSV reads an import CSV (a header naming CRMImportColumns, then
// one opportunity a line; product lines separated by ";", dates as
// YYYY-MM-DD). A row that cannot be read is a field error naming it, all
// of them reported together; at most MaxImportRows rows.
func ParseCRMCSV(r io.Reader) ([]domain.DirectOpportunity, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err != nil {
		return nil, domain.Errorf(domain.EINVALID, "the CSV has no header line: %v", err)
	}
	col := map[string]int{}
	var fields []domain.FieldError
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !slices.Contains(CRMImportColumns, h) {
			fields = append(fields, domain.FieldError{Field: "header", Code: domain.FieldInvalid, Message: fmt.Sprintf("unknown column %q (columns: %s)", h, strings.Join(CRMImportColumns, ", "))})
		}
		col[h] = i
	}
	for _, req := range []string{"crm_id", "company_name", "country", "owner"} {
		if _, ok := col[req]; !ok {
			fields = append(fields, domain.FieldError{Field: "header", Code: domain.FieldRequired, Message: "column " + req + " is required"})
		}
	}
	if len(fields) > 0 {
		return nil, &domain.Error{Code: domain.EINVALID, Message: "the CSV header is invalid", Fields: fields}
	}
	var out []domain.DirectOpportunity
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fields = append(fields, domain.FieldError{Field: rowField(row, "line"), Code: domain.FieldInvalid, Message: err.Error()})
			break
		}
		if row > MaxImportRows {
			return nil, domain.Errorf(domain.ETOOLARGE, "an import carries at most %d opportunities; split the file", MaxImportRows)
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		o := domain.DirectOpportunity{CRMID: get("crm_id"), Owner: get("owner"), BuyingStage: domain.BuyingStage(get("buying_stage")),
			Account: domain.Account{CompanyName: get("company_name"), Domain: get("domain"), TaxID: get("tax_id"), Country: get("country"),
				Region: get("region"), Industry: get("industry")}}
		if pl := get("product_lines"); pl != "" {
			for _, p := range strings.Split(pl, ";") {
				if p = strings.TrimSpace(p); p != "" {
					o.ProductLines = append(o.ProductLines, p)
				}
			}
		}
		if a := get("amount"); a != "" {
			amt, err := decimal.NewFromString(a)
			if err != nil {
				fields = append(fields, domain.FieldError{Field: rowField(row, "amount"), Code: domain.FieldInvalid, Message: "must be a decimal number"})
			}
			o.EstimatedValue = domain.Money{Amount: amt, Currency: get("currency")}
		}
		if d := get("first_contact_date"); d != "" {
			t, err := time.Parse(time.DateOnly, d)
			if err != nil {
				fields = append(fields, domain.FieldError{Field: rowField(row, "first_contact_date"), Code: domain.FieldInvalid, Message: "must be a date, YYYY-MM-DD"})
			}
			o.FirstContactDate = t
		}
		out = append(out, o)
	}
	if len(fields) > 0 {
		return nil, &domain.Error{Code: domain.EINVALID, Message: "the CSV is invalid; nothing was imported", Fields: fields}
	}
	return out, nil
}
