package web

// consoleRoutes adds the conflict desk, the analytics dashboards, partner
// administration, the policy editor, the auditor's view with its exports,
// and the public customer attestation page to the route table.
func (h *Handler) consoleRoutes() {
	h.mux.HandleFunc("GET /console/conflicts", h.staff(staffReader, h.conflictQueue))
	h.mux.HandleFunc("GET /console/conflicts/{id}", h.staff(staffReader, h.casePage))
	h.mux.HandleFunc("POST /console/conflicts/{id}", h.staff(staffReader, h.caseCommand))
	h.mux.HandleFunc("GET /console/analytics", h.staff(staffReader, h.analytics))
	h.mux.HandleFunc("GET /console/partners", h.staff(staffReader, h.partners))
	h.mux.HandleFunc("POST /console/partners", h.staff(staffReader, h.enrol))
	h.mux.HandleFunc("GET /console/partners/{id}", h.staff(staffReader, h.partnerPage))
	h.mux.HandleFunc("POST /console/partners/{id}", h.staff(staffReader, h.partnerCommand))
	h.mux.HandleFunc("GET /console/policies", h.staff(policyReader, h.consolePolicies))
	h.mux.HandleFunc("GET /console/policies/new", h.staff(policyReader, h.draftForm))
	h.mux.HandleFunc("POST /console/policies", h.staff(policyReader, h.proposeDraft))
	h.mux.HandleFunc("GET /console/policies/{v}", h.staff(policyReader, h.policyPage))
	h.mux.HandleFunc("POST /console/policies/{v}/publish", h.staff(policyReader, h.publish))
	h.mux.HandleFunc("GET /console/audit", h.staff(staffReader, h.audit))
	h.mux.HandleFunc("GET /console/export/{list}", h.staff(staffReader, h.export))
	h.mux.HandleFunc("GET /attest/{token}", h.attestShow)
	h.mux.HandleFunc("POST /attest/{token}", h.attestAnswer)
}
