package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// The Salesforce connector (docs/crm.md) is a delivery target kind of the
// outbox: a subscription of kind "salesforce" gets its deliveries from the
// same table, checkpoint, retries, dead-letter list and replay as a
// webhook; only the sender differs. For each delivery it upserts the
// registration's opportunity, as of the delivered event, by an external-ID
// field (PATCH /services/data/vXX.X/sobjects/Opportunity/Dealreg_Id__c/{id}),
// or, for several due deliveries, one composite request
// (PATCH /services/data/vXX.X/composite/sobjects/Opportunity/Dealreg_Id__c).
// It authenticates with the OAuth 2.0 client-credentials flow of a
// connected app and keeps the access token in memory; a 401
// INVALID_SESSION_ID fetches a new one and sends again once.

// SalesforceInput is what an admin sets on a Salesforce subscription.
type SalesforceInput struct {
	ClientID        string            `json:"client_id"`
	ClientSecret    string            `json:"client_secret"`
	APIVersion      string            `json:"api_version,omitempty"`
	Object          string            `json:"object,omitempty"`
	ExternalIDField string            `json:"external_id_field,omitempty"`
	Fields          map[string]string `json:"fields,omitempty"`
	Stages          map[string]string `json:"stages,omitempty"`
	BatchSize       int               `json:"batch_size,omitempty"`
}

// SalesforceView is a Salesforce subscription's settings as the API shows
// them: never the client secret.
type SalesforceView struct {
	ClientID        string            `json:"client_id"`
	APIVersion      string            `json:"api_version"`
	Object          string            `json:"object"`
	ExternalIDField string            `json:"external_id_field"`
	Fields          map[string]string `json:"fields"`
	Stages          map[string]string `json:"stages"`
	BatchSize       int               `json:"batch_size"`
}

// The connector's defaults (docs/crm.md).
var (
	DefaultSalesforceFields = map[string]string{
		"Name":                        "name",
		"StageName":                   "stage",
		"CloseDate":                   "close_date",
		"Amount":                      "amount",
		"Dealreg_Partner_Id__c":       "partner_id",
		"Dealreg_Partner__c":          "partner_name",
		"Dealreg_Status__c":           "status",
		"Dealreg_Protection_Start__c": "protection_start",
		"Dealreg_Protection_End__c":   "protection_end",
		DefaultEchoField:              "write_id",
	}
	DefaultSalesforceStages = map[string]string{
		string(domain.StatusActive):             "Qualification",
		string(domain.StatusExtensionRequested): "Qualification",
		string(domain.StatusClosedWon):          "Closed Won",
		string(domain.StatusClosedLost):         "Closed Lost",
	}
	// DefaultSalesforceEvents are what a Salesforce subscription follows
	// when it names none: the approval and what changes a protected deal.
	DefaultSalesforceEvents = []string{"RegistrationApproved", "RegistrationExtensionGranted", "RegistrationRenewed",
		"RegistrationExpired", "RegistrationClosedWon", "RegistrationClosedLost", "RegistrationRevoked", "RegistrationConflictDecided"}
)

const (
	defaultSalesforceAPI   = "62.0"
	maxSalesforceBatch     = 200 // the composite sObject collections limit
	defaultSalesforceBatch = 50
)

