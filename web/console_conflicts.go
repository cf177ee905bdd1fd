package web

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// The conflict desk of the console: the queue of cases with their SLA
// state, and a case's page with both claims, the evidence, the customer
// attestations, the recommendation and the decision forms. Every command
// goes through the same app methods as api/conflicts.go.

// staff wraps a console handler for the roles allowed; anyone else signed
// in (a partner user, direct sales) gets exactly the page of a path that
// does not exist, so the console reveals nothing of itself.
func (h *Handler) staff(allowed func(domain.Role) bool, next func(http.ResponseWriter, *http.Request, app.Session)) http.HandlerFunc {
	return h.signedIn(func(app.Session) bool { return true }, func(w http.ResponseWriter, r *http.Request, s app.Session) {
		if !allowed(s.User.Role) {
			h.fail(w, r, http.StatusNotFound, "error.not-found")
			return
		}
		next(w, r, s)
	})
}

// staffReader: vendor reviewers and auditors read the console.
func staffReader(r domain.Role) bool { return r.Reviewer() || r == domain.RoleAuditor }

type conflictRow struct {
	projections.ConflictView
	Overdue, DueSoon bool
	Partners         []string
}

type conflictQueueData struct {
	Status string
	Items  []conflictRow
}

func (h *Handler) partnerName(id string) string {
	if p, ok := h.app.Directory.Partner(id); ok && p.Name != "" {
		return p.Name
	}
	return id
}

func (h *Handler) conflictQueue(w http.ResponseWriter, r *http.Request, s app.Session) {
	status := r.URL.Query().Get("status")
	if status != "decided" {
		status = "open"
	}
	now := h.app.Clock().Now()
	data := conflictQueueData{Status: status}
	for _, v := range h.app.Conflicts.Queue(projections.QueueFilter{Status: status}) {
		row := conflictRow{ConflictView: v}
		row.Overdue = v.Status == "open" && !now.Before(v.DueAt)
		row.DueSoon = v.Status == "open" && !row.Overdue && v.DueAt.Before(now.Add(24*time.Hour))
		for _, p := range v.Parties {
			if p.Kind == domain.PartyPartner {
				row.Partners = append(row.Partners, h.partnerName(p.PartnerID))
			} else {
				row.Partners = append(row.Partners, "direct: "+p.Owner)
			}
		}
		data.Items = append(data.Items, row)
	}
	h.render(w, http.StatusOK, "console_conflicts", h.newPage(w, r, "console.conflicts.title", data))
}

// partyRow is one claimant beside the others, with what it submitted.
type partyRow struct {
	domain.Party
	Name        string
	Company     string
	Status      domain.Status
	Evidence    []projections.EvidenceEntry
	Requests    []projections.EvidenceRequest
	Recommended bool
	Share       string // the co-registration form's values
	Duties      string
}

type caseData struct {
	C            projections.ConflictView
	Parties      []partyRow
	Overdue      bool
	MayDecide    bool
	Attestable   bool
	Errors       map[string]string
	FormError    string
	Outcome      string
	Winner       string
	Rationale    string
	Clause       string
	Reason       string
	EvParty      string
	EvRequest    string
	ContactName  string
	ContactEmail string
	ContactLang  string
	Mails        bool   // the server e-mails the link (else it is shown once)
	Link         string // an attestation link just made, shown once
	LinkExpires  time.Time
	Attestations []attestationRow
	Outcomes     []string
	PvP          bool              // partner vs partner: only partners, who may share
	Names        map[string]string // party key → partner or owner name
}

type attestationRow struct {
	projections.AttestationEntry
	Partner string
	Mail    string // the link's e-mail: pending, delivered, dead; "" if none
}

