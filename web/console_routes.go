package web

// consoleRoutes adds the conflict desk, the analytics dashboards and the
// public customer attestation page to the route table.
func (h *Handler) consoleRoutes() {
	h.mux.HandleFunc("GET /console/conflicts", h.staff(staffReader, h.conflictQueue))
	h.mux.HandleFunc("GET /console/conflicts/{id}", h.staff(staffReader, h.casePage))
	h.mux.HandleFunc("POST /console/conflicts/{id}", h.staff(staffReader, h.caseCommand))
	h.mux.HandleFunc("GET /console/analytics", h.staff(staffReader, h.analytics))
	h.mux.HandleFunc("GET /attest/{token}", h.attestShow)
	h.mux.HandleFunc("POST /attest/{token}", h.attestAnswer)
}