var (
	sfAPIVersion = regexp.MustCompile(`^[1-9][0-9]\.[0-9]$`)
	sfName       = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,79}$`)
)

// salesforceTarget validates in and returns the target to store, its
// secret sealed.
func (d *dispatcher) salesforceTarget(in *SalesforceInput) (*domain.SalesforceTarget, error) {
	if in == nil {
		return nil, sfInvalid("salesforce", "a salesforce subscription needs its settings")
	}
	t := &domain.SalesforceTarget{ClientID: strings.TrimSpace(in.ClientID), APIVersion: in.APIVersion, Object: in.Object,
		ExternalIDField: in.ExternalIDField, Fields: in.Fields, Stages: in.Stages, BatchSize: in.BatchSize}
	if t.APIVersion == "" {
		t.APIVersion = defaultSalesforceAPI
	}
	if t.Object == "" {
		t.Object = "Opportunity"
	}
	if t.ExternalIDField == "" {
		t.ExternalIDField = "Dealreg_Id__c"
	}
	if t.Fields == nil {
		t.Fields = DefaultSalesforceFields
	}
	if t.Stages == nil {
		t.Stages = DefaultSalesforceStages
	}
	if t.BatchSize == 0 {
		t.BatchSize = defaultSalesforceBatch
	}
	var fields []domain.FieldError
	add := func(f, msg string) {
		fields = append(fields, domain.FieldError{Field: "salesforce." + f, Code: domain.FieldInvalid, Message: msg})
	}
	if t.ClientID == "" || len(t.ClientID) > 256 {
		add("client_id", "the connected app's consumer key is required")
	}
	if in.ClientSecret == "" || len(in.ClientSecret) > 256 {
		add("client_secret", "the connected app's consumer secret is required")
	}
	if !sfAPIVersion.MatchString(t.APIVersion) {
		add("api_version", `must be a REST API version such as "62.0"`)
	}
	if !sfName.MatchString(t.Object) {
		add("object", "must be an sObject API name")
	}
	if !sfName.MatchString(t.ExternalIDField) {
		add("external_id_field", "must be a field API name")
	}
	for f, src := range t.Fields {
		if !sfName.MatchString(f) || f == t.ExternalIDField {
			add("fields."+f, "must be a field API name other than the external ID field")
		} else if !slices.Contains(domain.SalesforceSources, src) {
			add("fields."+f, "must be one of "+strings.Join(domain.SalesforceSources, ", "))
		}
	}
	for st := range t.Stages {
		if !slices.Contains(sfStatuses, domain.Status(st)) {
			add("stages."+st, "not a registration status")
		}
	}
	if t.BatchSize < 1 || t.BatchSize > maxSalesforceBatch {
		add("batch_size", fmt.Sprintf("must be from 1 to %d", maxSalesforceBatch))
	}
	if len(fields) > 0 {
		return nil, &domain.Error{Code: domain.EINVALID, Message: "the salesforce settings are invalid", Fields: fields}
	}
	t.SealedClientSecret = d.seal(in.ClientSecret)
	return t, nil
}

func sfInvalid(field, msg string) error {
	return &domain.Error{Code: domain.EINVALID, Message: "the salesforce settings are invalid",
		Fields: []domain.FieldError{{Field: field, Code: domain.FieldInvalid, Message: msg}}}
}

func salesforceView(t *domain.SalesforceTarget) *SalesforceView {
	if t == nil {
		return nil
	}
	return &SalesforceView{ClientID: t.ClientID, APIVersion: t.APIVersion, Object: t.Object, ExternalIDField: t.ExternalIDField,
		Fields: t.Fields, Stages: t.Stages, BatchSize: t.BatchSize}
}

// sfToken is an access token of one subscription's connected app.
type sfToken struct {
	access, instance string
}

// salesforceClient is the connector's thin net/http client; it shares
// the dispatcher's HTTP client (the SSRF-checking dialer, no redirects,
// the attempt timeout) and keeps one token per subscription.
type salesforceClient struct {
	d      *dispatcher
	mu     sync.Mutex
	tokens map[string]sfToken
}

// sfError is one error of Salesforce's REST API answer.
type sfError struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields,omitempty"`
}

// sfResult is one record's result of an upsert.
type sfResult struct {
	ID      string    `json:"id"`
	Success bool      `json:"success"`
	Created bool      `json:"created"`
	Errors  []sfError `json:"errors"`
}

// sfAnswer is what one exchange with the API came to.
type sfAnswer struct {
	code       int
	retryAfter time.Duration
	throttled  bool // REQUEST_LIMIT_EXCEEDED, 429 or 503: wait at least retryAfter
	err        error
}