func (h *Handler) caseData(r *http.Request, s app.Session) (caseData, error) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return caseData{}, domain.Errorf(domain.ENOTFOUND, "conflict not found")
	}
	v, ok := h.app.Conflicts.Get(id)
	if !ok {
		return caseData{}, domain.Errorf(domain.ENOTFOUND, "conflict not found")
	}
	now := h.app.Clock().Now()
	d := caseData{C: v, Overdue: v.Status == "open" && !now.Before(v.DueAt), Errors: map[string]string{},
		Outcomes: []string{string(domain.OutcomeAward), string(domain.OutcomeCoRegister), string(domain.OutcomeRejectAll)}}
	d.MayDecide = v.Status == "open" && s.User.Role.ConflictRank() > 0
	d.PvP = v.Kind == domain.ConflictPartnerVsPartner
	d.Attestable = d.MayDecide && d.PvP
	d.Mails = h.app.MailsEnabled()
	if v.Recommendation != nil {
		d.Winner, d.Clause, d.Outcome = v.Recommendation.Winner, v.Recommendation.Clause, string(domain.OutcomeAward)
	}
	names := map[string]string{}
	for _, p := range v.Parties {
		row := partyRow{Party: p, Recommended: v.Recommendation != nil && v.Recommendation.Winner == p.Key}
		if p.Kind == domain.PartyPartner {
			row.Name = h.partnerName(p.PartnerID)
			if reg, err := h.app.Visible(s.Caller, p.RegistrationID); err == nil {
				row.Company, row.Status = reg.CompanyName, reg.Status
			}
		} else {
			row.Name = p.Owner
		}
		names[p.Key] = row.Name
		for _, e := range v.Evidence {
			if e.PartyKey == p.Key {
				row.Evidence = append(row.Evidence, e)
			}
		}
		for _, q := range v.Requests {
			if q.PartyKey == p.Key {
				row.Requests = append(row.Requests, q)
			}
		}
		d.Parties = append(d.Parties, row)
	}
	d.Names = names
	for _, a := range v.Attestations {
		row := attestationRow{AttestationEntry: a, Partner: names[a.PartyKey]}
		if del, ok := h.app.AttestationMail(r.Context(), a.ID); ok {
			row.Mail = del.Status
		}
		d.Attestations = append(d.Attestations, row)
	}
	return d, nil
}

func (h *Handler) casePage(w http.ResponseWriter, r *http.Request, s app.Session) {
	d, err := h.caseData(r, s)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	h.render(w, http.StatusOK, "console_conflict", h.newPage(w, r, "console.case.title", d))
}

// sharePath is a co-registration share's field in a domain error.
var sharePath = regexp.MustCompile(`^shares\[(\d+)\]\.(\w+)$`)

