package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/dealreg/dealreg/api"
	"github.com/dealreg/dealreg/app"
	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// The policy editor: the versions with their state, a version's document
// and its changes against the version in force, a new draft typed as JSON
// or YAML (read by api.ParsePolicyText, the API's reader, every field
// error listed beside the text, the text kept), and publication with an
// effective date. The domain's policy book decides who may propose and
// publish (channel leaders and admins; executives for an emergency).

// policyReader: vendor staff, auditors and the channel leader.
func policyReader(r domain.Role) bool { return staffReader(r) || r == domain.RoleChannelLeader }

func mayOwnPolicy(r domain.Role) bool { return r == domain.RoleChannelLeader || r == domain.RoleAdmin }

type consolePoliciesData struct {
	Versions   []projections.PolicyVersionView
	InForce    int
	MayPropose bool
}

func (h *Handler) consolePolicies(w http.ResponseWriter, r *http.Request, s app.Session) {
	vs, err := h.app.PolicyVersions(s.Caller)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	h.render(w, http.StatusOK, "console_policies", h.newPage(w, r, "console.policies.title",
		consolePoliciesData{Versions: vs, InForce: h.app.Policy().Version, MayPropose: mayOwnPolicy(s.User.Role)}))
}

type policyField struct{ Field, Message string }

type draftData struct {
	Text      string
	Format    string
	Fields    []policyField
	FormError string
}

func (h *Handler) draftForm(w http.ResponseWriter, r *http.Request, s app.Session) {
	cur, err := h.app.CurrentPolicy(s.Caller)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	// The draft starts from the version in force, numbered as the next.
	vs, err := h.app.PolicyVersions(s.Caller)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	draft := cur.Policy
	for _, v := range vs {
		draft.Version = max(draft.Version, v.Policy.Version)
	}
	draft.Version++
	b, _ := json.MarshalIndent(draft, "", "  ")
	h.render(w, http.StatusOK, "console_policy_draft", h.newPage(w, r, "console.policies.new", draftData{Text: string(b), Format: "json"}))
}

// proposeDraft reads the typed document and proposes it as the next
// version. A document that does not parse or validate comes back with
// every field's error beside it and the text as typed.
func (h *Handler) proposeDraft(w http.ResponseWriter, r *http.Request, s app.Session) {
	d := draftData{Text: r.PostFormValue("document"), Format: r.PostFormValue("format")}
	if d.Format != "yaml" {
		d.Format = "json"
	}
	l := h.newPage(w, r, "", nil).L
	p, err := api.ParsePolicyText([]byte(d.Text), d.Format == "yaml")
	var v projections.PolicyVersionView
	if err == nil {
		v, err = h.app.ProposePolicy(r.Context(), app.Call{Caller: s.Caller}, p)
	}
	if err != nil {
		var de *domain.Error
		if !asDomainError(err, &de) || (de.Code != domain.EINVALID && de.Code != domain.EFORBIDDEN && de.Code != domain.ECONFLICT && de.Code != domain.ETOOLARGE) {
			h.failErr(w, r, err)
			return
		}
		d.FormError = de.Message
		for _, f := range de.Fields {
			d.Fields = append(d.Fields, policyField{Field: f.Field, Message: l.fieldMessage(f.Code, f.Message)})
		}
		h.render(w, http.StatusUnprocessableEntity, "console_policy_draft", h.newPage(w, r, "console.policies.new", d))
		return
	}
	http.Redirect(w, r, "/console/policies/"+strconv.Itoa(v.Policy.Version)+"?done=policy-proposed", http.StatusSeeOther)
}

type policyData struct {
	V          projections.PolicyVersionView
	Document   string
	InForce    int
	Changes    []domain.PolicyChange
	MayPublish bool
	Effective  string
	Emergency  bool
	Rationale  string
	Errors     map[string]string
	FormError  string
}

func (h *Handler) policyData(r *http.Request, s app.Session) (policyData, error) {
	n, err := strconv.Atoi(r.PathValue("v"))
	if err != nil || n < 1 || strconv.Itoa(n) != r.PathValue("v") {
		return policyData{}, domain.Errorf(domain.ENOTFOUND, "policy version not found")
	}
	v, err := h.app.PolicyVersion(s.Caller, n)
	if err != nil {
		return policyData{}, err
	}
	b, _ := json.MarshalIndent(v.Policy, "", "  ")
	d := policyData{V: v, Document: string(b), InForce: h.app.Policy().Version, Errors: map[string]string{},
		MayPublish: !v.Published && !v.Withdrawn && (mayOwnPolicy(s.User.Role) || s.User.Role == domain.RoleExecutive)}
	if d.InForce != n {
		if d.Changes, err = h.app.PolicyDiff(s.Caller, d.InForce, n); err != nil {
			return policyData{}, err
		}
	}
	return d, nil
}

func (h *Handler) policyPage(w http.ResponseWriter, r *http.Request, s app.Session) {
	d, err := h.policyData(r, s)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	h.render(w, http.StatusOK, "console_policy", h.newPage(w, r, "console.policy.title", d))
}

// publish publishes a draft from an effective date (a day, from 00:00 UTC).
func (h *Handler) publish(w http.ResponseWriter, r *http.Request, s app.Session) {
	d, err := h.policyData(r, s)
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	l := h.newPage(w, r, "", nil).L
	d.Effective, d.Emergency, d.Rationale = r.PostFormValue("effective_from"), r.PostFormValue("emergency") == "on", r.PostFormValue("rationale")
	from, perr := time.Parse(time.DateOnly, d.Effective)
	if perr != nil {
		d.Errors["effective_from"] = l.T("error.date")
	} else {
		_, err = h.app.PublishPolicy(r.Context(), app.Call{Caller: s.Caller}, domain.Publication{
			Version: d.V.Policy.Version, EffectiveFrom: from, Emergency: d.Emergency, Rationale: d.Rationale})
		if err == nil {
			http.Redirect(w, r, "/console/policies/"+strconv.Itoa(d.V.Policy.Version)+"?done=policy-published", http.StatusSeeOther)
			return
		}
		var ok bool
		if d.Errors, d.FormError, ok = refusal(l, err); !ok {
			h.failErr(w, r, err)
			return
		}
	}
	h.render(w, http.StatusUnprocessableEntity, "console_policy", h.newPage(w, r, "console.policy.title", d))
}