// token returns the subscription's access token, fetching one with the
// client-credentials flow when there is none (or fresh is set).
func (c *salesforceClient) token(ctx context.Context, sub projections.OutboxSubscription, fresh bool) (sfToken, sfAnswer) {
	// Keyed by the subscription and its login URL: an admin who points
	// the subscription at another org gets a token of that org.
	key := sub.ID + "\x00" + sub.URL
	c.mu.Lock()
	t, ok := c.tokens[key]
	c.mu.Unlock()
	if ok && !fresh {
		return t, sfAnswer{}
	}
	secret, err := c.d.open(sub.Salesforce.SealedClientSecret)
	if err != nil {
		return t, sfAnswer{err: err}
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {sub.Salesforce.ClientID}, "client_secret": {secret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(sub.URL, "/")+"/services/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return t, sfAnswer{err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res, err := c.d.client.Do(req)
	if err != nil {
		return t, sfAnswer{err: fmt.Errorf("salesforce token: %w", err)}
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if res.StatusCode != http.StatusOK {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(raw, &e)
		a := sfAnswer{code: res.StatusCode, retryAfter: parseRetryAfter(res.Header.Get("Retry-After"), c.d.s.clock.Now()),
			err: fmt.Errorf("salesforce token: HTTP %d %s: %s", res.StatusCode, e.Error, e.Description)}
		a.throttled = res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusServiceUnavailable
		return t, a
	}
	var body struct {
		AccessToken string `json:"access_token"`
		InstanceURL string `json:"instance_url"`
	}
	if err := json.Unmarshal(raw, &body); err != nil || body.AccessToken == "" || body.InstanceURL == "" {
		return t, sfAnswer{code: res.StatusCode, err: errors.New("salesforce token: the answer carries no access_token and instance_url")}
	}
	if u, err := url.Parse(body.InstanceURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return t, sfAnswer{code: res.StatusCode, err: errors.New("salesforce token: instance_url is not an http(s) URL")}
	}
	t = sfToken{access: body.AccessToken, instance: strings.TrimRight(body.InstanceURL, "/")}
	c.mu.Lock()
	c.tokens[key] = t
	c.mu.Unlock()
	return t, sfAnswer{}
}

// upsert sends records (each carrying the external ID field) as one
// upsert, or one composite upsert when there are several; on 401
// INVALID_SESSION_ID it gets a new token and sends once more.
func (c *salesforceClient) upsert(ctx context.Context, sub projections.OutboxSubscription, records []map[string]any) (sfAnswer, []sfResult) {
	t := sub.Salesforce
	for try := 0; ; try++ {
		tok, a := c.token(ctx, sub, try > 0)
		if a.err != nil {
			return a, nil
		}
		base := tok.instance + "/services/data/v" + t.APIVersion
		var method, target string
		var body any
		if len(records) == 1 {
			rec := maps(records[0])
			id, _ := rec[t.ExternalIDField].(string)
			delete(rec, t.ExternalIDField)
			method, target, body = http.MethodPatch, base+"/sobjects/"+t.Object+"/"+t.ExternalIDField+"/"+url.PathEscape(id), rec
		} else {
			recs := make([]map[string]any, len(records))
			for i, r := range records {
				recs[i] = maps(r)
				recs[i]["attributes"] = map[string]string{"type": t.Object}
			}
			method, target, body = http.MethodPatch, base+"/composite/sobjects/"+t.Object+"/"+t.ExternalIDField,
				map[string]any{"allOrNone": true, "records": recs}
		}
		a, results := c.send(ctx, method, target, tok.access, body, len(records) > 1)
		if a.code == http.StatusUnauthorized && try == 0 {
			continue // INVALID_SESSION_ID: the token expired or was revoked
		}
		return a, results
	}
}

func maps(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// send makes one API request and reads Salesforce's answer: 201 created
// or 200/204 updated for a single upsert (a body of results for a
// composite one, every record's success required), an array of errors
// otherwise.
func (c *salesforceClient) send(ctx context.Context, method, target, token string, body any, composite bool) (sfAnswer, []sfResult) {
	raw, err := json.Marshal(body)
	if err != nil {
		return sfAnswer{err: err}, nil
	}
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(raw))
	if err != nil {
		return sfAnswer{err: err}, nil
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "dealreg-salesforce/1")
	res, err := c.d.client.Do(req)
	if err != nil {
		return sfAnswer{err: err}, nil
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	a := sfAnswer{code: res.StatusCode, retryAfter: parseRetryAfter(res.Header.Get("Retry-After"), c.d.s.clock.Now())}
	switch {
	case res.StatusCode == http.StatusNoContent:
		return a, []sfResult{{Success: true}}
	case res.StatusCode == http.StatusOK || res.StatusCode == http.StatusCreated:
		var results []sfResult
		if composite {
			err = json.Unmarshal(out, &results)
		} else {
			var r sfResult
			err = json.Unmarshal(out, &r)
			results = []sfResult{r}
		}
		if err != nil {
			a.err = fmt.Errorf("salesforce: HTTP %d with an unreadable body", res.StatusCode)
			return a, nil
		}
		for _, r := range results {
			if !r.Success {
				a.err = fmt.Errorf("salesforce: a record failed: %s", describeSF(r.Errors))
				return a, results
			}
		}
		return a, results
	}
	var errs []sfError
	_ = json.Unmarshal(out, &errs)
	a.err = fmt.Errorf("salesforce: HTTP %d: %s", res.StatusCode, describeSF(errs))
	limited := slices.ContainsFunc(errs, func(e sfError) bool { return e.ErrorCode == "REQUEST_LIMIT_EXCEEDED" })
	if limited || res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusServiceUnavailable {
		a.throttled = true
		if limited && a.retryAfter < sfLimitWait {
			a.retryAfter = sfLimitWait
		}
	}
	return a, nil
}

// sfStatuses are the statuses a registration written to Salesforce can
// be in (it was approved).
var sfStatuses = []domain.Status{domain.StatusActive, domain.StatusExtensionRequested, domain.StatusExpired,
	domain.StatusClosedWon, domain.StatusClosedLost, domain.StatusWithdrawn, domain.StatusRevoked}

// sfLimitWait is the least a REQUEST_LIMIT_EXCEEDED waits: the org's API
// allowance is counted over a rolling 24 h, so retrying at once is futile.
const sfLimitWait = 15 * time.Minute

func describeSF(errs []sfError) string {
	if len(errs) == 0 {
		return "no error detail"
	}
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.ErrorCode + ": " + e.Message
		if len(e.Fields) > 0 {
			parts[i] += " (" + strings.Join(e.Fields, ", ") + ")"
		}
	}
	return strings.Join(parts, "; ")
}

// opportunityRecord maps the registration of stream, as of the event at
// position pos, onto the target's fields; ok is false when there is
// nothing to write (not a registration, or one never approved).
func (s *Service) opportunityRecord(ctx context.Context, t *domain.SalesforceTarget, del projections.OutboxDelivery) (map[string]any, bool, error) {
	if !strings.HasPrefix(del.Stream, "registration-") {
		return nil, false, nil
	}
	recs, err := s.store.ReadStream(ctx, del.Stream, domain.ReadStreamOptions{})
	if err != nil {
		return nil, false, err
	}
	n := 0
	for n < len(recs) && recs[n].Position <= del.Position {
		n++
	}
	events, err := domain.DecodeRecorded(recs[:n])
	if err != nil {
		return nil, false, err
	}
	r, err := domain.Rebuild(events...)
	if err != nil {
		return nil, false, err
	}
	if _, approved := r.ApprovedTerms(); !approved {
		return nil, false, nil
	}
	acc, opp := r.Account(), r.Opportunity()
	partnerName := r.PartnerID()
	if p, ok := s.Directory.Partner(r.PartnerID()); ok && p.Name != "" {
		partnerName = p.Name
	}
	day := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.UTC().Format(time.DateOnly)
	}
	closeDate := opp.ExpectedCloseDate
	if closeDate.IsZero() {
		closeDate = r.ProtectionEnd()
	}
	values := map[string]any{
		"registration_id":  r.ID().String(),
		"partner_id":       r.PartnerID(),
		"partner_name":     partnerName,
		"name":             acc.CompanyName + " (" + partnerName + ")",
		"account_name":     acc.CompanyName,
		"account_domain":   acc.Domain,
		"account_country":  acc.Country,
		"currency":         opp.EstimatedValue.Currency,
		"close_date":       day(closeDate),
		"status":           string(r.Status()),
		"protection_start": day(r.ProtectionStart()),
		"protection_end":   day(r.ProtectionEnd()),
		"product_lines":    strings.Join(opp.ProductLines, ";"),
		"write_id":         del.ID,
	}
	if !opp.EstimatedValue.IsZero() {
		// A JSON number with the decimal's exact digits: never a float.
		values["amount"] = json.Number(opp.EstimatedValue.Amount.String())
	}
	if st, ok := t.Stages[string(r.Status())]; ok {
		values["stage"] = st
	}
	rec := map[string]any{t.ExternalIDField: r.ID().String()}
	for f, src := range t.Fields {
		if v, ok := values[src]; ok && v != nil {
			rec[f] = v
		}
	}
	return rec, true, nil
}

// deliverSalesforce sends the due deliveries of a Salesforce subscription:
// up to its batch size at once, in ledger order, stopping before a second
// delivery of the same registration (one upsert carries one record per
// external ID). All-or-none: every delivery of the request is recorded
// with the same outcome. It returns how many were delivered and whether
// to go on.
func (s *Service) deliverSalesforce(ctx context.Context, sub projections.OutboxSubscription) (int, bool, error) {
	d := s.dispatch
	t := sub.Salesforce
	if t == nil {
		return 0, false, errors.New("salesforce subscription " + sub.ID + " has no settings")
	}
	now := s.clock.Now()
	due, err := s.Outbox.Deliveries(ctx, sub.ID, projections.DeliveryPending, 0, t.BatchSize)
	if err != nil {
		return 0, false, err
	}
	var batch []projections.OutboxDelivery
	var records []map[string]any
	seen := map[string]bool{}
	var skipped []projections.OutboxDelivery
	for _, del := range due {
		if del.NextAt.After(now) || seen[del.Stream] {
			break
		}
		rec, ok, err := s.opportunityRecord(ctx, t, del)
		if err != nil {
			return 0, false, err
		}
		if !ok {
			skipped = append(skipped, del)
			continue
		}
		seen[del.Stream] = true
		batch = append(batch, del)
		records = append(records, rec)
	}
	// Events with nothing to write (another stream, a deal never
	// approved) are done without a request.
	for _, del := range skipped {
		out := projections.AttemptOutcome{Delivered: true, Attempt: projections.OutboxAttempt{Delivery: del.ID, N: del.Attempts + 1, At: now,
			Error: "nothing to write to Salesforce for this event"}}
		if err := s.Outbox.Record(ctx, del, out); err != nil {
			return 0, false, err
		}
	}
	if len(batch) == 0 {
		return len(skipped), len(skipped) > 0, nil
	}
	start := time.Now()
	a, _ := d.salesforce.upsert(ctx, sub, records)
	latency := time.Since(start)
	if ctx.Err() != nil {
		return len(skipped), false, ctx.Err()
	}
	for _, del := range batch {
		out := d.judge(del, now, a.code, a.retryAfter, latency, a.err, a.throttled)
		if err := s.Outbox.Record(ctx, del, out); err != nil {
			return len(skipped), false, err
		}
	}
	if a.err != nil {
		return len(skipped), false, nil
	}
	return len(skipped) + len(batch), true, nil
}