// caseCommand runs one of the case's forms. A refusal comes back on the
// case's page: field errors beside their fields, any other refusal (the
// level, a decision against the recommendation at level 1) above the
// forms, with everything typed kept.
func (h *Handler) caseCommand(w http.ResponseWriter, r *http.Request, s app.Session) {
	d, err := h.caseData(r, s)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	l := h.newPage(w, r, "", nil).L
	ctx, call, id := r.Context(), app.Call{Caller: s.Caller}, d.C.ID
	action := r.PostFormValue("action")
	var shareKeys []string
	done := action
	switch action {
	case "decide":
		d.Outcome, d.Winner = r.PostFormValue("outcome"), r.PostFormValue("winner")
		d.Rationale, d.Clause = r.PostFormValue("rationale"), r.PostFormValue("policy_clause")
		dec := domain.ConflictDecision{Outcome: domain.ConflictOutcome(d.Outcome), Rationale: d.Rationale, PolicyClause: d.Clause}
		if dec.Outcome == domain.OutcomeAward {
			dec.Winner = d.Winner
		}
		for i := range d.Parties {
			p := &d.Parties[i]
			p.Share, p.Duties = strings.TrimSpace(r.PostFormValue("share."+p.Key)), r.PostFormValue("duties."+p.Key)
			if dec.Outcome != domain.OutcomeCoRegister || p.Share == "" {
				continue
			}
			pct, err := decimal.NewFromString(p.Share)
			if err != nil {
				d.Errors["share."+p.Key] = l.T("error.amount")
				continue
			}
			dec.Shares = append(dec.Shares, domain.Share{PartyKey: p.Key, Percent: pct, Responsibilities: p.Duties})
			shareKeys = append(shareKeys, p.Key)
		}
		if len(d.Errors) == 0 {
			err = h.app.DecideConflict(ctx, call, id, dec)
		}
	case "escalate":
		d.Reason = r.PostFormValue("reason")
		err = h.app.EscalateConflict(ctx, call, id, d.Reason)
	case "request-evidence":
		d.EvParty, d.EvRequest = r.PostFormValue("party_key"), r.PostFormValue("request")
		err = h.app.RequestEvidence(ctx, call, id, d.EvParty, d.EvRequest)
		if fe := fieldErrors(l, err); fe != nil {
			// The evidence form's fields are named apart from the others.
			for k, v := range fe {
				d.Errors["evidence."+k] = v
			}
			err = errFieldsShown
		}
	case "attest":
		d.ContactName, d.ContactEmail, d.ContactLang = r.PostFormValue("contact_name"), r.PostFormValue("contact_email"), r.PostFormValue("contact_language")
		var link app.AttestationLink
		link, err = h.app.RequestAttestation(ctx, call, id, domain.AttestationContact{Name: d.ContactName, Email: d.ContactEmail, Language: d.ContactLang})
		if fe := fieldErrors(l, err); fe != nil {
			for k, v := range fe {
				d.Errors["contact."+k] = v
			}
			err = errFieldsShown
		}
		if err == nil {
			// The token is shown once, to send; it is not in the URL of a
			// redirect (nor in any log of one).
			nd, err := h.caseData(r, s)
			if err != nil {
				h.failErr(w, r, err)
				return
			}
			flash := l.T("console.attest.sent")
			if h.app.MailsEnabled() {
				// The outbox e-mails it; the reviewer never holds the
				// link, so cannot answer in the customer's place.
				flash = l.T("console.attest.mailed", domain.NormalizeEmail(d.ContactEmail), link.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC"))
			} else {
				nd.Link, nd.LinkExpires = absoluteURL(r, link.Path), link.ExpiresAt
			}
			p := h.newPage(w, r, "console.case.title", nd)
			p.Flash = flash
			h.render(w, http.StatusOK, "console_conflict", p)
			return
		}
	default:
		d.Errors["action"] = l.fieldMessage(domain.FieldInvalid, "")
	}
	if err == nil && len(d.Errors) == 0 {
		http.Redirect(w, r, "/console/conflicts/"+id.String()+"?done=case-"+done, http.StatusSeeOther)
		return
	}
	if err != nil && !errors.Is(err, errFieldsShown) {
		if fe := fieldErrors(l, err); fe != nil {
			for k, v := range fe {
				if m := sharePath.FindStringSubmatch(k); m != nil {
					var i int
					for _, c := range m[1] {
						i = i*10 + int(c-'0')
					}
					if i < len(shareKeys) {
						k = "share." + shareKeys[i]
						if m[2] == "responsibilities" {
							k = "duties." + shareKeys[i]
						}
					}
				}
				d.Errors[k] = v
			}
		} else {
			switch domain.ErrorCode(err) {
			case domain.ECONFLICT, domain.EFORBIDDEN:
				var de *domain.Error
				if errors.As(err, &de) {
					d.FormError = de.Message
				}
			default:
				h.failErr(w, r, err)
				return
			}
		}
	}
	h.render(w, http.StatusUnprocessableEntity, "console_conflict", h.newPage(w, r, "console.case.title", d))
}

// errFieldsShown marks a refusal whose field errors are already in the
// page's data.
var errFieldsShown = errors.New("field errors shown")

// absoluteURL is path under the address the request came to, for a link
// to send by e-mail.
func absoluteURL(r *http.Request, path string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return (&url.URL{Scheme: scheme, Host: r.Host, Path: path}).String()
}
